package betting

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// TestDryRun: a dry-run client sends none of the order-changing requests
// (each fails with ErrDryRun and is logged at Info with its instructions,
// never a secret), and still reads.
func TestDryRun(t *testing.T) {
	ctx := context.Background()
	f := &fakeBetting{bodies: map[string][][]byte{MethodListCurrentOrders: {shared(t, "list_current_orders.json")}}}
	var logs bytes.Buffer
	c := newBetting(t, f, &logs)
	c.SetDryRun(true)
	logins := len(f.calls)
	for _, tc := range []struct {
		method string
		call   func() error
		want   string // in the logged instructions
	}{
		{MethodPlaceOrders, func() error {
			_, err := c.PlaceOrders(ctx, PlaceRequest{MarketID: "1.1", CustomerRef: "s.1", Instructions: []PlaceInstruction{limitInstr(7, 1.01, 2, "dry-0")}})
			return err
		}, `"customerOrderRef":"dry-0"`},
		{MethodPlaceOrders, func() error {
			_, err := c.PlaceResolved(ctx, PlaceRequest{MarketID: "1.1", CustomerRef: "s.2", Instructions: []PlaceInstruction{limitInstr(7, 1.01, 2, "dry-1")}}, 3)
			return err
		}, `"customerOrderRef":"dry-1"`},
		{MethodCancelOrders, func() error {
			_, err := c.CancelOrders(ctx, CancelRequest{MarketID: "1.1", CustomerRef: "s.3", Instructions: []CancelInstruction{{BetID: "42"}}})
			return err
		}, `"betId":"42"`},
		{MethodReplaceOrders, func() error {
			_, err := c.ReplaceOrders(ctx, ReplaceRequest{MarketID: "1.1", CustomerRef: "s.4", Instructions: []ReplaceInstruction{{BetID: "43", NewPrice: 1.02}}})
			return err
		}, `"newPrice":1.02`},
		{MethodUpdateOrders, func() error {
			_, err := c.UpdateOrders(ctx, UpdateRequest{MarketID: "1.1", CustomerRef: "s.5", Instructions: []UpdateInstruction{{BetID: "44", NewPersistenceType: "PERSIST"}}})
			return err
		}, `"newPersistenceType":"PERSIST"`},
	} {
		logs.Reset()
		if err := tc.call(); !errors.Is(err, ErrDryRun) || errors.Is(err, ErrOutcomeUnknown) {
			t.Errorf("%s: err %v, want ErrDryRun", tc.method, err)
		}
		out := logs.String()
		if !strings.Contains(out, `"level":"INFO","msg":"dry run: order request not sent","method":"`+tc.method+`","market":"1.1"`) ||
			!strings.Contains(out, strings.ReplaceAll(tc.want, `"`, `\"`)) || strings.Count(out, "dry run") != 1 {
			t.Errorf("%s logged:\n%s", tc.method, out)
		}
		for _, secret := range []string{testAppKey, testPass, c.session} {
			if strings.Contains(out, secret) {
				t.Errorf("%s: a secret in the log:\n%s", tc.method, out)
			}
		}
	}
	if len(f.calls) != logins {
		t.Fatalf("%d order requests sent", len(f.calls)-logins)
	}
	if _, err := c.ListCurrentOrders(ctx, CurrentOrdersFilter{}); err != nil || len(f.calls) != logins+1 {
		t.Errorf("a read in a dry run: %v, %d calls", err, len(f.calls)-logins)
	}
}

package betting

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

// rewrite re-encodes a real answer with change applied to its result, for
// the answers a fault makes (DUPLICATE_TRANSACTION, an order carrying the
// client's reference) that no recording holds.
func rewrite(t *testing.T, body []byte, change func(result map[string]any)) []byte {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	change(env["result"].(map[string]any))
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPlaceResolved: a lost answer is resent with the same customerRef,
// DUPLICATE_TRANSACTION is understood as "placed, answer lost", and the
// orders are found by reference: never placed twice, never given up.
func TestPlaceResolved(t *testing.T) {
	duplicate := rewrite(t, shared(t, "betting/place_orders_failure.json"), func(r map[string]any) {
		r["errorCode"] = "DUPLICATE_TRANSACTION"
	})
	// The real listCurrentOrders answer, its order carrying our reference
	// as it would after our placement.
	current := rewrite(t, shared(t, "list_current_orders.json"), func(r map[string]any) {
		o := r["currentOrders"].([]any)[0].(map[string]any)
		o["marketId"], o["customerOrderRef"], o["customerStrategyRef"] = "1.125897784", "lowest-layer-0", "lowest-layer"
	})
	empty := shared(t, "betting/list_current_orders_empty.json")
	req := PlaceRequest{MarketID: "1.125897784", CustomerRef: "run7.2a", CustomerStrategyRef: "lowest-layer",
		Instructions: []PlaceInstruction{limitInstr(6412775, 1.22, 2, "lowest-layer-0")}}
	for _, tc := range []struct {
		name     string
		place    [][]byte
		current  []byte
		drops    int // placeOrders calls dropped before the answers are given
		attempts int
		places   int    // placeOrders requests the exchange receives
		betID    string // "" for an unknown outcome
	}{
		{name: "answer lost, resent, placed the second time", place: [][]byte{shared(t, "place_orders.json")}, current: empty,
			drops: 1, attempts: 3, places: 2, betID: "71962975289"},
		{name: "answer lost, the copy is a duplicate: found by reference", place: [][]byte{duplicate}, current: current,
			drops: 1, attempts: 3, places: 2, betID: "71958694780"},
		{name: "every answer lost, found by reference at the end", current: current,
			drops: 3, attempts: 3, places: 3, betID: "71958694780"},
		{name: "every answer lost and nothing found: still unknown", current: empty,
			drops: 3, attempts: 3, places: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeBetting{bodies: map[string][][]byte{MethodPlaceOrders: tc.place, MethodListCurrentOrders: {tc.current}}}
			f.fault = func(m string, n int) string {
				if m == MethodPlaceOrders && n < tc.drops {
					return "drop"
				}
				return ""
			}
			c := newBetting(t, f, nil)
			rep, err := c.PlaceResolved(context.Background(), req, tc.attempts)
			var places []string
			for _, call := range f.calls {
				if call.Method == MethodPlaceOrders {
					places = append(places, string(call.Params["customerRef"]))
				}
			}
			if len(places) != tc.places {
				t.Errorf("%d placeOrders requests, want %d", len(places), tc.places)
			}
			for _, ref := range places {
				if ref != `"run7.2a"` {
					t.Errorf("a request was resent with customerRef %s", ref)
				}
			}
			if tc.betID == "" {
				if !errors.Is(err, ErrOutcomeUnknown) {
					t.Fatalf("err %v, want the outcome unknown", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.InstructionReports) != 1 || rep.InstructionReports[0].BetID != tc.betID || rep.InstructionReports[0].Status != "SUCCESS" {
				t.Errorf("report %+v, want bet %s", rep, tc.betID)
			}
		})
	}
	c := newBetting(t, &fakeBetting{}, nil)
	noRef := req
	noRef.Instructions = []PlaceInstruction{limitInstr(1, 2, 2, "")}
	var le *LimitError
	if _, err := c.PlaceResolved(context.Background(), noRef, 3); !errors.As(err, &le) {
		t.Errorf("no customerOrderRef: err %v", err)
	}
}

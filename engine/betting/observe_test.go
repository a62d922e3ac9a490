package betting

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestObserve: Config.Observe is told of each call with the error the
// caller gets: an order request's execution error, an API refusal, and
// success, with the method named.
func TestObserve(t *testing.T) {
	f := &fakeBetting{bodies: map[string][][]byte{
		MethodPlaceOrders:     {shared(t, "betting/place_orders_failure.json"), shared(t, "place_orders.json")},
		MethodGetAccountFunds: {shared(t, "accounts/get_account_funds_error_no_appkey.json")},
	}}
	c := newBetting(t, f, nil)
	type seen struct {
		method string
		err    error
	}
	var got []seen
	c.cfg.Observe = func(method string, took time.Duration, err error) {
		if took <= 0 {
			t.Errorf("%s took %v", method, took)
		}
		got = append(got, seen{method, err})
	}
	req := PlaceRequest{MarketID: "1.125897784", CustomerRef: "s1.1", Instructions: []PlaceInstruction{limitInstr(9486865, 1.01, 2, "x-0")}}
	c.PlaceOrders(context.Background(), req)
	c.PlaceOrders(context.Background(), req)
	c.GetAccountFunds(context.Background())
	if len(got) != 3 {
		t.Fatalf("observed %d calls, want 3: %v", len(got), got)
	}
	var ee *ExecutionError
	if got[0].method != MethodPlaceOrders || !errors.As(got[0].err, &ee) || ee.Code != ExecPermissionDenied {
		t.Errorf("refused placement observed as %s %v", got[0].method, got[0].err)
	}
	if got[1].method != MethodPlaceOrders || got[1].err != nil {
		t.Errorf("placement observed as %s %v", got[1].method, got[1].err)
	}
	if got[2].method != MethodGetAccountFunds || !IsAPIError(got[2].err, APINoAppKey) {
		t.Errorf("funds observed as %s %v", got[2].method, got[2].err)
	}
}

func TestErrorCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{&ExecutionError{Code: ExecInsufficientFunds}, "INSUFFICIENT_FUNDS"},
		{&APIError{Code: "TOO_MANY_REQUESTS"}, "TOO_MANY_REQUESTS"},
		{&APIError{HTTPStatus: 503}, "HTTP_503"},
		{&UnknownOutcomeError{Cause: errors.New("dropped")}, "OUTCOME_UNKNOWN"},
		{&LimitError{Method: MethodPlaceOrders}, "NOT_SENT"},
		{errors.New("dial tcp: refused"), "REQUEST_FAILED"},
	} {
		if got := ErrorCode(tc.err); got != tc.want {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

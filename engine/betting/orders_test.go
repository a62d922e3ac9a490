package betting

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// rpcCall is one JSON-RPC request the fake exchange received.
type rpcCall struct {
	Method string
	Params map[string]json.RawMessage
	Header http.Header
}

// fakeBetting answers JSON-RPC calls with real response bodies, by method
// (the next body of a method's list each time, the last one repeated), and
// can fail on purpose: fault(method, n) returns what to do with the n-th
// call of method ("" answers normally, "drop" closes the connection without
// a reply, "hold" waits for release and then drops).
type fakeBetting struct {
	t       *testing.T
	mu      sync.Mutex
	bodies  map[string][][]byte
	calls   []rpcCall
	count   map[string]int
	fault   func(method string, n int) string
	held    chan struct{} // receives when a call is held
	release chan struct{}
}

func (f *fakeBetting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/login" {
		w.Header().Set("Content-Type", "application/json")
		w.Write(shared(f.t, "login_success.json"))
		return
	}
	var req struct {
		Method string                     `json:"method"`
		Params map[string]json.RawMessage `json:"params"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, rpcCall{req.Method, req.Params, r.Header.Clone()})
	if f.count == nil {
		f.count = map[string]int{}
	}
	n := f.count[req.Method]
	f.count[req.Method]++
	list := f.bodies[req.Method]
	fault := ""
	if f.fault != nil {
		fault = f.fault(req.Method, n)
	}
	f.mu.Unlock()
	switch fault {
	case "hold":
		f.held <- struct{}{}
		<-f.release
		fallthrough
	case "drop":
		hj, ok := w.(http.Hijacker)
		if !ok {
			f.t.Error("cannot hijack")
			return
		}
		c, _, err := hj.Hijack()
		if err == nil {
			c.Close()
		}
		return
	}
	if len(list) == 0 {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(list[min(n, len(list)-1)])
}

func (f *fakeBetting) methods() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var m []string
	for _, c := range f.calls {
		m = append(m, c.Method)
	}
	return m
}

// newBetting starts the fake over TLS on loopback and returns a client
// logged in to it, logging at debug level into logs.
func newBetting(t *testing.T, f *fakeBetting, logs *bytes.Buffer) *Client {
	t.Helper()
	if f.t == nil {
		f.t = t
	}
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	var lg *slog.Logger
	if logs != nil {
		lg = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c, err := New(Config{Endpoints: Local(srv.URL, srv.URL, ""), AppKey: testAppKey, Username: testUser, Password: testPass, HTTPClient: srv.Client(), Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

func limitInstr(sel int64, price, size float64, ref string) PlaceInstruction {
	return PlaceInstruction{OrderType: "LIMIT", SelectionID: sel, Side: "LAY", CustomerOrderRef: ref,
		LimitOrder: &LimitOrder{Size: size, Price: price, PersistenceType: "LAPSE"}}
}

func TestPlaceOrders(t *testing.T) {
	for _, tc := range []struct {
		file    string
		err     ExecutionErrorCode // "" for success
		instr   []InstructionErrorCode
		betID   string
		matched float64
	}{
		{file: "place_orders.json", betID: "71962975289"},
		{file: "betting/place_orders_success.json"},
		{file: "betting/place_orders_lapse.json", betID: "49078012097"},
		{file: "betting/place_orders_failure.json", err: ExecPermissionDenied, instr: []InstructionErrorCode{InstrErrorInOrder}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f := &fakeBetting{bodies: map[string][][]byte{MethodPlaceOrders: {shared(t, tc.file)}}}
			c := newBetting(t, f, nil)
			rep, err := c.PlaceOrders(context.Background(), PlaceRequest{MarketID: "1.125897784", CustomerRef: "s1.1", CustomerStrategyRef: "lowest-layer",
				MarketVersion: &MarketVersion{Version: 42}, Instructions: []PlaceInstruction{limitInstr(9486865, 1.01, 2, "lowest-layer-0")}})
			if tc.err != "" {
				var ee *ExecutionError
				if !errors.As(err, &ee) || ee.Code != tc.err || fmt.Sprint(ee.Instructions) != fmt.Sprint(tc.instr) || !IsExecutionError(err, tc.err) {
					t.Fatalf("err %v, want execution error %s %v", err, tc.err, tc.instr)
				}
				if errors.Is(err, ErrOutcomeUnknown) {
					t.Error("a refusal is not an unknown outcome")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep.Status != "SUCCESS" || len(rep.InstructionReports) == 0 || rep.InstructionReports[0].Status != "SUCCESS" {
				t.Fatalf("report %+v", rep)
			}
			if tc.betID != "" && rep.InstructionReports[0].BetID != tc.betID {
				t.Errorf("bet id %q, want %q", rep.InstructionReports[0].BetID, tc.betID)
			}
			call := f.calls[0]
			var instr []PlaceInstruction
			json.Unmarshal(call.Params["instructions"], &instr)
			if string(call.Params["customerRef"]) != `"s1.1"` || string(call.Params["customerStrategyRef"]) != `"lowest-layer"` ||
				string(call.Params["marketVersion"]) != `{"version":42}` || len(instr) != 1 || instr[0].CustomerOrderRef != "lowest-layer-0" || instr[0].LimitOrder.Price != 1.01 {
				t.Errorf("request params %s", call.Params)
			}
			if call.Header.Get("X-Authentication") != "session_token" || call.Header.Get("X-Application") != testAppKey {
				t.Errorf("headers %v", call.Header)
			}
		})
	}
}

func TestCancelReplaceUpdate(t *testing.T) {
	ctx := context.Background()
	f := &fakeBetting{bodies: map[string][][]byte{
		MethodCancelOrders:  {shared(t, "cancel_orders.json"), shared(t, "betting/cancel_orders_partly.json"), shared(t, "betting/cancel_orders_failure.json"), shared(t, "betting/cancel_orders_success.json")},
		MethodReplaceOrders: {shared(t, "replace_orders.json")},
		MethodUpdateOrders:  {shared(t, "update_orders.json")},
	}}
	c := newBetting(t, f, nil)
	rep, err := c.CancelOrders(ctx, CancelRequest{MarketID: "1.125897784", Instructions: []CancelInstruction{{BetID: "71965147269"}}, CustomerRef: "s.1"})
	if err != nil || rep.InstructionReports[0].SizeCancelled != 2 {
		t.Fatalf("cancel: %+v %v", rep, err)
	}
	rep, err = c.CancelOrders(ctx, CancelRequest{MarketID: "1.118298866", Instructions: []CancelInstruction{{BetID: "49078012097", SizeReduction: 0.5}}})
	if err != nil || rep.InstructionReports[0].SizeCancelled != 0.5 || rep.InstructionReports[0].Instruction.SizeReduction != 0.5 {
		t.Fatalf("partial cancel: %+v %v", rep, err)
	}
	// A request that succeeded as a whole with an instruction that failed:
	// no error, the instruction's code in its report.
	rep, err = c.CancelOrders(ctx, CancelRequest{MarketID: "1.179082386", Instructions: []CancelInstruction{{BetID: "228302937743"}}})
	if err != nil || rep.InstructionReports[0].Status != "FAILURE" || rep.InstructionReports[0].ErrorCode != InstrErrorInOrder {
		t.Fatalf("failed instruction: %+v %v", rep, err)
	}
	if _, err := c.CancelMarket(ctx, "1.179082386", "s.3"); err != nil {
		t.Fatal(err)
	}
	last := f.calls[len(f.calls)-1]
	if _, ok := last.Params["instructions"]; ok || string(last.Params["marketId"]) != `"1.179082386"` {
		t.Errorf("cancel-all params %s", last.Params)
	}
	if _, err := c.CancelMarket(ctx, "", "x"); err == nil {
		t.Error("CancelMarket without a market id was sent")
	}
	rr, err := c.ReplaceOrders(ctx, ReplaceRequest{MarketID: "1.125897784", Instructions: []ReplaceInstruction{{BetID: "71968034904", NewPrice: 1.02}}})
	if err != nil || rr.InstructionReports[0].CancelInstructionReport.SizeCancelled != 2 || rr.InstructionReports[0].PlaceInstructionReport.BetID != "71968276067" {
		t.Fatalf("replace: %+v %v", rr, err)
	}
	ur, err := c.UpdateOrders(ctx, UpdateRequest{MarketID: "1.125897784", Instructions: []UpdateInstruction{{BetID: "71967402919", NewPersistenceType: "PERSIST"}}})
	if err != nil || ur.InstructionReports[0].Instruction.NewPersistenceType != "PERSIST" {
		t.Fatalf("update: %+v %v", ur, err)
	}
}

// withMore re-encodes a real list answer with moreAvailable set, to make
// the fake serve it as one page of several.
func withMore(t *testing.T, body []byte) []byte {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	env["result"].(map[string]any)["moreAvailable"] = true
	b, _ := json.Marshal(env)
	return b
}

func TestListOrdersPaged(t *testing.T) {
	ctx := context.Background()
	cur := shared(t, "betting/list_current_orders.json")
	f := &fakeBetting{bodies: map[string][][]byte{
		MethodListCurrentOrders: {withMore(t, cur), shared(t, "list_current_orders.json")},
		// The real answer says moreAvailable; the empty one ends it.
		MethodListClearedOrders: {shared(t, "list_cleared_orders.json"), shared(t, "betting/list_cleared_orders_empty.json")},
	}}
	c := newBetting(t, f, nil)
	orders, err := c.ListCurrentOrders(ctx, CurrentOrdersFilter{CustomerStrategyRefs: []string{"lowest-layer"}, OrderProjection: "EXECUTABLE"})
	if err != nil {
		t.Fatal(err)
	}
	var first struct {
		Result struct{ CurrentOrders []CurrentOrder } `json:"result"`
	}
	json.Unmarshal(cur, &first)
	n := len(first.Result.CurrentOrders)
	if len(orders) != n+1 || orders[0].BetID != "228059754671" || orders[0].PriceSize.Price != 5 || orders[n].BetID != "71958694780" || orders[n].SizeMatched != 2 {
		t.Fatalf("%d orders: %+v", len(orders), orders)
	}
	if got := string(f.calls[0].Params["fromRecord"]) + "," + string(f.calls[1].Params["fromRecord"]); got != fmt.Sprintf("0,%d", n) {
		t.Errorf("fromRecord %s", got)
	}
	if string(f.calls[0].Params["customerStrategyRefs"]) != `["lowest-layer"]` {
		t.Errorf("params %s", f.calls[0].Params)
	}
	cleared, err := c.ListClearedOrders(ctx, ClearedOrdersFilter{MarketIDs: []string{"1.125875592"}})
	if err != nil || len(cleared) != 1 || cleared[0].Profit != -0.44 || cleared[0].BetOutcome != "LOST" {
		t.Fatalf("cleared %+v %v", cleared, err)
	}
	if last := f.calls[len(f.calls)-1]; string(last.Params["betStatus"]) != `"SETTLED"` || string(last.Params["fromRecord"]) != "1" {
		t.Errorf("cleared params %s", last.Params)
	}
}

func TestGetAccountFunds(t *testing.T) {
	f := &fakeBetting{bodies: map[string][][]byte{MethodGetAccountFunds: {shared(t, "accounts/get_account_funds_with_exposure.json"), shared(t, "accounts/get_account_funds_error_no_appkey.json")}}}
	c := newBetting(t, f, nil)
	funds, err := c.GetAccountFunds(context.Background())
	if err != nil || funds.AvailableToBetBalance != 1000 || funds.Exposure != -100 || funds.Wallet != "UK" {
		t.Fatalf("funds %+v %v", funds, err)
	}
	_, err = c.GetAccountFunds(context.Background())
	if !IsAPIError(err, APINoAppKey) {
		t.Errorf("err %v, want NO_APP_KEY", err)
	}
}

// TestGetAccountDetails: the account's currency from Betfair's
// getAccountDetails answer (and an error answer as a typed error).
func TestGetAccountDetails(t *testing.T) {
	f := &fakeBetting{bodies: map[string][][]byte{MethodGetAccountDetails: {shared(t, "accounts/get_account_details.json"), shared(t, "accounts/get_account_funds_error_no_appkey.json")}}}
	c := newBetting(t, f, nil)
	d, err := c.GetAccountDetails(context.Background())
	if err != nil || d.CurrencyCode != "GBP" || d.CountryCode != "AU" || d.PointsBalance != 10 {
		t.Fatalf("details %+v %v", d, err)
	}
	if _, err = c.GetAccountDetails(context.Background()); !IsAPIError(err, APINoAppKey) {
		t.Errorf("err %v, want NO_APP_KEY", err)
	}
}

func TestInstructionLimits(t *testing.T) {
	ctx := context.Background()
	f := &fakeBetting{bodies: map[string][][]byte{MethodPlaceOrders: {shared(t, "place_orders.json")}}}
	c := newBetting(t, f, nil)
	many := func(n int) []PlaceInstruction {
		in := make([]PlaceInstruction, n)
		for i := range in {
			in[i] = limitInstr(9486865, 1.01, 2, fmt.Sprintf("s-%d", i))
		}
		return in
	}
	var le *LimitError
	if _, err := c.PlaceOrders(ctx, PlaceRequest{MarketID: "1.1", Instructions: many(201)}); !errors.As(err, &le) {
		t.Errorf("201 placements: err %v", err)
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"cancel", func() error {
			_, err := c.CancelOrders(ctx, CancelRequest{MarketID: "1.1", Instructions: make([]CancelInstruction, 61)})
			return err
		}()},
		{"replace", func() error {
			_, err := c.ReplaceOrders(ctx, ReplaceRequest{MarketID: "1.1", Instructions: make([]ReplaceInstruction, 61)})
			return err
		}()},
		{"update", func() error {
			_, err := c.UpdateOrders(ctx, UpdateRequest{MarketID: "1.1", Instructions: make([]UpdateInstruction, 61)})
			return err
		}()},
		{"long order ref", func() error {
			in := many(1)
			in[0].CustomerOrderRef = strings.Repeat("r", 33)
			_, err := c.PlaceOrders(ctx, PlaceRequest{MarketID: "1.1", Instructions: in})
			return err
		}()},
		{"long strategy ref", func() error {
			_, err := c.PlaceOrders(ctx, PlaceRequest{MarketID: "1.1", Instructions: many(1), CustomerStrategyRef: strings.Repeat("s", 16)})
			return err
		}()},
	} {
		if !errors.As(tc.err, &le) {
			t.Errorf("%s: err %v, want a LimitError", tc.name, tc.err)
		}
	}
	if m := f.methods(); len(m) != 0 {
		t.Fatalf("refused requests were sent: %v", m)
	}
	// 450 placements in one market: 3 requests of 200, 200 and 50, each
	// with its own customerRef.
	seq := 0
	reps, errs := c.PlaceBatched(ctx, PlaceRequest{MarketID: "1.1", Instructions: many(450)}, func() string { seq++; return fmt.Sprintf("s.%d", seq) })
	if len(reps) != 3 || errors.Join(errs...) != nil {
		t.Fatalf("%d reports, errors %v", len(reps), errs)
	}
	var sizes, refs []string
	for _, call := range f.calls {
		var in []PlaceInstruction
		json.Unmarshal(call.Params["instructions"], &in)
		sizes = append(sizes, fmt.Sprint(len(in)))
		refs = append(refs, string(call.Params["customerRef"]))
	}
	if strings.Join(sizes, ",") != "200,200,50" || strings.Join(refs, ",") != `"s.1","s.2","s.3"` {
		t.Errorf("requests of %v with refs %v", sizes, refs)
	}
}

// TestUnknownOutcome: what the client says when an order request gets no
// usable answer, and when it is refused for sure.
func TestUnknownOutcome(t *testing.T) {
	var timeout map[string]any
	json.Unmarshal(shared(t, "place_orders.json"), &timeout)
	timeout["result"].(map[string]any)["status"] = "TIMEOUT"
	timeoutBody, _ := json.Marshal(timeout)
	for _, tc := range []struct {
		name    string
		bodies  [][]byte
		fault   string
		cancel  bool // cancel the request's context once the exchange holds it
		unknown bool
	}{
		{name: "connection dropped after the exchange read the request", fault: "drop", unknown: true},
		{name: "context ended while the exchange held the request", fault: "hold", cancel: true, unknown: true},
		{name: "TIMEOUT status", bodies: [][]byte{timeoutBody}, unknown: true},
		{name: "refused before the matcher (NO_APP_KEY)", bodies: [][]byte{shared(t, "accounts/get_account_funds_error_no_appkey.json")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeBetting{bodies: map[string][][]byte{MethodPlaceOrders: tc.bodies}, held: make(chan struct{}, 1), release: make(chan struct{})}
			f.fault = func(string, int) string { return tc.fault }
			c := newBetting(t, f, nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				go func() { <-f.held; cancel(); close(f.release) }()
			}
			_, err := c.PlaceOrders(ctx, PlaceRequest{MarketID: "1.125897784", CustomerRef: "run7.k", Instructions: []PlaceInstruction{limitInstr(9486865, 1.01, 2, "x-1")}})
			var ue *UnknownOutcomeError
			if got := errors.As(err, &ue); got != tc.unknown || errors.Is(err, ErrOutcomeUnknown) != tc.unknown {
				t.Fatalf("err %v: unknown %v, want %v", err, got, tc.unknown)
			}
			if tc.unknown && (ue.CustomerRef != "run7.k" || ue.MarketID != "1.125897784") {
				t.Errorf("unknown outcome names %q %q", ue.CustomerRef, ue.MarketID)
			}
		})
	}
	// A connection that cannot be made sent nothing: a plain error.
	f := &fakeBetting{}
	c := newBetting(t, f, nil)
	c.cfg.Endpoints.Betting = "https://127.0.0.1:1"
	if _, err := c.PlaceOrders(context.Background(), PlaceRequest{MarketID: "1.1", Instructions: []PlaceInstruction{limitInstr(1, 2, 2, "x-1")}}); err == nil || errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("refused connection: err %v", err)
	}
}

// TestOrderSecretsNeverLogged runs the order calls with a debug logger and
// checks that no secret reaches a log line or an error.
func TestOrderSecretsNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	f := &fakeBetting{bodies: map[string][][]byte{
		MethodPlaceOrders:       {shared(t, "betting/place_orders_failure.json")},
		MethodCancelOrders:      {shared(t, "cancel_orders.json")},
		MethodListCurrentOrders: {shared(t, "list_current_orders.json")},
		MethodGetAccountFunds:   {shared(t, "accounts/get_account_funds_error_no_appkey.json")},
	}}
	f.fault = func(m string, n int) string {
		if m == MethodCancelOrders && n == 1 {
			return "drop"
		}
		return ""
	}
	c := newBetting(t, f, &logs)
	ctx := context.Background()
	var errs []error
	_, err := c.PlaceOrders(ctx, PlaceRequest{MarketID: "1.1", Instructions: []PlaceInstruction{limitInstr(1, 2, 2, "x-1")}})
	errs = append(errs, err)
	for range 2 {
		_, err = c.CancelMarket(ctx, "1.1", "r.1")
		errs = append(errs, err)
	}
	_, err = c.ListCurrentOrders(ctx, CurrentOrdersFilter{})
	errs = append(errs, err)
	_, err = c.GetAccountFunds(ctx)
	errs = append(errs, err)
	text := logs.String()
	for _, e := range errs {
		if e != nil {
			text += e.Error()
		}
	}
	if !strings.Contains(text, "order request") || errs[0] == nil || errs[2] == nil || errs[4] == nil {
		t.Fatalf("the calls did not run as planned: %v\n%s", errs, logs.String())
	}
	for _, s := range []string{testSession, "session_token", testAppKey, testPass, testUser} {
		if strings.Contains(text, s) {
			t.Errorf("secret %q in logs or errors:\n%s", s, text)
		}
	}
}

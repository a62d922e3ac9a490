package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// betFake answers the Betting API with Betfair's real bodies by method;
// drop names methods whose connections it closes unanswered.
type betFake struct {
	// dir is ../shared's data/api, found (or the test skipped) on the
	// test's goroutine: a handler must not skip or fail a test.
	dir    string
	mu     sync.Mutex
	bodies map[string]string // method -> file under data/api
	drop   map[string]bool
	calls  []struct {
		Method string
		Params map[string]json.RawMessage
	}
}

func (f *betFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/login" {
		w.Write(apiBody(f.dir, "login_success.json"))
		return
	}
	var req struct {
		Method string                     `json:"method"`
		Params map[string]json.RawMessage `json:"params"`
	}
	body, _ := io.ReadAll(r.Body)
	json.Unmarshal(body, &req)
	f.mu.Lock()
	f.calls = append(f.calls, struct {
		Method string
		Params map[string]json.RawMessage
	}{req.Method, req.Params})
	drop, file := f.drop[req.Method], f.bodies[req.Method]
	f.mu.Unlock()
	if drop {
		if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
			c.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(apiBody(f.dir, file))
}

// apiBody is a real API answer from dir; a missing one is an empty body,
// which the client reports as an error that fails the test.
func apiBody(dir, name string) []byte {
	b, _ := os.ReadFile(filepath.Join(dir, name))
	return b
}

// placer lays its first ACTIVE runner once, at 1.01.
type placer struct {
	BaseStrategy
	o *Order
}

func (*placer) Name() string                   { return "betexec-test" }
func (*placer) CheckMarketBook(m *Market) bool { return true }
func (p *placer) ProcessMarketBook(m *Market) {
	if p.o == nil {
		r := m.Runners()[0]
		p.o = m.PlaceLimit(r.SelectionID, r.Handicap, Lay, 1.01, 2)
	}
}

// liveUnit is a loop with a betting executor against f, fed the first line
// of a real stream so that its strategy places one order.
func liveUnit(t *testing.T, f *betFake) (*unit, *marketState, *placer, chan struct{}) {
	t.Helper()
	if f.dir == "" {
		f.dir = testenv.Shared(t, "data/api")
	}
	c := fakeClient(t, f)
	ctx := context.Background()
	p := &placer{}
	u, err := newUnit(&Config{NewStrategy: func() (Strategy, error) { return p, nil }, Latency: FlumineLatency})
	if err != nil {
		t.Fatal(err)
	}
	woke := make(chan struct{}, 16)
	u.bet = &BettingConfig{Ctx: ctx, Client: c, Session: "t1", Seq: new(atomic.Uint64), Wake: func() { woke <- struct{}{} }}
	tape, err := os.Open(testenv.Shared(t, "data/streams/1.197931750"))
	if err != nil {
		t.Fatal(err)
	}
	defer tape.Close()
	line, _ := bufio.NewReader(tape).ReadBytes('\n')
	u.start()
	u.line(line, "stream", 1)
	if p.o == nil || p.o.Status() != Pending {
		t.Fatalf("no pending order after the first book: %v", p.o)
	}
	return u, u.markets["1.197931750"][0], p, woke
}

// fakeClient is a Betting API client of f over loopback TLS, logged in.
func fakeClient(t *testing.T, f *betFake) *betting.Client {
	t.Helper()
	if f.dir == "" {
		f.dir = testenv.Shared(t, "data/api")
	}
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c, err := betting.New(betting.Config{Endpoints: betting.Local(srv.URL, srv.URL, ""), AppKey: fakeAppKey, Username: fakeUsername, Password: fakePassword, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

// await waits for one answer and lets the loop take it.
func await(t *testing.T, u *unit, st *marketState, woke chan struct{}) {
	t.Helper()
	select {
	case <-woke:
	case <-time.After(30 * time.Second):
		t.Fatal("no answer from the exchange")
	}
	st.x.Advance(u.now, st.report)
}

func TestBettingExecutor(t *testing.T) {
	f := &betFake{dir: testenv.Shared(t, "data/api"), bodies: map[string]string{
		betting.MethodPlaceOrders:   "place_orders.json",
		betting.MethodCancelOrders:  "cancel_orders.json",
		betting.MethodReplaceOrders: "replace_orders.json",
	}}
	u, st, p, woke := liveUnit(t, f)
	await(t, u, st, woke)
	o := p.o
	if o.Status() != Executable || o.BetID() != "71962975289" {
		t.Fatalf("after placeOrders: %s bet %q", o.Status(), o.BetID())
	}
	var instr []betting.PlaceInstruction
	json.Unmarshal(f.calls[0].Params["instructions"], &instr)
	if got := string(f.calls[0].Params["customerRef"]) + string(f.calls[0].Params["customerStrategyRef"]) + string(f.calls[0].Params["marketId"]); got != `"t1.1""betexec-test""1.197931750"` ||
		len(instr) != 1 || instr[0].CustomerOrderRef != "betexec-test-0" || instr[0].Side != "LAY" || instr[0].LimitOrder.Price != 1.01 || instr[0].LimitOrder.PersistenceType != "LAPSE" {
		t.Errorf("placeOrders params %s", f.calls[0].Params)
	}

	// A cancel's answer moves no size: the order stream sets sizes.
	m := &Market{st: st, u: u}
	if !m.Cancel(o, 0) {
		t.Fatal("cancel not sent")
	}
	st.x.Flush()
	await(t, u, st, woke)
	if o.Status() != Executable || o.SizeCancelled() != 0 {
		t.Errorf("after cancelOrders: %s, cancelled %g", o.Status(), o.SizeCancelled())
	}
	var ci []betting.CancelInstruction
	json.Unmarshal(f.calls[1].Params["instructions"], &ci)
	if len(ci) != 1 || ci[0].BetID != "71962975289" || string(f.calls[1].Params["customerRef"]) != `"t1.2"` {
		t.Errorf("cancelOrders params %s", f.calls[1].Params)
	}

	// A replace completes the original and makes the new bet an order.
	if !m.Replace(o, 1.02) {
		t.Fatal("replace not sent")
	}
	st.x.Flush()
	await(t, u, st, woke)
	n := o.ReplacedBy()
	if o.Status() != ExecutionComplete || n == nil || n.BetID() != "71968276067" || n.Status() != Executable || n.ID() != 1 || n.CustomerRef() != "betexec-test-1" || n.Price() != 1.02 || n.Size() != 2 {
		t.Fatalf("after replaceOrders: original %s, new %v", o.Status(), n)
	}
}

// TestBettingExecutorUnknown: placements whose answers are all lost leave
// the order UNKNOWN (live, not failed), sent three times with one
// customerRef and never as a new request.
func TestBettingExecutorUnknown(t *testing.T) {
	f := &betFake{dir: testenv.Shared(t, "data/api"), bodies: map[string]string{betting.MethodListCurrentOrders: "betting/list_current_orders_empty.json"},
		drop: map[string]bool{betting.MethodPlaceOrders: true}}
	u, st, p, woke := liveUnit(t, f)
	await(t, u, st, woke)
	if p.o.Status() != Unknown || !p.o.Status().Live() || st.ctx(p.o.SelectionID(), p.o.Handicap()).live != 1 {
		t.Fatalf("order %s, live count %d", p.o.Status(), st.ctx(p.o.SelectionID(), p.o.Handicap()).live)
	}
	places := 0
	for _, c := range f.calls {
		if c.Method == betting.MethodPlaceOrders {
			places++
			if string(c.Params["customerRef"]) != `"t1.1"` {
				t.Errorf("resent as %s", c.Params["customerRef"])
			}
		}
	}
	if places != 3 {
		t.Errorf("%d placeOrders requests, want 3", places)
	}
}

// TestDeliverPlaceAnswer: what each kind of placeOrders answer makes of
// the order, before the order stream says more.
func TestDeliverPlaceAnswer(t *testing.T) {
	for _, tc := range []struct {
		name string
		ir   betting.PlaceInstructionReport
		want []ReportKind
	}{
		{"placed", betting.PlaceInstructionReport{Status: "SUCCESS", OrderStatus: "EXECUTABLE", BetID: "1"}, []ReportKind{Placed}},
		{"async accepted: stays pending", betting.PlaceInstructionReport{Status: "SUCCESS", OrderStatus: "PENDING"}, nil},
		{"accepted without a bet id", betting.PlaceInstructionReport{Status: "SUCCESS", OrderStatus: "EXECUTABLE"}, []ReportKind{NoAnswer}},
		{"refused", betting.PlaceInstructionReport{Status: "FAILURE", ErrorCode: betting.InstrInvalidOdds}, []ReportKind{PlaceFailed}},
	} {
		x := &bettingExecutor{}
		o := &Order{s: OrderState{Status: Pending}}
		var got []ReportKind
		x.deliver(answer{kind: PlaceRequest, orders: []*Order{o}, place: &betting.PlaceReport{InstructionReports: []betting.PlaceInstructionReport{tc.ir}}}, 1,
			func(r Report) { got = append(got, r.Kind) })
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: reports %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestFlushPlacementOptions: placements made for different market
// versions go in separate requests, each with its marketVersion (none for
// version 0), and Async sets the flag on every placement request.
func TestFlushPlacementOptions(t *testing.T) {
	f := &betFake{bodies: map[string]string{betting.MethodPlaceOrders: "place_orders.json"}}
	c := fakeClient(t, f)
	cfg := &BettingConfig{Ctx: context.Background(), Client: c, Session: "t1", Seq: new(atomic.Uint64), Async: true}
	x := newBettingExecutor(cfg, &marketState{id: "1.197931750", sl: &slot{ref: "strat"}})
	for i, v := range []int64{0, 7, 0, 7} {
		o := &Order{s: OrderState{ID: i, MarketID: "1.197931750", SelectionID: 1, Side: Back, Type: Limit, Price: 2, Size: 2, PlaceVersion: v,
			CustomerRef: OrderRef("strat", i), Status: Pending}}
		x.Submit(Request{Kind: PlaceRequest, Order: o})
	}
	x.Flush()
	for range 2 {
		<-x.answers
	}
	if len(f.calls) != 2 {
		t.Fatalf("%d requests, want 2 (one per market version)", len(f.calls))
	}
	versions := map[string]int{}
	for _, call := range f.calls {
		var instr []betting.PlaceInstruction
		json.Unmarshal(call.Params["instructions"], &instr)
		versions[string(call.Params["marketVersion"])] = len(instr)
		if string(call.Params["async"]) != "true" {
			t.Errorf("placeOrders without async: %s", call.Params)
		}
	}
	if want := map[string]int{"": 2, `{"version":7}`: 2}; !maps.Equal(versions, want) {
		t.Errorf("instructions by marketVersion %v, want %v", versions, want)
	}
}

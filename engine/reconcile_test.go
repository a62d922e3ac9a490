package engine

import (
	"context"
	"encoding/json"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// TestFreshImageLookup: after an order-stream image that was not a clk
// resume (Betfair's real SUB_IMAGE, which does not show the loop's live
// order), the order is looked up with listCurrentOrders by its bet id
// (Betfair's real answer: it matched in full while the stream was down)
// and a placement in its market waits for the answer, then goes. An
// update that is no image looks nothing up.
func TestFreshImageLookup(t *testing.T) {
	f := &betFake{bodies: map[string]string{
		betting.MethodListCurrentOrders: "list_current_orders.json",
		betting.MethodPlaceOrders:       "place_orders.json",
	}}
	c := fakeClient(t, f)
	woke := make(chan struct{}, 16)
	cfg := &BettingConfig{Ctx: context.Background(), Client: c, Session: "t1", Seq: new(atomic.Uint64), Wake: func() { woke <- struct{}{} }}
	u := &unit{markets: map[string][]*marketState{}, bet: cfg, now: 1000}
	sl := &slot{name: "img", ref: "img"}
	st := &marketState{sl: sl, id: "1.125875592"}
	x := newBettingExecutor(cfg, st)
	st.x, st.report = x, func(r Report) { u.apply(st, r) }
	u.markets[st.id], u.list = []*marketState{st}, [][]*marketState{{st}}
	d := &streamDriver{units: map[string]*unit{st.id: u}, list: []*unit{u}}
	// The order as the loop last knew it: resting, nothing matched.
	o := &Order{s: OrderState{ID: 0, MarketID: st.id, SelectionID: 6412775, Side: Lay, Type: Limit, Price: 1.22, Size: 2,
		CustomerRef: "img-0", BetID: "71958694780", Status: Executable}, holdsLive: true}
	st.add(o)
	st.live = append(st.live, o)
	st.ctx(6412775, 0).live = 1

	feed := func(name string) {
		var img imageSeen
		dec := esa.NewDecoder()
		var msg esa.Message
		for _, line := range ocmLines(t, name) {
			if err := dec.Decode(line, &msg); err != nil {
				t.Fatal(err)
			}
			if err := d.message(&msg); err != nil {
				t.Fatal(err)
			}
			img.observe(d, &msg)
		}
	}
	feed("streaming_ocm_UPDATE.json")
	if x.holds != 0 {
		t.Fatal("an order-stream update started a lookup")
	}
	feed("streaming_ocm_SUB_IMAGE.json")
	if x.holds != 1 {
		t.Fatalf("%d lookups after a fresh image missing the order, want 1", x.holds)
	}
	// A placement made meanwhile waits for the lookup.
	n := &Order{s: OrderState{ID: 1, MarketID: st.id, SelectionID: 6412775, Side: Lay, Type: Limit, Price: 1.22, Size: 2,
		Persistence: Lapse, CustomerRef: "img-1", Status: Pending}, holdsLive: true}
	st.add(n)
	st.live = append(st.live, n)
	st.ctx(6412775, 0).live++
	x.Submit(Request{Kind: PlaceRequest, Order: n})
	x.Flush()
	await(t, u, st, woke)
	f.mu.Lock()
	calls := slices.Clone(f.calls)
	f.mu.Unlock()
	if len(calls) != 1 || calls[0].Method != betting.MethodListCurrentOrders {
		t.Fatalf("calls before the lookup's answer: %+v", calls)
	}
	var filter betting.CurrentOrdersFilter
	b, _ := json.Marshal(calls[0].Params)
	json.Unmarshal(b, &filter)
	if !slices.Equal(filter.BetIDs, []string{"71958694780"}) || !slices.Equal(filter.MarketIDs, []string{st.id}) || filter.OrderProjection != "ALL" || len(filter.CustomerOrderRefs) != 0 {
		t.Errorf("listCurrentOrders %s", b)
	}
	if o.Status() != ExecutionComplete || o.SizeMatched() != 2 || o.AvgPriceMatched() != 1.22 || len(o.Matched()) != 1 || st.ctx(6412775, 0).live != 1 {
		t.Errorf("after the lookup: %s matched %g@%g fills %v, live count %d (the new order's)", o.Status(), o.SizeMatched(), o.AvgPriceMatched(), o.Matched(), st.ctx(6412775, 0).live)
	}
	if x.holds != 0 {
		t.Fatal("exposure still held after the lookup's answer")
	}
	x.Flush()
	await(t, u, st, woke)
	if n.Status() != Executable || n.BetID() != "71962975289" {
		t.Errorf("the waiting placement: %s bet %q", n.Status(), n.BetID())
	}
}

package engine

import (
	"bufio"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// requestLog is an Executor that keeps the requests it is given and
// answers none: the test answers for the exchange.
type requestLog struct{ reqs []Request }

func (x *requestLog) Submit(r Request)                        { x.reqs = append(x.reqs, r) }
func (*requestLog) Advance(int64, func(Report))               {}
func (*requestLog) Observe(*book.Market, int64, func(Report)) {}
func (*requestLog) Settle(*book.Market)                       {}
func (*requestLog) Flush()                                    {}

// TestSweepLooksAgainOnlyAtChanges: the stop's sweep cancels every
// unmatched order once, asks again an order its cancel's answer left
// unmatched a second later (with nothing else happening in its market),
// counts what the order stream completes, and a closed market's orders no
// more; a sweep with nothing changed sends nothing and counts the same.
func TestSweepLooksAgainOnlyAtChanges(t *testing.T) {
	f, err := os.Open(testenv.Testdata(t, "tapes/1.197931750"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	sc.Scan()
	var msg esa.Message
	if err := esa.NewDecoder().Decode(sc.Bytes(), &msg); err != nil {
		t.Fatal(err)
	}
	bk := book.NewMarketCache(book.Options{}).Apply(&msg)[0]
	if bk.Status() != esa.MarketOpen {
		t.Fatalf("the tape's first book is %s", bk.Status())
	}
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	x := &requestLog{}
	u := &unit{markets: map[string][]*marketState{}}
	d := &streamDriver{list: []*unit{u}}
	s := &stopper{d: d, run: newRunControls(RunLimits{Now: func() time.Time { return now }}, nil), asked: map[*Order]time.Time{}}
	sl := &slot{name: "s", ref: "s"}
	var sts []*marketState
	for i := range 3 {
		// One book for all three: the sweep reads only its status.
		st := &marketState{sl: sl, id: "1." + strconv.Itoa(i), bk: bk, x: x}
		st.report = func(r Report) { u.apply(st, r) }
		for j := range 2 {
			o := &Order{s: OrderState{MarketID: st.id, SelectionID: bk.Runners[0].SelectionID, Side: Back, Type: Limit, Price: 1000, Size: 2,
				BetID: st.id + "-" + strconv.Itoa(j), Status: Executable}}
			st.add(o)
			st.live = append(st.live, o)
		}
		u.list = append(u.list, []*marketState{st})
		sts = append(sts, st)
	}
	step := func(name string, wantLeft, wantSent int) {
		t.Helper()
		before := len(x.reqs)
		if left := s.sweep(); left != wantLeft || len(x.reqs)-before != wantSent {
			t.Errorf("%s: %d left, %d cancels sent; want %d, %d", name, left, len(x.reqs)-before, wantLeft, wantSent)
		}
	}
	step("the first sweep", 6, 6)
	step("nothing changed", 6, 0)
	// The first market's first cancel is answered with the order still
	// unmatched (the order stream has not told yet).
	a := sts[0].live[0]
	sts[0].report(Report{Kind: Cancelled, Order: a})
	now = now.Add(500 * time.Millisecond)
	step("its answer, half a second on", 6, 0)
	now = now.Add(500 * time.Millisecond)
	step("a second on, nothing else in its market", 6, 1)
	if r := x.reqs[len(x.reqs)-1]; r.Kind != CancelRequest || r.Order != a {
		t.Errorf("asked again: %+v", r)
	}
	// The order stream completes the second market's orders.
	for _, o := range sts[1].live {
		sts[1].report(Report{Kind: Changed, Order: o, BetID: o.s.BetID, SizeCancelled: 2, Complete: true})
	}
	step("two orders complete", 4, 0)
	// The third market closes (a line of its own).
	sts[2].closed = true
	sts[2].updates++
	step("a market closed", 2, 0)
	now = now.Add(time.Hour)
	step("an hour on, every cancel in flight", 2, 0)
}

package engine_test

import (
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/sim"
)

// TestMonitor paper-trades a local exchange's replay with a Monitor: the
// last status, given after the markets closed, totals the run's result,
// and every status before it counts no more than the last.
func TestMonitor(t *testing.T) {
	inputs := streams(t)
	var seen []engine.RunStatus
	res := paper(t, inputs, engine.PaperConfig{
		Config:    engine.Config{NewStrategy: builtin(t, "passive-back"), NewExecution: sim.NewExecution(sim.Flumine), Commission: 0.05},
		MarketIDs: []string{"1.197931750", "1.197931751"},
		// Every status: the test needs no clock.
		Monitor: engine.Monitor{OnStatus: func(s engine.RunStatus) { seen = append(seen, s) }, Every: time.Nanosecond},
	})
	if len(seen) < 2 {
		t.Fatalf("%d statuses", len(seen))
	}
	want := engine.RunStatus{Markets: 2}
	for _, o := range res.Orders {
		if o.Status() == engine.Violation {
			want.Violations++
			continue
		}
		want.Orders++
		if o.SizeMatched() > 0 {
			want.Matched++
		}
		if o.SizeCancelled() > 0 {
			want.Cancelled++
		}
		want.Fills += len(o.Matched())
		want.SizeMatched += o.SizeMatched()
		want.Profit += o.Profit()
	}
	want.SizeMatched, want.Profit = engine.Round2(want.SizeMatched), engine.Round2(want.Profit)
	last := seen[len(seen)-1]
	if last != want {
		t.Errorf("last status %+v\nwant        %+v", last, want)
	}
	if want.Orders == 0 || want.Fills == 0 {
		t.Fatal("nothing traded: the test shows nothing")
	}
	live := false
	for _, s := range seen[:len(seen)-1] {
		if s.Orders > last.Orders || s.Fills > last.Fills {
			t.Errorf("a status counts more than the end: %+v", s)
		}
		live = live || s.Live > 0 || s.Exposure > 0
	}
	if !live {
		t.Error("no status saw a live order or exposure")
	}
}

package engine

import (
	"strings"
	"testing"
	"time"
)

// TestRunControls steps the run-wide controls through a clock: what each
// request is told, in order.
func TestRunControls(t *testing.T) {
	base := time.Date(2026, 12, 4, 21, 59, 59, 0, time.UTC)
	type step struct {
		at     time.Duration // after base
		do     string        // "place", "update", "settle", "down", "up-market", "up-order", "stale-market", "stale-order", "drop", "halt"
		net    float64       // settle's net profit
		refuse string        // what admit answers ("" lets it go)
	}
	for _, tc := range []struct {
		name  string
		lim   RunLimits
		steps []step
	}{
		{"transactions per clock hour", RunLimits{MaxTransactionsPerHour: 2}, []step{
			{0, "place", 0, ""},
			{0, "update", 0, ""}, // not a transaction
			{0, "place", 0, ""},
			{0, "place", 0, "transactions this hour 2 reached the limit 2"},
			{time.Second, "place", 0, ""}, // 22:00:00, a new hour
		}},
		{"instructions per clock second", RunLimits{MaxInstructionsPerSecond: 2}, []step{
			{0, "place", 0, ""},
			{0, "update", 0, ""},
			{0, "place", 0, "instructions this second 2 reached the limit 2"},
			{999 * time.Millisecond, "place", 0, "instructions this second 2 reached the limit 2"},
			{time.Second, "place", 0, ""},
		}},
		{"daily loss", RunLimits{DailyLossLimit: 10}, []step{
			{0, "settle", -6, ""},
			{0, "place", 0, ""},
			{0, "settle", -4, "today's realised net -10.00 reached the daily loss limit 10"},
			{0, "place", 0, "today's realised net -10.00 reached the daily loss limit 10"},
			{0, "update", 0, "today's realised net -10.00 reached the daily loss limit 10"},
			{2*time.Hour + time.Second, "place", 0, ""}, // the next UTC day
		}},
		{"streams", RunLimits{}, []step{
			{0, "place", 0, "the market stream is down: no new exposure until its data is back"},
			{0, "up-market", 0, ""},
			{0, "place", 0, ""},
			{0, "drop", 0, "the stream is down: no new exposure until it is back"},
			{0, "down", 0, "the market stream is down: no new exposure until its data is back"},
			{0, "up-market", 0, "the order stream is down: no new exposure until its data is back"},
			{0, "up-order", 0, ""},
			{0, "stale-order", 0, "the order stream is down: no new exposure until its data is back"},
			{0, "stale-market", 0, "the market stream is down: no new exposure until its data is back"},
			{0, "up-market", 0, "the order stream is down: no new exposure until its data is back"},
			{0, "up-order", 0, ""},
		}},
		{"halt", RunLimits{MaxTransactionsPerHour: 100}, []step{
			{0, "up-market", 0, ""},
			{0, "halt", 0, "halted: kill switch"},
			{time.Hour, "place", 0, "halted: kill switch"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var now time.Time
			tc.lim.Now = func() time.Time { return now }
			c := newRunControls(tc.lim, nil)
			if tc.name != "streams" {
				c.line(false, true, 0)
			}
			for i, s := range tc.steps {
				now = base.Add(s.at)
				var got string
				switch s.do {
				case "place":
					got = c.admit(1, true)
				case "update":
					got = c.admit(1, false)
				case "settle":
					c.settled(s.net)
					got = c.admit(0, false)
				case "down":
					c.line(true, false, 0)
					got = c.admit(1, true)
				case "up-market", "up-order":
					c.line(false, s.do == "up-market", 0)
					got = c.admit(1, true)
				case "stale-market", "stale-order":
					c.line(false, s.do == "stale-market", 503)
					got = c.admit(1, true)
				case "drop":
					c.disconnected()
					got = c.admit(1, true)
				case "halt":
					c.halt("kill switch")
					got = c.admit(1, true)
				}
				if got != s.refuse {
					t.Errorf("step %d (%s at +%v): %q, want %q", i, s.do, s.at, got, s.refuse)
				}
			}
		})
	}
}

// TestRunControlsCountOnlyWhatGoes: a refused request is not counted, so
// the limit is of what was sent.
func TestRunControlsCountOnlyWhatGoes(t *testing.T) {
	now := time.Date(2026, 12, 4, 21, 0, 0, 0, time.UTC)
	c := newRunControls(RunLimits{MaxTransactionsPerHour: 3, MaxInstructionsPerSecond: 1, Now: func() time.Time { return now }}, nil)
	c.line(false, true, 0)
	for range 5 {
		c.admit(1, true) // one a second goes
	}
	if c.inHour != 1 {
		t.Fatalf("%d transactions counted, 1 was let go", c.inHour)
	}
	for i := range 3 {
		now = now.Add(time.Second)
		if r := c.admit(1, true); i < 2 && r != "" || i == 2 && !strings.Contains(r, "transactions this hour 3") {
			t.Errorf("second %d: %q", i, r)
		}
	}
}

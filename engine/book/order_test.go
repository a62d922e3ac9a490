package book

import (
	"testing"

	"github.com/tapedeck/tapedeck/engine/esa"
)

func applyOrders(t *testing.T, c *OrderCache, lines ...[]byte) []*OrderMarket {
	t.Helper()
	var msg esa.Message
	var out []*OrderMarket
	for i, l := range lines {
		if err := decode(l, &msg); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		out = c.Apply(&msg)
	}
	return out
}

// TestOrderCacheHistoric replays Betfair's historic order file line by line:
// full image, cancel (order replaced by id), a new runner's full image, and
// the market closing.
func TestOrderCacheHistoric(t *testing.T) {
	lines := loadMessages(t, "historic/ORDER-1.177596575")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4", len(lines))
	}
	type runnerWant struct {
		id     int64
		orders []string // bet id:status
	}
	tests := []struct {
		closed  bool
		runners []runnerWant
	}{
		{false, []runnerWant{{38077860, []string{"221073337451:E"}}}},
		{false, []runnerWant{{38077860, []string{"221073337451:EC"}}}},
		{false, []runnerWant{{38077860, []string{"221073337451:EC"}}, {37711602, []string{"221073362321:E"}}}},
		{true, []runnerWant{{38077860, []string{"221073337451:EC"}}, {37711602, []string{"221073362321:E"}}}},
	}
	c := NewOrderCache()
	for i, tt := range tests {
		ms := applyOrders(t, c, lines[i])
		if len(ms) != 1 || ms[0].ID != "1.177596575" {
			t.Fatalf("line %d: changed %v", i+1, ms)
		}
		m := ms[0]
		if m.Closed != tt.closed {
			t.Errorf("line %d: closed %v, want %v", i+1, m.Closed, tt.closed)
		}
		if len(m.Runners) != len(tt.runners) {
			t.Fatalf("line %d: %d runners, want %d", i+1, len(m.Runners), len(tt.runners))
		}
		for j, rw := range tt.runners {
			r := m.Runners[j]
			if r.SelectionID != rw.id || len(r.Orders) != len(rw.orders) {
				t.Fatalf("line %d runner %d: id %d with %d orders, want %d with %d", i+1, j, r.SelectionID, len(r.Orders), rw.id, len(rw.orders))
			}
			for k, o := range r.Orders {
				if got := o.ID + ":" + o.Status; got != rw.orders[k] {
					t.Errorf("line %d runner %d order %d: %s, want %s", i+1, j, k, got, rw.orders[k])
				}
			}
		}
	}
	if o := c.Market("1.177596575").Order("221073337451"); o == nil || o.SizeCancelled != 0.8 || o.CancelledDate != 1609915844000 {
		t.Errorf("cancelled order: %+v", o)
	}
}

func TestOrderCacheRules(t *testing.T) {
	t.Run("empty full image means no position", func(t *testing.T) {
		c := NewOrderCache()
		ms := applyOrders(t, c, loadMessages(t, "ocm_empty_image.json")...)
		if len(ms) != 1 || len(ms[0].Runners) != 0 || ms[0].AccountID != 1234567 {
			t.Fatalf("got %+v", ms)
		}
	})

	t.Run("market full image replaces runners", func(t *testing.T) {
		lines := loadMessages(t, "historic/ORDER-1.177596575")
		c := NewOrderCache()
		applyOrders(t, c, lines[:3]...)
		// The first line again is a market-level full image with one
		// runner: the second runner must go.
		m := applyOrders(t, c, lines[0])[0]
		if len(m.Runners) != 1 || m.Runners[0].Orders[0].Status != "E" {
			t.Errorf("after full image: %d runners", len(m.Runners))
		}
	})

	t.Run("runners keyed by handicap", func(t *testing.T) {
		c := NewOrderCache()
		m := applyOrders(t, c, loadMessages(t, "ocm_full_image.json")...)[0]
		seen := map[float64]bool{}
		for _, r := range m.Runners {
			seen[r.Handicap] = true
		}
		for _, hc := range []float64{40.5, 42.5, 43.5, 44.5, 62.5} {
			if !seen[hc] {
				t.Errorf("no runner with handicap %v (have %v)", hc, seen)
			}
		}
	})

	t.Run("matches sorted by price, strategy matches kept", func(t *testing.T) {
		c := NewOrderCache()
		m := applyOrders(t, c, loadMessages(t, "ocm_full_image_strategy.json")...)[0]
		r := m.Runner(6023845, 0)
		if r == nil {
			t.Fatal("runner 6023845 missing")
		}
		want := [][2]float64{{1.26, 10}, {1.37, 10}, {1.44, 10}, {1.54, 2.23}, {1.55, 70}}
		if got := ladder(r.MatchedBacks.Levels); !equalJSON(got, want) {
			t.Errorf("matched backs %v, want %v", got, want)
		}
		if r.MatchedLays.Len() != 8 || len(r.StrategyMatches) != 2 {
			t.Errorf("%d lays, %d strategies", r.MatchedLays.Len(), len(r.StrategyMatches))
		}
	})

	t.Run("fills replace the order and merge matches", func(t *testing.T) {
		c := NewOrderCache()
		lines := loadMessages(t, "ocm_multiple_fills.json")
		m := applyOrders(t, c, lines...)[0]
		r := m.Runner(50210, 0)
		if r == nil || len(r.Orders) != 1 {
			t.Fatalf("runner: %+v", r)
		}
		o := r.Orders[0]
		if o.SizeMatched+o.SizeRemaining != o.Size {
			t.Errorf("order sm %v + sr %v != s %v", o.SizeMatched, o.SizeRemaining, o.Size)
		}
		if len(r.StrategyMatches) != 1 || r.StrategyMatches[0].MatchedBacks.Size(5.8) != o.SizeMatched {
			t.Errorf("strategy matches %+v, order sm %v", r.StrategyMatches, o.SizeMatched)
		}
	})
}

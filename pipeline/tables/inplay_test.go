package tables_test

import (
	"fmt"
	"maps"
	"math"
	"testing"

	"github.com/tapedeck/tapedeck/pipeline/tables"
)

// ipWant is a runner's in-play columns replayed from the raw JSON.
type ipWant struct {
	min, max, ltp *float64
}

// wantInPlay replays the traded ladders from the raw JSON: a runner's
// in-play prices are those whose traded size at the end of play (its last
// change in play that is not the settlement's zeroing) is above its size
// before the first line whose definition says in play, by a cent at least;
// its in-play LTP is the LTP Betfair states on or before the last in-play
// line that grew one of its sizes. Settlement resets are found as
// wantVolume finds them. It also counts the settlement lines whose LTP
// differs from the one before them.
func wantInPlay(raw []rawLine) (want map[int64]ipWant, settleLTPs int) {
	lad := map[int64]map[float64]float64{}
	ltp := map[int64]float64{}
	var atTurn, atEnd map[int64]map[float64]float64
	grewLTP := map[int64]float64{}
	status, inplay := "", false
	ladder := func(id int64) map[float64]float64 {
		if lad[id] == nil {
			lad[id] = map[float64]float64{}
		}
		return lad[id]
	}
	for _, l := range raw {
		for _, mc := range l.MC {
			if mc.Def != nil {
				status, inplay = mc.Def.Status, mc.Def.InPlay
			}
			if inplay && atTurn == nil {
				atTurn, atEnd = map[int64]map[float64]float64{}, map[int64]map[float64]float64{}
				for id, m := range lad {
					atTurn[id] = maps.Clone(m)
				}
			}
			for _, rc := range mc.RC {
				before, hadLTP := ltp[rc.ID]
				if rc.Ltp != nil {
					ltp[rc.ID] = *rc.Ltp
				}
				if rc.Trd == nil {
					continue
				}
				m := ladder(rc.ID)
				grew := false
				for _, ps := range rc.Trd {
					if ps[1] > m[ps[0]] {
						grew = true
					}
					if ps[1] == 0 {
						delete(m, ps[0])
					} else {
						m[ps[0]] = ps[1]
					}
				}
				if len(m) == 0 && status != "OPEN" {
					if rc.Ltp != nil && hadLTP && *rc.Ltp != before {
						settleLTPs++
					}
					continue
				}
				if !inplay {
					continue
				}
				atEnd[rc.ID] = maps.Clone(m)
				if grew {
					grewLTP[rc.ID] = ltp[rc.ID]
				}
			}
		}
	}
	want = map[int64]ipWant{}
	for id, end := range atEnd {
		var w ipWant
		for p, size := range end {
			if math.Round((size-atTurn[id][p])*100) < 1 {
				continue
			}
			if w.min == nil || p < *w.min {
				w.min = new(p)
			}
			if w.max == nil || p > *w.max {
				w.max = new(p)
			}
		}
		if v, ok := grewLTP[id]; ok && w.min != nil {
			w.ltp = new(v)
		}
		want[id] = w
	}
	return want, settleLTPs
}

// TestInPlayPrices checks ip_min, ip_max and ip_ltp against wantInPlay on
// the sample tapes that turn in play (the shared ones never do), and pins the runners where a settlement line's
// LTP or a cent's wobble in a traded size would mislead them.
func TestInPlayPrices(t *testing.T) {
	type pin struct {
		sel           int64
		max, ltp      float64
		settlementLTP float64 // what the settlement line says: not a trade
	}
	cases := []struct {
		name  string
		lines func(t *testing.T) [][]byte
		pins  []pin
	}{
		// A match that ended at 1.01 and 1000; the settlement line says
		// 1.4 and 2.5. 228749's size at 9 went 1.34, 1.33 (the turn's
		// line), 1.34: nothing matched at 9 in play.
		{"1.200806927", func(t *testing.T) [][]byte { return testdataTapeAny(t, "golden/flumine/inputs/1.200806927.zst") },
			[]pin{{228749, 1.8, 1.01, 1.4}, {2857977, 1000, 1000, 2.5}}},
		// A place market whose settlement line states LTPs no trade ended
		// on (786779: 1.18; it last traded at 1.05 in play, 1.27 before).
		{"SELF-1.181223995", func(t *testing.T) [][]byte { return testdataTapeAny(t, "golden/flumine/inputs/SELF-1.181223995.zst") },
			[]pin{{786779, 2.14, 1.05, 1.18}, {38378745, 5.1, 1.01, 2}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines := c.lines(t)
			raw := decodeRaw(t, lines)
			want, settleLTPs := wantInPlay(raw)
			if len(c.pins) > 0 && settleLTPs == 0 {
				t.Fatal("the tape has no settlement line with an LTP of its own: a weak case")
			}
			r := one(t, replay(t, lines, tables.Grid{}))
			withIP := 0
			for _, ru := range r.Runners {
				w := want[ru.SelectionID]
				for _, col := range []struct {
					name      string
					got, want *float64
				}{{"ip_min", ru.IpMin, w.min}, {"ip_max", ru.IpMax, w.max}, {"ip_ltp", ru.IpLtp, w.ltp}} {
					if fmt.Sprint(ptr(col.got)) != fmt.Sprint(ptr(col.want)) {
						t.Errorf("runner %d: %s = %v, want %v", ru.SelectionID, col.name, ptr(col.got), ptr(col.want))
					}
				}
				if ru.IpMin != nil {
					withIP++
				}
			}
			if withIP == 0 {
				t.Error("no runner traded in play: a weak case")
			}
			for _, p := range c.pins {
				var got *tables.Runner
				for i := range r.Runners {
					if r.Runners[i].SelectionID == p.sel {
						got = &r.Runners[i]
					}
				}
				if got == nil {
					t.Fatalf("no runner %d", p.sel)
				}
				if ptr(got.IpMax) != any(p.max) || ptr(got.IpLtp) != any(p.ltp) {
					t.Errorf("runner %d: ip_max %v, ip_ltp %v; want %v and %v (the settlement line says %v)",
						p.sel, ptr(got.IpMax), ptr(got.IpLtp), p.max, p.ltp, p.settlementLTP)
				}
				if final := finalLTP(raw, p.sel); final != p.settlementLTP {
					t.Errorf("runner %d: the tape's last LTP is %v, the case says %v", p.sel, final, p.settlementLTP)
				}
			}
		})
	}
}

// finalLTP is the last LTP the tape states for a runner.
func finalLTP(raw []rawLine, sel int64) float64 {
	var v float64
	for _, l := range raw {
		for _, mc := range l.MC {
			for _, rc := range mc.RC {
				if rc.ID == sel && rc.Ltp != nil {
					v = *rc.Ltp
				}
			}
		}
	}
	return v
}

package tables_test

import (
	"archive/tar"
	"bytes"
	"cmp"
	"compress/bzip2"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/pipeline/tables"
)

// wantOff is the off rule written plainly over the raw JSON: the first
// definition with inPlay true, else the last OPEN->SUSPENDED that no OPEN
// follows.
func wantOff(raw []rawLine) (int64, string) {
	_, pt, src := wantOffLine(raw)
	return pt, src
}

// wantOffLine is wantOff that also returns the index of the off's line
// (-1 with no off).
func wantOffLine(raw []rawLine) (int, int64, string) {
	for i, l := range raw {
		for _, mc := range l.MC {
			if mc.Def != nil && mc.Def.InPlay {
				return i, l.Pt, tables.OffInPlay
			}
		}
	}
	var statuses []string
	var lines []int
	for i, l := range raw {
		for _, mc := range l.MC {
			if mc.Def != nil {
				statuses = append(statuses, mc.Def.Status)
				lines = append(lines, i)
			}
		}
	}
	for i := len(statuses) - 1; i > 0; i-- {
		if statuses[i] == "OPEN" {
			break
		}
		if statuses[i] == "SUSPENDED" && statuses[i-1] == "OPEN" {
			return lines[i], raw[lines[i]].Pt, tables.OffSuspended
		}
	}
	return -1, 0, tables.OffNone
}

func TestOff(t *testing.T) {
	cases := []struct {
		name       string
		lines      func(t *testing.T) [][]byte
		wantSource string
		// reopened: the market was suspended and reopened before the off
		// (a scratching), so the first suspension must not be the off.
		reopened bool
	}{
		{"greyhound plain suspension", func(t *testing.T) [][]byte { return greyhound(t, "1.195395446") }, tables.OffSuspended, false},
		{"greyhound scratching reopens", func(t *testing.T) [][]byte { return greyhound(t, "1.195395427") }, tables.OffSuspended, true},
		{"greyhound scratching reopens 2", func(t *testing.T) [][]byte { return greyhound(t, "1.195395455") }, tables.OffSuspended, true},
		{"horse race turns in play", func(t *testing.T) [][]byte { return testdataTape(t, "BASIC-1.132153978") }, tables.OffInPlay, false},
		{"recorded greyhound", func(t *testing.T) [][]byte { return testdataTape(t, "1.197931750") }, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines := c.lines(t)
			raw := decodeRaw(t, lines)
			pt, src := wantOff(raw)
			if c.wantSource != "" && src != c.wantSource {
				t.Fatalf("independent rule found %s; the case expects %s", src, c.wantSource)
			}
			m := one(t, replay(t, lines, tables.Grid{})).Market
			if m.OffTimeSource != src {
				t.Fatalf("off_time_source = %s, want %s", m.OffTimeSource, src)
			}
			if src == tables.OffNone {
				if m.OffTime != nil {
					t.Fatalf("off_time = %v, want null", *m.OffTime)
				}
				return
			}
			if m.OffTime == nil || *m.OffTime != pt {
				t.Fatalf("off_time = %v, want %d", ptr(m.OffTime), pt)
			}
			if c.reopened {
				var first int64
				prev := ""
				for _, l := range raw {
					if d := l.MC[0].Def; d != nil {
						if prev == "OPEN" && d.Status == "SUSPENDED" && first == 0 {
							first = l.Pt
						}
						prev = d.Status
					}
				}
				if first == 0 || first == *m.OffTime {
					t.Fatalf("first suspension %d: the off must be a later one, got %d", first, *m.OffTime)
				}
			}
		})
	}
}

func TestParseGrid(t *testing.T) {
	cases := []struct {
		spec    string
		wantErr bool
		n       int
		first   int
		last    int
	}{
		{tables.DefaultGridSpec, false, 51 + 54 + 60, 3600, 0},
		{"60:-120:1", false, 181, 60, -120},
		{"600:0:120", false, 6, 600, 0},
		{"10:0:3", false, 4, 10, 1},
		{"", false, 0, 0, 0},
		{"0:60:1", true, 0, 0, 0},
		{"60:0:0", true, 0, 0, 0},
		{"60:0", true, 0, 0, 0},
		{"a:0:1", true, 0, 0, 0},
	}
	for _, c := range cases {
		g, err := tables.ParseGrid(c.spec)
		if (err != nil) != c.wantErr {
			t.Errorf("ParseGrid(%q) error %v, want error %v", c.spec, err, c.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		p := g.Points()
		if len(p) != c.n {
			t.Errorf("%q: %d points, want %d", c.spec, len(p), c.n)
			continue
		}
		if c.n > 0 && (p[0] != c.first || p[len(p)-1] != c.last) {
			t.Errorf("%q: points %d..%d, want %d..%d", c.spec, p[0], p[len(p)-1], c.first, c.last)
		}
		if !slices.IsSortedFunc(p, func(a, b int) int { return b - a }) {
			t.Errorf("%q: points not descending", c.spec)
		}
		if g2, err := tables.ParseGrid(g.String()); err != nil || g2.String() != g.String() {
			t.Errorf("%q: String %q does not parse back", c.spec, g.String())
		}
	}
	if tables.DefaultGrid().String() != tables.DefaultGridSpec {
		t.Errorf("DefaultGrid %q != DefaultGridSpec", tables.DefaultGrid().String())
	}
}

// bookAt replays the raw lines up to and including the last with pt <= at
// and returns each runner's best back, best lay and ltp, and the pt of
// the last line applied.
type rawBook struct {
	atb, atl map[int64]map[float64]float64
	ltp      map[int64]float64
	status   map[int64]string
	lastPt   int64
}

func bookAt(raw []rawLine, at int64) rawBook {
	b := rawBook{atb: map[int64]map[float64]float64{}, atl: map[int64]map[float64]float64{},
		ltp: map[int64]float64{}, status: map[int64]string{}}
	set := func(m map[int64]map[float64]float64, id int64, l [][2]float64) {
		if m[id] == nil {
			m[id] = map[float64]float64{}
		}
		for _, ps := range l {
			if ps[1] == 0 {
				delete(m[id], ps[0])
			} else {
				m[id][ps[0]] = ps[1]
			}
		}
	}
	for _, l := range raw {
		if l.Pt > at {
			break
		}
		b.lastPt = l.Pt
		for _, mc := range l.MC {
			if mc.Def != nil {
				for _, r := range mc.Def.Runners {
					b.status[r.ID] = r.Status
				}
			}
			for _, rc := range mc.RC {
				set(b.atb, rc.ID, rc.Atb)
				set(b.atl, rc.ID, rc.Atl)
				if rc.Ltp != nil {
					b.ltp[rc.ID] = *rc.Ltp
				}
			}
		}
	}
	return b
}

// sorted returns a side's prices best first.
func sorted(m map[float64]float64, back bool) []float64 {
	var p []float64
	for k := range m {
		p = append(p, k)
	}
	slices.Sort(p)
	if back {
		slices.Reverse(p)
	}
	return p
}

func TestSnapshotsAsOf(t *testing.T) {
	for _, id := range []string{"1.195395446", "1.195395427"} {
		t.Run(id, func(t *testing.T) {
			lines := greyhound(t, id)
			raw := decodeRaw(t, lines)
			offLine, offPt, _ := wantOffLine(raw)
			var sched int64
			for _, l := range raw {
				if d := l.MC[0].Def; d != nil && l.Pt < offPt {
					tm, err := time.Parse(time.RFC3339, d.MarketTime)
					if err != nil {
						t.Fatal(err)
					}
					sched = tm.UnixMilli()
				}
			}
			r := one(t, replay(t, lines, tables.DefaultGrid()))
			refs := map[string]int64{tables.RefOff: offPt, tables.RefScheduled: sched}
			nPoints := len(tables.DefaultGrid().Points())
			if len(r.MarketSnapshots) != 2*nPoints {
				t.Errorf("%d market snapshots, want %d", len(r.MarketSnapshots), 2*nPoints)
			}
			// A point at or before the off is the book before the off's
			// line, whatever else shares its millisecond.
			type at struct {
				ref string
				t   int64
			}
			cache := map[at]rawBook{}
			book := func(ref string, seconds int32, t int64) rawBook {
				k := at{ref, t}
				if ref == tables.RefOff && seconds >= 0 {
					k.ref = "before off"
				}
				b, ok := cache[k]
				if !ok {
					lines := raw
					if k.ref == "before off" {
						lines = raw[:offLine]
					}
					b = bookAt(lines, t)
					cache[k] = b
				}
				return b
			}
			checked, atOff := 0, 0
			for _, s := range r.Snapshots.All() {
				if want := refs[s.Ref] - int64(s.SecondsBefore)*1000; s.SnapshotTime != want {
					t.Fatalf("%s %d: snapshot_time %d, want %d", s.Ref, s.SecondsBefore, s.SnapshotTime, want)
				}
				b := book(s.Ref, s.SecondsBefore, s.SnapshotTime)
				if s.Ref == tables.RefOff && s.SecondsBefore == 0 {
					atOff++
					if s.RunnerStatus == "ACTIVE" && s.MarketStatus != "OPEN" {
						t.Errorf("%d at the off: market_status %s, want the OPEN market before the off's line", s.SelectionID, s.MarketStatus)
					}
				}
				if s.Has&tables.HasLastUpdatePt == 0 || s.LastUpdatePt != b.lastPt {
					t.Fatalf("%s %d: last_update_pt %v, want %d", s.Ref, s.SecondsBefore, s.LastUpdatePt, b.lastPt)
				}
				backs := sorted(b.atb[s.SelectionID], true)
				lays := sorted(b.atl[s.SelectionID], false)
				gotBack := []any{opt(&s, tables.HasBackPrice1, s.BackPrice1), opt(&s, tables.HasBackPrice2, s.BackPrice2),
					opt(&s, tables.HasBackPrice3, s.BackPrice3)}
				for k := range 3 {
					var want any
					if k < len(backs) {
						want = backs[k]
					}
					if gotBack[k] != want {
						t.Fatalf("%d %s %d: back_price_%d %v, want %v", s.SelectionID, s.Ref, s.SecondsBefore, k+1, gotBack[k], want)
					}
				}
				var wantLay any
				if len(lays) > 0 {
					wantLay = lays[0]
				}
				if got := opt(&s, tables.HasLayPrice1, s.LayPrice1); got != wantLay {
					t.Fatalf("%d %s %d: lay_price_1 %v, want %v", s.SelectionID, s.Ref, s.SecondsBefore, got, wantLay)
				}
				wantLtp, has := b.ltp[s.SelectionID]
				if has != (s.Has&tables.HasLtp != 0) || (has && s.Ltp != wantLtp) {
					t.Fatalf("%d %s %d: ltp %v, want %v", s.SelectionID, s.Ref, s.SecondsBefore, opt(&s, tables.HasLtp, s.Ltp), wantLtp)
				}
				if s.RunnerStatus != b.status[s.SelectionID] {
					t.Fatalf("%d: runner_status %s, want %s", s.SelectionID, s.RunnerStatus, b.status[s.SelectionID])
				}
				checked++
			}
			if checked == 0 || atOff == 0 {
				t.Fatalf("%d snapshots, %d at the off", checked, atOff)
			}
			// Written order: (selection_id, handicap, ref, seconds_before DESC).
			all := r.Snapshots.All()
			if !slices.IsSortedFunc(all, func(a, b tables.Snapshot) int {
				return cmp.Or(cmp.Compare(a.SelectionID, b.SelectionID), cmp.Compare(a.Handicap, b.Handicap),
					cmp.Compare(a.Ref, b.Ref), cmp.Compare(b.SecondsBefore, a.SecondsBefore))
			}) {
				t.Error("snapshots not in (selection_id, handicap, ref, seconds_before DESC) order")
			}
			for _, ms := range r.MarketSnapshots {
				b := book(ms.Ref, ms.SecondsBefore, ms.SnapshotTime)
				var over float64
				n := 0
				for id, st := range b.status {
					if p := sorted(b.atb[id], true); st == "ACTIVE" && len(p) > 0 {
						over += 1 / p[0]
						n++
					}
				}
				if n > 0 && (ms.BackOverround == nil || math.Abs(*ms.BackOverround-over) > 1e-9) {
					t.Fatalf("%s %d: back_overround %v, want %v", ms.Ref, ms.SecondsBefore, ptr(ms.BackOverround), over)
				}
			}
		})
	}
}

// phases of the traded volume, as the runners table splits it.
const (
	preplay = iota
	sp
	inPlay
)

// wantVolume replays the traded ladders from the raw JSON: per runner the
// sum of non-reset changes by phase (in play when the last definition says
// so, SP-matched when it is otherwise not OPEN, else pre-play), the number
// of non-reset decreases and the number of settlement resets (a zero that
// empties the runner's ladder while the market is not OPEN).
func wantVolume(raw []rawLine) (vol map[int64]*[3]float64, decreases, resets int) {
	vol = map[int64]*[3]float64{}
	lad := map[int64]map[float64]float64{}
	status, inplay := "", false
	for _, l := range raw {
		for _, mc := range l.MC {
			if mc.Def != nil {
				status, inplay = mc.Def.Status, mc.Def.InPlay
			}
			phase := preplay
			switch {
			case inplay:
				phase = inPlay
			case status != "OPEN":
				phase = sp
			}
			for _, rc := range mc.RC {
				if rc.Trd == nil {
					continue
				}
				if lad[rc.ID] == nil {
					lad[rc.ID] = map[float64]float64{}
					vol[rc.ID] = &[3]float64{}
				}
				old := map[float64]float64{}
				for _, ps := range rc.Trd {
					old[ps[0]] = lad[rc.ID][ps[0]]
					if ps[1] == 0 {
						delete(lad[rc.ID], ps[0])
					} else {
						lad[rc.ID][ps[0]] = ps[1]
					}
				}
				cleared := len(lad[rc.ID]) == 0 && status != "OPEN"
				for _, ps := range rc.Trd {
					d := ps[1] - old[ps[0]]
					if ps[1] == 0 && cleared {
						resets++
						continue
					}
					if d < 0 {
						decreases++
					}
					vol[rc.ID][phase] += d
				}
			}
		}
	}
	return vol, decreases, resets
}

// isCents reports whether x is a whole number of cents, as Betfair's
// amounts are, printed without binary noise.
func isCents(x float64) bool {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	i := strings.IndexByte(s, '.')
	return i < 0 || len(s)-i-1 <= 2
}

func TestTradedVolume(t *testing.T) {
	// 1.195395457 and 1.195395445 match SP after the suspension; 1.205822330
	// (horse racing) matches SP for minutes after its off.
	for _, id := range []string{"1.195395421", "1.195395446", "1.195395431", "1.195395457", "1.195395445", "1.205822330"} {
		t.Run(id, func(t *testing.T) {
			var lines [][]byte
			if id == "1.205822330" {
				lines = sharedBz2(t, "data/historic/1.205822330.bz2")
			} else {
				lines = greyhound(t, id)
			}
			raw := decodeRaw(t, lines)
			vol, decreases, resets := wantVolume(raw)
			r := one(t, replay(t, lines, tables.Grid{}))
			var total [3]float64
			for _, v := range vol {
				for p := range v {
					total[p] += v[p]
				}
			}
			mk := r.Market
			for _, c := range []struct {
				name      string
				got, want float64
			}{
				{"traded_volume", mk.TradedVolume, total[preplay] + total[sp] + total[inPlay]},
				{"pp_traded_volume", mk.PpTradedVolume, total[preplay]},
				{"sp_traded_volume", mk.SpTradedVolume, total[sp]},
				{"ip_traded_volume", mk.IpTradedVolume, total[inPlay]},
			} {
				if math.Abs(c.got-c.want) > 0.005 || !isCents(c.got) {
					t.Errorf("markets.%s %v, want %v in cents", c.name, c.got, c.want)
				}
			}
			gotDec, gotResets := 0, 0
			for _, tr := range r.Trades.All() {
				if !isCents(tr.SizeDelta) {
					t.Fatalf("size_delta %v is not in cents", tr.SizeDelta)
				}
				if tr.IsSettlementReset {
					gotResets++
					if tr.SizeCum != 0 {
						t.Errorf("reset row with size_cum %v", tr.SizeCum)
					}
				} else if tr.SizeDelta < 0 {
					gotDec++
				}
			}
			if gotResets != resets || gotDec != decreases {
				t.Errorf("%d resets and %d negative size_delta, want %d and %d", gotResets, gotDec, resets, decreases)
			}
			if resets == 0 && id != "1.205822330" {
				t.Errorf("the market has no settlement reset: a weak case")
			}
			var spSeen float64
			for _, ru := range r.Runners {
				want := vol[ru.SelectionID]
				if want == nil {
					want = &[3]float64{}
				}
				for p, got := range []float64{ru.PpTradedVolume, ru.SpTradedVolume, ru.IpTradedVolume} {
					if math.Abs(got-want[p]) > 0.005 || !isCents(got) {
						t.Errorf("runner %d: phase %d volume %v, want %v in cents", ru.SelectionID, p, got, want[p])
					}
				}
				spSeen += ru.SpTradedVolume
			}
			if id == "1.195395457" && spSeen == 0 {
				t.Errorf("no SP-matched volume in a market that matched SP after its off")
			}
		})
	}
}

// TestNoValue checks that Betfair's "NaN" and "Infinity" projections are
// stored as no value (null), never as numbers.
func TestNoValue(t *testing.T) {
	lines := greyhound(t, "1.195395420")
	nan := 0
	for _, l := range lines {
		nan += bytes.Count(l, []byte(`"NaN"`)) + bytes.Count(l, []byte(`"Infinity"`))
	}
	if nan == 0 {
		t.Fatal("the case has no NaN or Infinity projection")
	}
	r := one(t, replay(t, lines, tables.DefaultGrid()))
	withSP := 0
	for _, s := range r.Snapshots.All() {
		for i, v := range s.Optional() {
			if s.Has&(1<<i) != 0 && (math.IsNaN(v) || math.IsInf(v, 0)) {
				t.Fatalf("snapshot %d %s %d: %s = %v", s.SelectionID, s.Ref, s.SecondsBefore, tables.SnapshotOptional[i], v)
			}
		}
		if s.Has&tables.HasSpn != 0 {
			withSP++
		}
	}
	for _, ru := range r.Runners {
		for _, p := range []*float64{ru.SpnAtOff, ru.SpfAtOff, ru.Bsp} {
			if p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0)) {
				t.Fatalf("runner %d: a projection or BSP of %v", ru.SelectionID, *p)
			}
		}
	}
	if withSP == 0 {
		t.Error("no snapshot has a projected SP: a weak case")
	}
}

func TestRemovedRunnersAndVoided(t *testing.T) {
	tarPath := testenv.Shared(t, greyhoundTar)
	cases := []struct {
		id         string
		wantVoided bool
	}{
		{"1.195395455", false}, // one runner scratched
		{"1.195395456", false},
		{"1.195395421", true}, // the abandoned meeting, event 31270458
		{"1.195395434", true},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			lines := tarMember(t, tarPath, "/"+c.id+".bz2")
			raw := decodeRaw(t, lines)
			var final *rawDef
			for _, l := range raw {
				if l.MC[0].Def != nil {
					final = l.MC[0].Def
				}
			}
			removed := 0
			for _, rd := range final.Runners {
				if strings.HasPrefix(rd.Status, "REMOVED") {
					removed++
				}
			}
			if got := removed == len(final.Runners); got != c.wantVoided {
				t.Fatalf("independent: every runner removed = %v, case says %v", got, c.wantVoided)
			}
			r := one(t, replay(t, lines, tables.Grid{}))
			if r.Market.Voided != c.wantVoided {
				t.Errorf("voided = %v, want %v", r.Market.Voided, c.wantVoided)
			}
			if len(r.Runners) != len(final.Runners) || int(r.Market.NRunners) != len(final.Runners) {
				t.Fatalf("%d runner rows (n_runners %d), want %d", len(r.Runners), r.Market.NRunners, len(final.Runners))
			}
			seenRemoved := 0
			for _, rd := range final.Runners {
				i := slices.IndexFunc(r.Runners, func(x tables.Runner) bool { return x.SelectionID == rd.ID })
				if i < 0 {
					t.Fatalf("runner %d has no row", rd.ID)
				}
				row := r.Runners[i]
				if row.FinalStatus != rd.Status {
					t.Errorf("runner %d: final_status %s, want %s", rd.ID, row.FinalStatus, rd.Status)
				}
				if !strings.HasPrefix(rd.Status, "REMOVED") {
					continue
				}
				seenRemoved++
				if ptr(row.AdjustmentFactor) != ptr(rd.AdjustmentFactor) {
					t.Errorf("runner %d: adjustment_factor %v, want %v", rd.ID, ptr(row.AdjustmentFactor), ptr(rd.AdjustmentFactor))
				}
				if rd.RemovalDate != "" {
					tm, err := time.Parse(time.RFC3339, rd.RemovalDate)
					if err != nil {
						t.Fatal(err)
					}
					if row.RemovalTime == nil || *row.RemovalTime != tm.UnixMilli() {
						t.Errorf("runner %d: removal_time %v, want %d", rd.ID, ptr(row.RemovalTime), tm.UnixMilli())
					}
				}
				if !c.wantVoided && !row.RemovedBeforeOff {
					t.Errorf("runner %d scratched before the race: removed_before_off false", rd.ID)
				}
			}
			if seenRemoved == 0 {
				t.Errorf("no removed runner in the case")
			}
		})
	}
}

func TestDataTierAndSeq(t *testing.T) {
	cases := []struct {
		name  string
		lines func(t *testing.T) [][]byte
		tier  string
	}{
		{"BASIC", func(t *testing.T) [][]byte { return testdataTape(t, "BASIC-1.132153978") }, tables.TierBasic},
		{"PRO", func(t *testing.T) [][]byte { return greyhound(t, "1.195395446") }, tables.TierPro},
		{"recorded", func(t *testing.T) [][]byte { return testdataTape(t, "1.197931750") }, tables.TierRecorded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines := c.lines(t)
			raw := decodeRaw(t, lines)
			r := one(t, replay(t, lines, tables.Grid{}))
			if r.Market.DataTier != c.tier {
				t.Errorf("data_tier %s, want %s", r.Market.DataTier, c.tier)
			}
			// seq is the line: every ladder delta is found on its line.
			for _, d := range r.LadderDeltas.All() {
				found := false
				for _, mc := range raw[d.Seq-1].MC {
					for _, rc := range mc.RC {
						if rc.ID != d.SelectionID {
							continue
						}
						var l [][2]float64
						switch d.Ladder.String() {
						case "atb":
							l = rc.Atb
						case "atl":
							l = rc.Atl
						case "trd":
							l = rc.Trd
						default:
							found = true
						}
						if slices.Contains(l, [2]float64{d.Price, d.Size}) {
							found = true
						}
					}
				}
				if !found {
					t.Fatalf("ladder delta %+v not on line %d", d, d.Seq)
				}
				if d.Pt != raw[d.Seq-1].Pt {
					t.Fatalf("ladder delta pt %d, line %d has %d", d.Pt, d.Seq, raw[d.Seq-1].Pt)
				}
			}
			if !slices.IsSortedFunc(r.LadderDeltas.All(), func(a, b tables.LadderDelta) int { return int(a.Seq - b.Seq) }) {
				t.Errorf("ladder deltas not in seq order")
			}
		})
	}
}

// Leaving out the costly tables must not change the others.
func TestOmittedTablesChangeNothingElse(t *testing.T) {
	lines := testdataTape(t, "1.197931750")
	full := one(t, replay(t, lines, tables.DefaultGrid()))
	b := replayOpts(t, lines, tables.Options{NoLadderDeltas: true, NoSnapshots: true})
	if b.LadderDeltas.Len() != 0 || b.Snapshots.Len() != 0 || len(b.MarketSnapshots) != 0 {
		t.Fatalf("omitted tables have rows: %d %d %d", b.LadderDeltas.Len(), b.Snapshots.Len(), len(b.MarketSnapshots))
	}
	if full.LadderDeltas.Len() == 0 || full.Snapshots.Len() == 0 {
		t.Fatal("the full build has no ladder deltas or snapshots")
	}
	for name, pair := range map[string][2]any{
		"markets":            {full.Market, b.Market},
		"runners":            {full.Runners, b.Runners},
		"trades":             {full.Trades.All(), b.Trades.All()},
		"market_definitions": {full.MarketDefinitions, b.MarketDefinitions},
		"runner_definitions": {full.RunnerDefinitions, b.RunnerDefinitions},
	} {
		x, _ := json.Marshal(pair[0])
		y, _ := json.Marshal(pair[1])
		if !bytes.Equal(x, y) {
			t.Errorf("%s differ:\n%s\n%s", name, x, y)
		}
	}
}

// Without runner_updates a runner's history leaves out the lines that
// change nothing a snapshot shows; no other table may notice.
func TestRunnerUpdatesChangeNothingElse(t *testing.T) {
	for name, lines := range map[string]func(t *testing.T) [][]byte{
		"PRO greyhound":   func(t *testing.T) [][]byte { return greyhound(t, "1.195395446") },
		"recorded":        func(t *testing.T) [][]byte { return testdataTape(t, "1.197931750") },
		"turns in play":   func(t *testing.T) [][]byte { return testdataTapeAny(t, "golden/flumine/inputs/1.200806927.zst") },
		"horse racing AU": func(t *testing.T) [][]byte { return sharedBz2(t, "data/historic/1.205822330.bz2") },
	} {
		t.Run(name, func(t *testing.T) {
			l := lines(t)
			opts := tables.Options{Grid: tables.DefaultGrid(), PostOff: tables.DefaultPostOff()}
			with := replayOpts(t, l, opts)
			opts.NoRunnerUpdates = true
			without := replayOpts(t, l, opts)
			if with.RunnerUpdates.Len() == 0 || without.RunnerUpdates.Len() != 0 {
				t.Fatalf("runner_updates rows: %d with, %d without", with.RunnerUpdates.Len(), without.RunnerUpdates.Len())
			}
			if with.Snapshots.Len() == 0 {
				t.Fatal("no snapshots")
			}
			for table, pair := range map[string][2]any{
				"markets":          {with.Market, without.Market},
				"runners":          {with.Runners, without.Runners},
				"snapshots":        {with.Snapshots.All(), without.Snapshots.All()},
				"market_snapshots": {with.MarketSnapshots, without.MarketSnapshots},
				"trades":           {with.Trades.All(), without.Trades.All()},
			} {
				x, err := json.Marshal(pair[0])
				if err != nil {
					t.Fatal(err)
				}
				y, err := json.Marshal(pair[1])
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(x, y) {
					t.Errorf("%s differ", table)
				}
			}
		})
	}
}

// opt is a snapshot's optional value v, or nil when f is not set.
func opt(s *tables.Snapshot, f tables.SnapshotFields, v float64) any {
	if s.Has&f == 0 {
		return nil
	}
	return v
}

// TestLocalTime checks market_time_local and off_time_local against the
// definition's timezone read with the standard library: an Australian
// market (UTC+10, no summer time in Queensland) and a British one in
// summer time.
func TestLocalTime(t *testing.T) {
	for _, c := range []struct {
		name  string
		lines func(t *testing.T) [][]byte
		zone  string
	}{
		{"AU horse racing", func(t *testing.T) [][]byte { return sharedBz2(t, "data/historic/1.205822330.bz2") }, "Australia/Queensland"},
		{"GB greyhounds in April", func(t *testing.T) [][]byte { return testdataTape(t, "1.197931750") }, "Europe/London"},
	} {
		t.Run(c.name, func(t *testing.T) {
			lines := c.lines(t)
			m := one(t, replay(t, lines, tables.Grid{})).Market
			if m.Timezone != c.zone {
				t.Fatalf("timezone %q, the case expects %q", m.Timezone, c.zone)
			}
			loc, err := time.LoadLocation(c.zone)
			if err != nil {
				t.Fatal(err)
			}
			const wall = "2006-01-02 15:04:05.000"
			for _, x := range []struct {
				name       string
				utc, local *int64
			}{{"market_time", m.MarketTime, m.MarketTimeLocal}, {"off_time", m.OffTime, m.OffTimeLocal}} {
				if x.utc == nil {
					if x.local != nil {
						t.Errorf("%s_local set without %s", x.name, x.name)
					}
					continue
				}
				want := time.UnixMilli(*x.utc).In(loc).Format(wall)
				if x.local == nil {
					t.Fatalf("%s_local null, want %s", x.name, want)
				}
				if got := time.UnixMilli(*x.local).UTC().Format(wall); got != want {
					t.Errorf("%s_local %s, want %s (%s UTC)", x.name, got, want, time.UnixMilli(*x.utc).UTC().Format(wall))
				}
				if *x.local == *x.utc {
					t.Errorf("%s_local equals the UTC time: a weak case", x.name)
				}
			}
		})
	}
}

// TestPostOffGrid checks the default grid's first minute after the off:
// taken for a market that turns in play (its in-play book), not for one
// that is only suspended (its book no longer moves), never for the
// scheduled reference, and replaced by Options.PostOff.
func TestPostOffGrid(t *testing.T) {
	after := func(r *tables.Rows) (off, sched map[int32]bool, inPlay int) {
		off, sched = map[int32]bool{}, map[int32]bool{}
		for _, s := range r.Snapshots.All() {
			if s.SecondsBefore >= 0 {
				continue
			}
			if s.Ref == tables.RefOff {
				off[s.SecondsBefore] = true
				if s.InPlay {
					inPlay++
				}
			} else {
				sched[s.SecondsBefore] = true
			}
		}
		return off, sched, inPlay
	}
	horse := testdataTape(t, "BASIC-1.132153978")
	r := replayOpts(t, horse, tables.Options{})
	if r.Market.OffTimeSource != tables.OffInPlay {
		t.Fatalf("off_time_source %s: the case must turn in play", r.Market.OffTimeSource)
	}
	off, sched, inPlay := after(r)
	if len(off) != 60 || !off[-1] || !off[-60] || len(sched) != 0 {
		t.Errorf("in-play market: %d off points after the off (want -1..-60), %d scheduled ones (want 0)", len(off), len(sched))
	}
	if inPlay == 0 {
		t.Error("no post-off snapshot is in play")
	}
	ms := 0
	for _, m := range r.MarketSnapshots {
		if m.Ref == tables.RefOff && m.SecondsBefore < 0 {
			ms++
		}
	}
	if ms != 60 {
		t.Errorf("%d market snapshots after the off, want 60", ms)
	}
	r = replayOpts(t, horse, tables.Options{PostOff: tables.Grid{{-10, -30, 10}}})
	if off, _, _ := after(r); len(off) != 3 || !off[-10] || !off[-20] || !off[-30] {
		t.Errorf("PostOff -10:-30:10 gave off points %v", off)
	}
	r = replayOpts(t, horse, tables.Options{PostOff: tables.Grid{}})
	if off, _, _ := after(r); len(off) != 0 {
		t.Errorf("an empty PostOff gave off points %v", off)
	}
	r = replayOpts(t, greyhound(t, "1.195395446"), tables.Options{})
	if off, sched, _ := after(r); len(off) != 0 || len(sched) != 0 {
		t.Errorf("suspended-only market: points after the off %v, scheduled %v; want none", off, sched)
	}
}

// TestRaceFieldsOnSharedData parses every market and runner name of the
// shared greyhound tar, the AU horse race and the bundled tapes, and
// checks each parsed value against its name: a number only where the
// name starts with it, a distance only where the name holds it, and the
// race key shared by the WIN and PLACE markets of one race.
func TestRaceFieldsOnSharedData(t *testing.T) {
	var all []*tables.Rows
	f, err := os.Open(testenv.Shared(t, greyhoundTar))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(h.Name, ".bz2") {
			continue
		}
		data, err := io.ReadAll(bzip2.NewReader(tr))
		if err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
		all = append(all, replay(t, splitLines(data), tables.Grid{})...)
	}
	all = append(all, replay(t, sharedBz2(t, "data/historic/1.205822330.bz2"), tables.Grid{})...)
	for _, name := range []string{"1.197931750", "1.197931751", "BASIC-1.132153978"} {
		all = append(all, replay(t, testdataTape(t, name), tables.Grid{})...)
	}
	races := map[string]map[string]int{} // race_key -> market_type -> markets
	var parsed, numbered int
	for _, r := range all {
		m := r.Market
		if m == nil {
			continue
		}
		name := m.MarketName
		if m.RaceNumber != nil && !strings.HasPrefix(name, fmt.Sprintf("R%d ", *m.RaceNumber)) {
			t.Errorf("%s %q: race_number %d", m.MarketID, name, *m.RaceNumber)
		}
		if d := m.RaceDistanceM; d != nil {
			parsed++
			if *d < 100 || *d > 10000 {
				t.Errorf("%s %q: race_distance_m %d", m.MarketID, name, *d)
			}
			if m.MarketType == "WIN" && !strings.Contains(name, "m") {
				t.Errorf("%s %q: a distance from a name with no unit", m.MarketID, name)
			}
		} else if m.RaceNumber != nil || m.RaceClass != nil {
			t.Errorf("%s %q: race number or class without a distance", m.MarketID, name)
		}
		if m.MarketType == "WIN" && m.RaceDistanceM == nil && name != "" {
			t.Errorf("%s: WIN market %q not parsed", m.MarketID, name)
		}
		if m.RaceKey == nil {
			t.Errorf("%s: no race_key", m.MarketID)
			continue
		}
		if races[*m.RaceKey] == nil {
			races[*m.RaceKey] = map[string]int{}
		}
		races[*m.RaceKey][m.MarketType]++
		for _, ru := range r.Runners {
			if ru.RunnerNameClean == nil {
				if ru.RunnerName != "" {
					t.Errorf("%s %q: no clean name", m.MarketID, ru.RunnerName)
				}
				continue
			}
			want := *ru.RunnerNameClean
			if ru.RunnerNumber != nil {
				numbered++
				want = fmt.Sprintf("%d. %s", *ru.RunnerNumber, want)
			}
			if want != ru.RunnerName {
				t.Errorf("%s: runner %q parsed as %q", m.MarketID, ru.RunnerName, want)
			}
		}
	}
	pairs := 0
	for k, types := range races {
		if types["WIN"] > 1 || types["PLACE"] > 1 {
			t.Errorf("race_key %s holds %v", k, types)
		}
		if types["WIN"] == 1 && types["PLACE"] == 1 {
			pairs++
		}
	}
	if parsed < 15 || numbered < 100 || pairs < 10 {
		t.Errorf("%d distances, %d runner numbers, %d WIN+PLACE races: a weak case", parsed, numbered, pairs)
	}
	t.Logf("%d markets: %d distances, %d runner numbers, %d WIN+PLACE races", len(all), parsed, numbered, pairs)
}

// TestSPPools checks the snapshots' and runners' SP pools at the off
// against the spb and spl ladders replayed from the raw JSON up to the
// off's line.
func TestSPPools(t *testing.T) {
	lines := greyhound(t, "1.195395453")
	raw := decodeRaw(t, lines)
	offLine, _, _ := wantOffLine(raw)
	spb, spl := map[int64]map[float64]float64{}, map[int64]map[float64]float64{}
	set := func(m map[int64]map[float64]float64, id int64, l [][2]float64) {
		if m[id] == nil {
			m[id] = map[float64]float64{}
		}
		for _, ps := range l {
			if ps[1] == 0 {
				delete(m[id], ps[0])
			} else {
				m[id][ps[0]] = ps[1]
			}
		}
	}
	for _, l := range raw[:offLine] {
		for _, mc := range l.MC {
			for _, rc := range mc.RC {
				set(spb, rc.ID, rc.Spb)
				set(spl, rc.ID, rc.Spl)
			}
		}
	}
	sum := func(m map[float64]float64) float64 {
		var s float64
		for _, v := range m {
			s += v
		}
		return math.Round(s*100) / 100
	}
	r := one(t, replay(t, lines, tables.DefaultGrid()))
	checked := 0
	for _, s := range r.Snapshots.All() {
		if s.Ref != tables.RefOff || s.SecondsBefore != 0 {
			continue
		}
		if s.SpBackStake != sum(spl[s.SelectionID]) || s.SpLayLiability != sum(spb[s.SelectionID]) {
			t.Errorf("%d at the off: SP pools %v / %v, want %v / %v", s.SelectionID, s.SpBackStake, s.SpLayLiability,
				sum(spl[s.SelectionID]), sum(spb[s.SelectionID]))
		}
		if s.SpBackStake > 0 {
			checked++
		}
	}
	for _, ru := range r.Runners {
		if ru.SpBackStake != sum(spl[ru.SelectionID]) || ru.SpLayLiability != sum(spb[ru.SelectionID]) {
			t.Errorf("runner %d: SP pools %v / %v, want %v / %v", ru.SelectionID, ru.SpBackStake, ru.SpLayLiability,
				sum(spl[ru.SelectionID]), sum(spb[ru.SelectionID]))
		}
	}
	if checked == 0 {
		t.Error("no runner has an SP back stake at the off: a weak case")
	}
}

// TestRunnerUpdatesAsOf checks that an as-of lookup in runner_updates (the
// last row with pt <= t) gives each scheduled-reference snapshot's state,
// which TestSnapshotsAsOf checks against the raw JSON; and that the rows
// are in (selection_id, handicap, seq) order.
func TestRunnerUpdatesAsOf(t *testing.T) {
	r := one(t, replay(t, greyhound(t, "1.195395427"), tables.DefaultGrid()))
	ups := r.RunnerUpdates.All()
	if len(ups) == 0 {
		t.Fatal("no runner updates")
	}
	if !slices.IsSortedFunc(ups, func(a, b tables.RunnerUpdate) int {
		return cmp.Or(cmp.Compare(a.SelectionID, b.SelectionID), cmp.Compare(a.Handicap, b.Handicap), cmp.Compare(a.Seq, b.Seq))
	}) {
		t.Fatal("runner_updates not in (selection_id, handicap, seq) order")
	}
	checked := 0
	for _, s := range r.Snapshots.All() {
		if s.Ref != tables.RefScheduled {
			continue
		}
		var at *tables.RunnerUpdate
		for i := range ups {
			u := &ups[i]
			if u.SelectionID == s.SelectionID && u.Handicap == s.Handicap && u.Pt <= s.SnapshotTime {
				at = u
			}
		}
		if at == nil {
			t.Fatalf("%d %d: no update as of the snapshot", s.SelectionID, s.SecondsBefore)
		}
		back := opt(&s, tables.HasBackPrice1, s.BackPrice1)
		ltp := opt(&s, tables.HasLtp, s.Ltp)
		if ptr(at.BackPrice1) != back || ptr(at.Ltp) != ltp || at.TradedVolume != s.TradedVolume || at.RunnerStatus != s.RunnerStatus {
			t.Fatalf("%d %d: update %v %v %v %s, snapshot %v %v %v %s", s.SelectionID, s.SecondsBefore,
				ptr(at.BackPrice1), ptr(at.Ltp), at.TradedVolume, at.RunnerStatus, back, ltp, s.TradedVolume, s.RunnerStatus)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no scheduled snapshots")
	}
	if r := replayOpts(t, greyhound(t, "1.195395427"), tables.Options{NoRunnerUpdates: true}); r.RunnerUpdates.Len() != 0 {
		t.Errorf("NoRunnerUpdates: %d rows", r.RunnerUpdates.Len())
	}
}

package book

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// sharedData is the project's collection of real Betfair messages.
const sharedData = "../../../shared/data"

// loadMessages returns the stream lines of a file of real messages: one
// JSON object, a JSON array of them (pretty-printed as in bflw's test
// resources), or one object per line.
func loadMessages(t *testing.T, name string) [][]byte {
	t.Helper()
	path := filepath.Join(sharedData, "messages", name)
	if strings.HasPrefix(name, "historic/") {
		path = filepath.Join(sharedData, name)
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("%s absent: the shared data directory is not checked out", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	dec := json.NewDecoder(bytes.NewReader(data))
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		raw = bytes.TrimSpace(raw)
		if raw[0] == '[' {
			var arr []json.RawMessage
			if err := json.Unmarshal(raw, &arr); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			for _, a := range arr {
				lines = append(lines, compactJSON(t, a))
			}
			continue
		}
		lines = append(lines, compactJSON(t, raw))
	}
	return lines
}

func compactJSON(t *testing.T, raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// applyAll decodes and applies lines, returning the markets the last line
// changed.
func applyAll(t *testing.T, c *MarketCache, lines ...[]byte) []*Market {
	t.Helper()
	var msg esa.Message
	var out []*Market
	for i, l := range lines {
		if err := decode(l, &msg); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		out = c.Apply(&msg)
	}
	return out
}

// book returns a market's lightweight book decoded into a map.
func book(t *testing.T, m *Market) map[string]any {
	t.Helper()
	var v map[string]any
	b := m.AppendLightweightJSON(nil, JSONOptions{})
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("book is not JSON: %v\n%s", err, b)
	}
	return v
}

func ladder(levels []esa.PriceSize) [][2]float64 {
	out := [][2]float64{}
	for _, l := range levels {
		out = append(out, [2]float64{l.Price, l.Size})
	}
	return out
}

func TestPriceLadder(t *testing.T) {
	tests := []struct {
		name  string
		desc  bool
		steps []esa.PriceSize
		want  [][2]float64
	}{
		{"ascending insert", false, pss(3, 1, 2, 1, 4, 1, 2.5, 2), [][2]float64{{2, 1}, {2.5, 2}, {3, 1}, {4, 1}}},
		{"descending insert", true, pss(3, 1, 2, 1, 4, 1, 2.5, 2), [][2]float64{{4, 1}, {3, 1}, {2.5, 2}, {2, 1}}},
		{"update in place", false, pss(3, 1, 3, 7), [][2]float64{{3, 7}}},
		{"size 0 deletes", true, pss(3, 1, 2, 1, 3, 0), [][2]float64{{2, 1}}},
		{"delete absent price", false, pss(3, 1, 2, 0), [][2]float64{{3, 1}}},
		{"delete last", false, pss(3, 1, 3, 0), [][2]float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := PriceLadder{desc: tt.desc}
			l.Apply(tt.steps)
			if got := ladder(l.Levels); !equalJSON(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLevelLadder(t *testing.T) {
	var l LevelLadder
	l.Apply(lpss(1, 3.4, 838.77, 0, 3.45, 101.19, 2, 3.35, 6747.13))
	l.Set(1, 3.3, 5)
	l.Set(0, 0, 0)
	want := lpss(1, 3.3, 5, 2, 3.35, 6747.13)
	if !equalJSON(l.Levels, want) {
		t.Errorf("got %v, want %v", l.Levels, want)
	}
}

// pss builds a price-size list from price, size pairs.
func pss(v ...float64) []esa.PriceSize {
	out := make([]esa.PriceSize, 0, len(v)/2)
	for i := 0; i+1 < len(v); i += 2 {
		out = append(out, esa.PriceSize{Price: v[i], Size: v[i+1]})
	}
	return out
}

// lpss builds a level-price-size list from level, price, size triples.
func lpss(v ...float64) []esa.LevelPriceSize {
	out := make([]esa.LevelPriceSize, 0, len(v)/3)
	for i := 0; i+2 < len(v); i += 3 {
		out = append(out, esa.LevelPriceSize{Level: int(v[i]), Price: v[i+1], Size: v[i+2]})
	}
	return out
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// runnerJSON finds a runner's entry in a book.
func runnerJSON(t *testing.T, b map[string]any, id float64) map[string]any {
	t.Helper()
	for _, r := range b["runners"].([]any) {
		if r := r.(map[string]any); r["selectionId"] == id {
			return r
		}
	}
	t.Fatalf("runner %v not in book", id)
	return nil
}

// TestMarketRules checks each cache rule on real messages.
func TestMarketRules(t *testing.T) {
	t.Run("removed runner keeps its place and shows removal", func(t *testing.T) {
		c := NewMarketCache(Options{})
		m := applyAll(t, c, loadMessages(t, "mcm_market_definition_runner_removed.json")...)[0]
		var removed *Runner
		for _, r := range m.Runners {
			if r.Status() == "REMOVED" {
				removed = r
			}
		}
		if removed == nil {
			t.Fatal("no REMOVED runner")
		}
		rb := runnerJSON(t, book(t, m), float64(removed.SelectionID))
		if rb["status"] != "REMOVED" || rb["removalDate"] == nil {
			t.Errorf("removed runner book: status %v removalDate %v", rb["status"], rb["removalDate"])
		}
		if len(m.Runners) != len(m.Def.Runners) {
			t.Errorf("%d runners, definition has %d", len(m.Runners), len(m.Def.Runners))
		}
	})

	t.Run("later definition omitting a runner does not remove it", func(t *testing.T) {
		c := NewMarketCache(Options{})
		m := applyAll(t, c, loadMessages(t, "mcm_market_definition_runner_removed.json")...)[0]
		n := len(m.Runners)
		// Re-apply the same definition with its first runner dropped: a
		// definition replaces the stored one but never removes runners.
		def := *m.Def
		def.Runners = def.Runners[1:]
		msg := esa.Message{Op: esa.OpMCM, Pt: m.PublishTime, MC: []esa.MarketChange{{ID: []byte(m.ID), Def: &def, Raw: m.LastChange()}}}
		c.Apply(&msg)
		if len(m.Runners) != n {
			t.Errorf("%d runners after partial definition, want %d", len(m.Runners), n)
		}
	})

	t.Run("img replaces the whole market", func(t *testing.T) {
		img := loadMessages(t, "mcm_live_image.json")
		upd := loadMessages(t, "mcm_live_update.json")
		c := NewMarketCache(Options{})
		first := book(t, applyAll(t, c, img...)[0])
		afterUpdate := book(t, applyAll(t, c, upd...)[0])
		again := book(t, applyAll(t, c, img...)[0])
		if equalJSON(first["runners"], afterUpdate["runners"]) {
			t.Fatal("the update changed nothing: test data does not exercise img")
		}
		if !equalJSON(first["runners"], again["runners"]) {
			t.Errorf("runners after a second img differ from the first img's")
		}
	})

	t.Run("unknown market without img starts empty, runner change creates runner", func(t *testing.T) {
		c := NewMarketCache(Options{})
		ms := applyAll(t, c, loadMessages(t, "mcm_update_tv.json")...)
		if len(ms) != 1 || len(ms[0].Runners) != 1 {
			t.Fatalf("got %d markets", len(ms))
		}
		b := book(t, ms[0])
		r := runnerJSON(t, b, 42153)
		// A runner first seen in a change has no definition: status null;
		// its tv is taken as sent.
		if r["status"] != nil || r["totalMatched"] != 364.45 || r["lastPriceTraded"] != 3.15 {
			t.Errorf("runner: %v", r)
		}
		if b["totalMatched"] != 69.69 || b["status"] != nil || b["numberOfRunners"] != 1.0 {
			t.Errorf("market: totalMatched %v status %v numberOfRunners %v", b["totalMatched"], b["status"], b["numberOfRunners"])
		}
		if !equalJSON(b["marketDefinition"], map[string]any{}) {
			t.Errorf("marketDefinition %v, want {}", b["marketDefinition"])
		}
	})

	t.Run("level ladders sorted by level, availableToBack falls back to bdatb", func(t *testing.T) {
		c := NewMarketCache(Options{})
		m := applyAll(t, c, loadMessages(t, "streaming_mcm_SUB_IMAGE_no_market_def.json")...)[0]
		r := m.Runner(12210252, 0)
		if r == nil {
			t.Fatal("runner 12210252 missing")
		}
		for _, rr := range m.Runners {
			lv := rr.BestDisplayAvailableToBack.Levels
			for i := 1; i < len(lv); i++ {
				if lv[i].Level <= lv[i-1].Level {
					t.Errorf("runner %d bdatb not sorted by level: %v", rr.SelectionID, lv)
				}
			}
		}
		rb := runnerJSON(t, book(t, m), 12210252)
		atb := rb["ex"].(map[string]any)["availableToBack"].([]any)
		if len(atb) != 6 || atb[0].(map[string]any)["price"] != 1.4 {
			t.Errorf("availableToBack = %v, want the 6 bdatb levels from 1.4", atb)
		}
	})

	t.Run("best levels fall back when no full ladder", func(t *testing.T) {
		c := NewMarketCache(Options{})
		m := applyAll(t, c, loadMessages(t, "mcm_market_definition_bet_delay_models.json")...)[0]
		for _, r := range m.Runners {
			if len(r.BestAvailableToBack.Levels) == 0 {
				continue
			}
			rb := runnerJSON(t, book(t, m), float64(r.SelectionID))
			atb := rb["ex"].(map[string]any)["availableToBack"].([]any)
			if len(atb) != len(r.BestAvailableToBack.Levels) || atb[0].(map[string]any)["price"] != r.BestAvailableToBack.Levels[0].Price {
				t.Errorf("runner %d availableToBack %v, batb %v", r.SelectionID, atb, r.BestAvailableToBack.Levels)
			}
			return
		}
		t.Fatal("no runner with batb")
	})

	t.Run("spn and spf NaN and Infinity pass through as strings", func(t *testing.T) {
		c := NewMarketCache(Options{})
		lines := loadMessages(t, "mcm_bsp_data.json")
		var buf []byte
		var msg esa.Message
		seen := map[string]bool{}
		for _, l := range lines {
			if err := decode(l, &msg); err != nil {
				t.Fatal(err)
			}
			for _, m := range c.Apply(&msg) {
				buf = m.AppendLightweightJSON(buf[:0], JSONOptions{})
				for _, s := range []string{`"nearPrice":"NaN"`, `"nearPrice":"Infinity"`, `"farPrice":"NaN"`} {
					if bytes.Contains(buf, []byte(s)) {
						seen[s] = true
					}
				}
			}
		}
		if len(seen) != 3 {
			t.Errorf("saw %v, want all three string forms", seen)
		}
	})

	t.Run("keyLineDefinition passes through as keyLineDescription", func(t *testing.T) {
		def := loadMessages(t, "streaming_market_definition.json")[0]
		c := NewMarketCache(Options{})
		d := &esa.MarketDefinition{Raw: def, Runners: []esa.RunnerDefinition{{ID: 11131804, Hc: -2, HasHc: true}, {ID: 11064886, Hc: 2, HasHc: true}}}
		raw := []byte(`{"id":"1.1","marketDefinition":` + string(def) + `}`)
		c.Apply(&esa.Message{Op: esa.OpMCM, MC: []esa.MarketChange{{ID: []byte("1.1"), Def: d, Raw: raw}}})
		b := book(t, c.Market("1.1"))
		kl, _ := b["keyLineDescription"].(map[string]any)
		if kl == nil || len(kl["kl"].([]any)) != 2 {
			t.Errorf("keyLineDescription = %v", b["keyLineDescription"])
		}
		if b["priceLadderDefinition"] != nil {
			t.Errorf("priceLadderDefinition = %v, want null (absent)", b["priceLadderDefinition"])
		}
	})
}

// TestHandicapAndTradedRules covers rules no real market message in the
// shared data exercises (no mcm there has a runner change with "hc", or
// "trd": []), with changes built in the shape the decoder produces.
func TestHandicapAndTradedRules(t *testing.T) {
	defRaw := []byte(`{"status":"OPEN","runners":[{"id":1,"hc":-1.5,"status":"ACTIVE"},{"id":1,"hc":1.5,"status":"ACTIVE"}]}`)
	def := &esa.MarketDefinition{Status: "OPEN", Raw: defRaw, Runners: []esa.RunnerDefinition{
		{ID: 1, Hc: -1.5, HasHc: true, Status: "ACTIVE"}, {ID: 1, Hc: 1.5, HasHc: true, Status: "ACTIVE"},
	}}
	mk := func(rc ...esa.RunnerChange) *esa.Message {
		return &esa.Message{Op: esa.OpMCM, Pt: 1, MC: []esa.MarketChange{{ID: []byte("1.2"), RC: rc, Raw: []byte(`{"id":"1.2"}`)}}}
	}
	tests := []struct {
		name  string
		opts  Options
		steps []*esa.Message
		check func(t *testing.T, m *Market)
	}{
		{
			name: "runners keyed by selection and handicap",
			steps: []*esa.Message{
				{Op: esa.OpMCM, MC: []esa.MarketChange{{ID: []byte("1.2"), Def: def, Raw: []byte(`{}`)}}},
				mk(esa.RunnerChange{ID: 1, Hc: 1.5, Fields: esa.FieldHc | esa.FieldLtp, Ltp: 2.5}),
				mk(esa.RunnerChange{ID: 1, Fields: esa.FieldLtp, Ltp: 3}), // hc absent = 0: a third runner
			},
			check: func(t *testing.T, m *Market) {
				if len(m.Runners) != 3 {
					t.Fatalf("%d runners, want 3", len(m.Runners))
				}
				if r := m.Runner(1, 1.5); r.LastPriceTraded != 2.5 || r.Status() != "ACTIVE" {
					t.Errorf("runner (1, 1.5): ltp %v status %q", r.LastPriceTraded, r.Status())
				}
				if r := m.Runner(1, -1.5); r.HasLastPriceTraded {
					t.Errorf("runner (1, -1.5) got an ltp")
				}
				if r := m.Runner(1, 0); r == nil || r.LastPriceTraded != 3 || r.Def != nil {
					t.Errorf("runner (1, 0): %+v", r)
				}
			},
		},
		{
			name: "trd [] empties the traded ladder, cumulative tv follows",
			opts: Options{CumulativeRunnerTv: true, CalculateMarketTv: true},
			steps: []*esa.Message{
				{Op: esa.OpMCM, MC: []esa.MarketChange{{ID: []byte("1.2"), Def: def, Raw: []byte(`{}`)}}},
				mk(esa.RunnerChange{ID: 1, Hc: 1.5, Fields: esa.FieldHc | esa.FieldTrd, Trd: pss(2, 10.1, 2.02, 0.2)}),
				mk(esa.RunnerChange{ID: 1, Hc: -1.5, Fields: esa.FieldHc | esa.FieldTrd | esa.FieldTv, Tv: 99, Trd: pss(3, 5)}),
				mk(esa.RunnerChange{ID: 1, Hc: 1.5, Fields: esa.FieldHc | esa.FieldTrd}),
			},
			check: func(t *testing.T, m *Market) {
				if r := m.Runner(1, 1.5); r.Traded.Len() != 0 || r.TotalMatched != 0 {
					t.Errorf("runner (1, 1.5): traded %v total %v", r.Traded.Levels, r.TotalMatched)
				}
				if r := m.Runner(1, -1.5); r.TotalMatched != 5 {
					t.Errorf("runner (1, -1.5) total %v, want 5 (tv ignored when cumulative)", r.TotalMatched)
				}
				if m.TotalMatched != 5 {
					t.Errorf("market total %v, want 5", m.TotalMatched)
				}
			},
		},
		{
			name: "cumulative tv rounds like Python's round(x, 2)",
			opts: Options{CumulativeRunnerTv: true},
			steps: []*esa.Message{
				mk(esa.RunnerChange{ID: 7, Fields: esa.FieldAtb}),
				mk(esa.RunnerChange{ID: 7, Fields: esa.FieldTrd, Trd: pss(2, 0.1, 3, 0.2, 4, 0.005)}),
			},
			check: func(t *testing.T, m *Market) {
				// 0.1 + 0.2 + 0.005 = 0.30500000000000005 -> 0.31
				if r := m.Runner(7, 0); r.TotalMatched != 0.31 {
					t.Errorf("total %v, want 0.31", r.TotalMatched)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewMarketCache(tt.opts)
			for _, s := range tt.steps {
				c.Apply(s)
			}
			tt.check(t, c.Market("1.2"))
		})
	}
}

func TestRound2(t *testing.T) {
	tests := []struct{ in, want float64 }{
		{0.125, 0.12}, // exactly representable tie: to even
		{0.375, 0.38},
		{2.675, 2.67}, // 2.67499999... in binary
		{1.005, 1},    // 1.00499999...
		{364.445, 364.44},
		{12345.678, 12345.68},
		{0, 0},
	}
	for _, tt := range tests {
		if got := round2(tt.in); got != tt.want {
			t.Errorf("round2(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestRunnerLookup(t *testing.T) {
	m := newMarket("1.1")
	for i := range 100 {
		m.addRunner(int64(1000+i/2), float64(i%2)-0.5)
	}
	for i := range 100 {
		r := m.Runner(int64(1000+i/2), float64(i%2)-0.5)
		if r == nil || r != m.Runners[i] {
			t.Fatalf("runner %d not found", i)
		}
	}
	if m.Runner(999, 0) != nil || m.Runner(1000, 0) != nil {
		t.Error("found a runner that is not there")
	}
	m.reset()
	if m.Runner(1000, -0.5) != nil {
		t.Error("runner survived reset")
	}
	m.addRunner(5, 0)
	if m.Runner(5, math.Copysign(0, -1)) == nil {
		t.Error("handicap -0 did not find runner with handicap 0")
	}
}

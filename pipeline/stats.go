package pipeline

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/tape"
)

// StatsOptions controls CollectStats.
type StatsOptions struct {
	// Workers is how many tapes are processed at once; 0 means one.
	Workers int
	// Strict stops at the first bad line instead of counting and skipping it.
	Strict bool
	// Cache configures the market cache every line is applied to.
	Cache book.Options
	// Log receives warnings about bad input (see tape.Rules); nil discards
	// them.
	Log *slog.Logger
	// Sources says how s3:// inputs are read.
	Sources tape.Sources
	// Progress, if set, is called after each tape with the running totals.
	Progress func(done TapeStats)
}

// TapeStats is what CollectStats learned from one tape (or, as a total,
// from all of them).
type TapeStats struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Member string `json:"member,omitempty"`

	Lines         int64 `json:"lines"`
	MarketChanges int64 `json:"market_changes"`
	OrderChanges  int64 `json:"order_changes"`
	// Skipped counts lines that are recognised but carry no market or order
	// data tapedeck rebuilds (race and cricket lines).
	Skipped    int64  `json:"skipped_lines"`
	Control    int64  `json:"control_lines"` // connection and status lines
	BadLines   int64  `json:"bad_lines"`
	FirstError string `json:"first_error,omitempty"`
	// ReadError is set when the tape could not be read to its end (a
	// truncated or corrupt compressed stream); the lines before it count.
	ReadError string `json:"read_error,omitempty"`

	BytesIn  int64 `json:"bytes_in"`  // as stored (compressed)
	BytesRaw int64 `json:"bytes_raw"` // decompressed

	FirstPt int64 `json:"first_publish_time,omitempty"` // epoch ms
	LastPt  int64 `json:"last_publish_time,omitempty"`

	Markets []MarketSummary `json:"markets,omitempty"`
	// NumMarkets counts the market ids the tape holds changes of, market
	// or order changes (as convert parquet's markets table does); in a
	// total it is the sum over tapes.
	NumMarkets int `json:"n_markets"`

	Wall time.Duration `json:"wall_ns"`

	index int // position in walk order, to restore input order
}

// MarketSummary is a market's state at the end of its tape.
type MarketSummary struct {
	ID      string  `json:"market_id"`
	Status  string  `json:"status"`
	Winners []int64 `json:"winners"`
	// OrdersOnly is set for a market the tape holds order changes of but
	// no market changes (an order tape); it has no status or winners.
	OrdersOnly bool `json:"orders_only,omitempty"`
}

// Stats is the result of CollectStats: one entry per tape, in input order,
// and the total.
type Stats struct {
	Tapes []TapeStats `json:"tapes"`
	Total TapeStats   `json:"total"`
	// Errors lists inputs that could not be read at all (missing file,
	// broken archive); their tapes are absent from Tapes.
	Errors []string `json:"errors,omitempty"`
	// Wall is the elapsed time of the whole run.
	Wall time.Duration `json:"wall_ns"`
}

// UpdatesPerSecond is the rate of market changes over the whole run.
func (s *Stats) UpdatesPerSecond() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return float64(s.Total.MarketChanges) / s.Wall.Seconds()
}

// CollectStats reads, decompresses, decodes and applies every line of every
// tape in inputs to fresh market and order caches, and reports what it saw.
// Tapes are processed on opts.Workers goroutines. Bad input is handled by
// tape.Rules (counted, reported, skipped; the first one stops the run under
// opts.Strict); an input that could not be read makes the error non-nil
// after everything else is read. The stats gathered are returned either way.
func CollectStats(ctx context.Context, inputs []string, opts StatsOptions) (*Stats, error) {
	start := time.Now()
	var (
		mu    sync.Mutex
		tapes []TapeStats
	)
	rules := &tape.Rules{Strict: opts.Strict, Log: opts.Log}
	w := tape.NewWalker(max(opts.Workers, 1), rules, opts.Sources)
	err := w.ForEach(ctx, inputs, func(ctx context.Context, t *tape.Tape) error {
		ts, err := tapeStats(ctx, t, opts, rules)
		mu.Lock()
		tapes = append(tapes, ts)
		mu.Unlock()
		if opts.Progress != nil {
			opts.Progress(ts)
		}
		return err
	})
	st := &Stats{Tapes: tapes, Wall: time.Since(start)}
	for _, e := range rules.Unreadable() {
		st.Errors = append(st.Errors, e.Error())
	}
	st.sortTapes()
	st.Total = total(st.Tapes)
	if err == nil {
		err = rules.Err()
	}
	return st, err
}

// sortTapes puts tapes back in input order: workers finish in any order.
func (s *Stats) sortTapes() {
	sort.Slice(s.Tapes, func(i, j int) bool { return s.Tapes[i].index < s.Tapes[j].index })
}

func total(tapes []TapeStats) TapeStats {
	t := TapeStats{Name: "total"}
	for _, s := range tapes {
		t.Lines += s.Lines
		t.MarketChanges += s.MarketChanges
		t.OrderChanges += s.OrderChanges
		t.Skipped += s.Skipped
		t.Control += s.Control
		t.BadLines += s.BadLines
		if t.FirstError == "" {
			t.FirstError = s.FirstError
		}
		t.BytesIn += s.BytesIn
		t.BytesRaw += s.BytesRaw
		if s.FirstPt != 0 && (t.FirstPt == 0 || s.FirstPt < t.FirstPt) {
			t.FirstPt = s.FirstPt
		}
		t.LastPt = max(t.LastPt, s.LastPt)
		t.NumMarkets += s.NumMarkets
		t.Wall += s.Wall
	}
	return t
}

// tapeStats replays one tape. Its error is non-nil only when the rules
// stop the run (--strict) or the context is done.
func tapeStats(ctx context.Context, t *tape.Tape, opts StatsOptions, rules *tape.Rules) (TapeStats, error) {
	start := time.Now()
	ts := TapeStats{Name: t.Name, Path: t.Path, Member: t.Member, index: t.Index}
	markets := book.NewMarketCache(opts.Cache)
	orders := book.NewOrderCache()
	p, err := tape.Play(ctx, t, rules, func(l *tape.Line) error {
		msg := l.Msg
		switch msg.Op {
		case esa.OpMCM:
			markets.Apply(msg)
			ts.MarketChanges += int64(len(msg.MC))
		case esa.OpOCM:
			orders.Apply(msg)
			ts.OrderChanges += int64(len(msg.OC))
		case esa.OpRCM, esa.OpCCM:
			ts.Skipped++
			return nil
		default:
			ts.Control++
			return nil
		}
		if msg.Pt != 0 {
			if ts.FirstPt == 0 || msg.Pt < ts.FirstPt {
				ts.FirstPt = msg.Pt
			}
			ts.LastPt = max(ts.LastPt, msg.Pt)
		}
		return nil
	})
	ts.Lines, ts.BadLines = p.Lines, p.BadLines
	if p.FirstError != nil {
		ts.FirstError = p.FirstError.Error()
	}
	if p.Cut != nil {
		ts.ReadError = p.Cut.Error()
	}
	ts.BytesIn, ts.BytesRaw = t.CompressedBytes(), t.DecompressedBytes()
	for _, m := range markets.Markets() {
		ts.Markets = append(ts.Markets, summarise(m))
	}
	// A market the tape holds only orders of is a market too, as in
	// convert parquet's markets table: both count every market id met.
	for _, om := range orders.Markets() {
		if markets.Market(om.ID) == nil {
			ts.Markets = append(ts.Markets, MarketSummary{ID: om.ID, Winners: []int64{}, OrdersOnly: true})
		}
	}
	sort.Slice(ts.Markets, func(i, j int) bool { return ts.Markets[i].ID < ts.Markets[j].ID })
	ts.NumMarkets = len(ts.Markets)
	ts.Wall = time.Since(start)
	return ts, err
}

func summarise(m *book.Market) MarketSummary {
	s := MarketSummary{ID: m.ID, Winners: []int64{}}
	if d := m.Def; d != nil {
		s.Status = d.Status
		for _, r := range d.Runners {
			if r.Status == "WINNER" {
				s.Winners = append(s.Winners, r.ID)
			}
		}
	}
	return s
}

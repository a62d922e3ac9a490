package pipeline

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// StatsOptions controls CollectStats.
type StatsOptions struct {
	// Workers is how many tapes are processed at once; 0 means one.
	Workers int
	// Strict stops at the first bad line instead of counting and skipping it.
	Strict bool
	// Cache configures the market cache every line is applied to.
	Cache book.Options
	// Log receives one warning per bad line; nil discards them.
	Log *slog.Logger
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
	// NumMarkets counts markets; in a total it is the sum over tapes.
	NumMarkets int `json:"n_markets"`

	Wall time.Duration `json:"wall_ns"`

	index int // position in walk order, to restore input order
}

// MarketSummary is a market's state at the end of its tape.
type MarketSummary struct {
	ID      string  `json:"market_id"`
	Status  string  `json:"status"`
	Winners []int64 `json:"winners"`
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
// Tapes are processed on opts.Workers goroutines. A bad line is counted and
// skipped (and logged) unless opts.Strict, in which case the first one ends
// the run with an *InputError; the stats gathered so far are still returned.
func CollectStats(ctx context.Context, inputs []string, opts StatsOptions) (*Stats, error) {
	start := time.Now()
	var (
		mu    sync.Mutex
		tapes []TapeStats
	)
	w := &Walker{Workers: max(opts.Workers, 1)}
	var inputErrs []string
	if !opts.Strict {
		// A missing input or a broken archive is reported and the rest is
		// still read.
		w.OnError = func(err error) error {
			mu.Lock()
			inputErrs = append(inputErrs, err.Error())
			mu.Unlock()
			if opts.Log != nil {
				opts.Log.Warn("input skipped", "err", err)
			}
			return nil
		}
	}
	err := w.ForEach(ctx, inputs, func(ctx context.Context, t *Tape) error {
		ts, err := tapeStats(ctx, t, opts)
		mu.Lock()
		tapes = append(tapes, ts)
		mu.Unlock()
		if opts.Progress != nil {
			opts.Progress(ts)
		}
		return err
	})
	st := &Stats{Tapes: tapes, Errors: inputErrs, Wall: time.Since(start)}
	st.sortTapes()
	st.Total = total(st.Tapes)
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

// tapeStats replays one tape. Its error is non-nil only when the tape could
// not be read to the end, or under Strict at the first bad line.
func tapeStats(ctx context.Context, t *Tape, opts StatsOptions) (TapeStats, error) {
	start := time.Now()
	ts := TapeStats{Name: t.Name, Path: t.Path, Member: t.Member, index: t.Index}
	markets := book.NewMarketCache(opts.Cache)
	orders := book.NewOrderCache()
	dec := esa.NewDecoder()
	var msg esa.Message

	var badLine error // the bad line that stopped a --strict run
	err := eachLine(t, func(line []byte, n int) error {
		ts.Lines++
		if err := dec.Decode(line, &msg); err != nil {
			ierr := t.ErrorAt(n, err)
			ts.BadLines++
			if ts.FirstError == "" {
				ts.FirstError = ierr.Error()
			}
			if opts.Strict {
				badLine = ierr
				return ierr
			}
			if opts.Log != nil {
				opts.Log.Warn("bad line skipped", "err", ierr)
			}
			return nil
		}
		switch msg.Op {
		case esa.OpMCM:
			markets.Apply(&msg)
			ts.MarketChanges += int64(len(msg.MC))
		case esa.OpOCM:
			orders.Apply(&msg)
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
	ts.BytesIn, ts.BytesRaw = t.CompressedBytes(), t.DecompressedBytes()
	for _, m := range markets.Markets() {
		ts.Markets = append(ts.Markets, summarise(m))
	}
	sort.Slice(ts.Markets, func(i, j int) bool { return ts.Markets[i].ID < ts.Markets[j].ID })
	ts.NumMarkets = len(ts.Markets)
	ts.Wall = time.Since(start)
	if err != nil && err != badLine {
		// A read error (a truncated or corrupt stream) is not a bad line,
		// but it is this tape's problem: note it, keep what was read.
		if ts.FirstError == "" {
			ts.FirstError = err.Error()
		}
		ts.ReadError = err.Error()
		if !opts.Strict {
			if opts.Log != nil {
				opts.Log.Warn("tape cut short", "err", err)
			}
			return ts, nil
		}
	}
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

// eachLine calls fn with each line of t and its 1-based number. It returns
// fn's first error, or the tape's read error.
func eachLine(t *Tape, fn func(line []byte, n int) error) error {
	lr, err := t.Lines()
	if err != nil {
		return err
	}
	defer lr.Close()
	for lr.Next() {
		if err := fn(lr.Bytes(), lr.Line()); err != nil {
			return err
		}
	}
	return lr.Err()
}

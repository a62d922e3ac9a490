package report

import (
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// The files a recorded run adds to its results directory, beside
// orders and markets.
const (
	PricesFile     = "prices.parquet"
	FillsFile      = "fills.parquet"
	MarketInfoFile = "market_info.parquet"
)

// MaxPoints is how many points of one runner's price series a recorder
// keeps: a chart a few hundred pixels wide shows no more.
const MaxPoints = 200

// PriceRow is one point of a runner's price series: best back, best lay
// and last traded price (0 when there is none) from publish time At until
// the next point.
type PriceRow struct {
	MarketID    string  `parquet:"market_id,dict"`
	SelectionID int64   `parquet:"selection_id"`
	Handicap    float64 `parquet:"handicap"`
	RunnerName  string  `parquet:"runner_name,dict"`
	At          int64   `parquet:"at,timestamp(millisecond)"`
	Back        float64 `parquet:"back"`
	Lay         float64 `parquet:"lay"`
	LTP         float64 `parquet:"ltp"`
}

// FillRow is one match of one order.
type FillRow struct {
	MarketID string  `parquet:"market_id,dict"`
	OrderID  int64   `parquet:"order_id"`
	At       int64   `parquet:"at,timestamp(millisecond)"`
	Price    float64 `parquet:"price"`
	Size     float64 `parquet:"size"`
}

// MarketInfo is what the report needs to know of a market beyond its
// P&L: names, where and when. Times are epoch ms, 0 when unknown; OffAt is
// the first book in play, SettledAt the CLOSED book.
type MarketInfo struct {
	MarketID    string `parquet:"market_id"`
	MarketName  string `parquet:"market_name"`
	EventName   string `parquet:"event_name"`
	EventTypeID string `parquet:"event_type_id"`
	MarketType  string `parquet:"market_type"`
	Venue       string `parquet:"venue"`
	CountryCode string `parquet:"country_code"`
	MarketTime  int64  `parquet:"market_time,timestamp(millisecond)"`
	FirstAt     int64  `parquet:"first_at,timestamp(millisecond)"`
	OffAt       int64  `parquet:"off_at,timestamp(millisecond)"`
	SettledAt   int64  `parquet:"settled_at,timestamp(millisecond)"`
	LastAt      int64  `parquet:"last_at,timestamp(millisecond)"`
}

// Recorder keeps, for every market a replay applies, its MarketInfo and
// each runner's price series thinned to MaxPoints. Pass its NewObserver as
// engine.Config.NewObserver; it is safe for the replay's many units.
type Recorder struct {
	mu    sync.Mutex
	units []*observer
}

// NewObserver returns the observer of one replay unit.
func (r *Recorder) NewObserver() engine.Observer {
	o := &observer{markets: map[string]*marketRec{}}
	r.mu.Lock()
	r.units = append(r.units, o)
	r.mu.Unlock()
	return o
}

// observer records one replay unit's markets; the engine calls it from
// one goroutine.
type observer struct {
	markets map[string]*marketRec
	list    []*marketRec
	last    *marketRec
}

type marketRec struct {
	info    MarketInfo
	def     *esa.MarketDefinition
	rawTime string
	runners []*runnerRec
	done    bool
}

type point struct {
	at             int64
	back, lay, ltp float64
}

type runnerRec struct {
	id   int64
	hc   float64
	name string
	pts  []point
}

func (o *observer) Book(b *book.Market, now int64) {
	m := o.last
	if m == nil || m.info.MarketID != b.ID {
		m = o.markets[b.ID]
		if m == nil {
			m = &marketRec{info: MarketInfo{MarketID: b.ID, FirstAt: now}}
			o.markets[b.ID] = m
			o.list = append(o.list, m)
		}
		o.last = m
	}
	if m.done {
		return
	}
	m.info.LastAt = now
	if d := b.Def; d != nil {
		if d != m.def {
			m.define(d)
		}
		if d.InPlay && m.info.OffAt == 0 {
			m.info.OffAt = now
		}
	}
	for i, r := range b.Runners {
		rr := m.runner(i, r)
		p := point{at: now, back: bestBack(r), lay: bestLay(r)}
		if r.HasLastPriceTraded {
			p.ltp = r.LastPriceTraded
		}
		if n := len(rr.pts); n > 0 {
			q := rr.pts[n-1]
			if q.back == p.back && q.lay == p.lay && q.ltp == p.ltp {
				continue
			}
		}
		rr.pts = append(rr.pts, p)
	}
	if b.Closed() {
		m.info.SettledAt = now
		m.done = true
		for _, rr := range m.runners {
			rr.pts = thin(rr.pts, MaxPoints)
		}
	}
}

// define takes the names, place and times of a new market definition.
func (m *marketRec) define(d *esa.MarketDefinition) {
	m.def = d
	in := &m.info
	if d.Name != "" {
		in.MarketName = d.Name
	}
	if d.EventName != "" {
		in.EventName = d.EventName
	}
	in.EventTypeID, in.MarketType, in.Venue, in.CountryCode = d.EventTypeID, d.MarketType, d.Venue, d.CountryCode
	if d.MarketTime != m.rawTime {
		m.rawTime = d.MarketTime
		if t, err := time.Parse(time.RFC3339Nano, d.MarketTime); err == nil {
			in.MarketTime = t.UnixMilli()
		}
	}
	for _, rd := range d.Runners {
		for _, rr := range m.runners {
			if rr.id == rd.ID && rr.hc == rd.Hc && rd.Name != "" {
				rr.name = rd.Name
			}
		}
	}
}

// runner returns the record of the book's i-th runner r; the book keeps
// runners in the order first seen, so index i is almost always it.
func (m *marketRec) runner(i int, r *book.Runner) *runnerRec {
	if i < len(m.runners) && m.runners[i].id == r.SelectionID && m.runners[i].hc == r.Handicap {
		return m.runners[i]
	}
	for _, rr := range m.runners {
		if rr.id == r.SelectionID && rr.hc == r.Handicap {
			return rr
		}
	}
	rr := &runnerRec{id: r.SelectionID, hc: r.Handicap}
	if r.Def != nil {
		rr.name = r.Def.Name
	}
	m.runners = append(m.runners, rr)
	return rr
}

func bestBack(r *book.Runner) float64 {
	if len(r.AvailableToBack.Levels) > 0 {
		return r.AvailableToBack.Levels[0].Price
	}
	for _, l := range r.BestAvailableToBack.Levels {
		if l.Level == 0 {
			return l.Price
		}
	}
	return 0
}

func bestLay(r *book.Runner) float64 {
	if len(r.AvailableToLay.Levels) > 0 {
		return r.AvailableToLay.Levels[0].Price
	}
	for _, l := range r.BestAvailableToLay.Levels {
		if l.Level == 0 {
			return l.Price
		}
	}
	return 0
}

// thin keeps at most n points of a step series: the first, the last, and
// the last point of each of n-2 equal runs of the points between. Runs are
// by count, not by time, so the busy minutes before the off keep more
// detail than the quiet hours before them.
func thin(pts []point, n int) []point {
	if len(pts) <= n {
		return pts
	}
	out := make([]point, 0, n)
	out = append(out, pts[0])
	inner := pts[1 : len(pts)-1]
	buckets := n - 2
	for b := 1; b <= buckets; b++ {
		end := b * len(inner) / buckets
		out = append(out, inner[end-1])
	}
	return append(out, pts[len(pts)-1])
}

// Write writes into dir what the run recorded (MarketInfoFile, PricesFile
// for the runners orders were placed on, FillsFile) and returns it as a
// Data without orders and markets, for Complete.
func (r *Recorder) Write(dir string, orders []*engine.Order) (*Data, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := &Data{Info: []MarketInfo{}, Prices: []PriceRow{}, Fills: []FillRow{}}
	type runnerKey struct {
		market string
		id     int64
		hc     float64
	}
	traded := map[runnerKey]bool{}
	for _, o := range orders {
		traded[runnerKey{o.MarketID(), o.SelectionID(), o.Handicap()}] = true
		for _, f := range o.Matched() {
			d.Fills = append(d.Fills, FillRow{MarketID: o.MarketID(), OrderID: int64(o.ID()), At: f.Pt, Price: f.Price, Size: f.Size})
		}
	}
	var recs []*marketRec
	for _, u := range r.units {
		recs = append(recs, u.list...)
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].info.MarketID < recs[j].info.MarketID })
	n := 0
	for _, m := range recs {
		for _, rr := range m.runners {
			if traded[runnerKey{m.info.MarketID, rr.id, rr.hc}] {
				n += min(len(rr.pts), MaxPoints)
			}
		}
	}
	// Sized once: growing a slice of tens of thousands of rows cost more
	// than writing them.
	d.Prices = make([]PriceRow, 0, n)
	for _, m := range recs {
		d.Info = append(d.Info, m.info)
		for _, rr := range m.runners {
			// The report draws the runners the strategy traded; keeping
			// only theirs keeps a long run's prices small.
			if !traded[runnerKey{m.info.MarketID, rr.id, rr.hc}] {
				continue
			}
			for _, p := range thin(rr.pts, MaxPoints) {
				d.Prices = append(d.Prices, PriceRow{MarketID: m.info.MarketID, SelectionID: rr.id, Handicap: rr.hc, RunnerName: rr.name,
					At: p.at, Back: p.back, Lay: p.lay, LTP: p.ltp})
			}
		}
	}
	if err := writeParquet(filepath.Join(dir, MarketInfoFile), d.Info); err != nil {
		return nil, err
	}
	if err := writeParquet(filepath.Join(dir, PricesFile), d.Prices); err != nil {
		return nil, err
	}
	if err := writeParquet(filepath.Join(dir, FillsFile), d.Fills); err != nil {
		return nil, err
	}
	return d, nil
}

func writeParquet[T any](path string, rows []T) error {
	// The default codec, as for orders and markets: a fresh ZSTD encoder
	// allocates an 8 MiB window, which cost more than the whole report.
	if err := parquet.WriteFile(path, rows); err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	return nil
}

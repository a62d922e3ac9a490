package report

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"
)

// pageData is the JSON the page's script reads: every market and order,
// and the traded runners' price series, in arrays rather than objects to
// keep a 10,000-market report small. Columns are named in mcols/ocols so
// the script and a reader of the file need no guessing.
type pageData struct {
	Ticks  []float64          `json:"ticks"`
	MCols  []string           `json:"mcols"`
	Mkts   [][]any            `json:"markets"`
	OCols  []string           `json:"ocols"`
	Orders [][]any            `json:"orders"`
	Fills  map[string][][]any `json:"fills"`   // by "market/order": [at, price, size]
	Series map[string][]any   `json:"series"`  // by market id: runners with orders
	Names  map[string]string  `json:"runners"` // "market/selection" → runner name
}

var mcols = []string{"id", "name", "event", "type", "venue", "country", "market_time", "off_at", "settled_at",
	"status", "orders", "orders_matched", "size_matched", "profit", "commission", "net", "strategy_errors"}

var ocols = []string{"market_id", "order_id", "selection_id", "handicap", "side", "order_type", "persistence", "price", "size",
	"placed_at", "status", "size_matched", "average_price_matched", "size_cancelled", "size_lapsed", "size_voided",
	"runner_status", "profit", "queue_ahead_at_place", "violation", "error_code"}

// The per-market chart's window and detail: from ChartBefore the first of
// the strategy's orders, fills, the scheduled off and the off, to
// ChartAfter the last of them, at most ChartPoints points per line.
const (
	ChartBefore = 5 * time.Minute
	ChartAfter  = 2 * time.Minute
	ChartPoints = 120
)

// pagePoints is how many chart points a page carries in all, at about 3.7
// bytes each once gzipped and in base64: some 9 MB, which keeps a
// 10,000-market report under 20 MB with its orders (TestReportSize).
const pagePoints = 2_500_000

// chartPoints is the points per line when runners lines are drawn: all
// ChartPoints while the page's budget allows, fewer (never under 40) for
// a long run.
func chartPoints(runners int) int {
	if runners == 0 {
		return ChartPoints
	}
	return max(min(ChartPoints, pagePoints/runners), 40)
}

type window struct{ from, to int64 }

// encodeSeries encodes one runner's points as
// [selection_id, handicap, t0, dt[], back[], lay[], ltp[]]: t0 in epoch ms,
// dt the tenths of a second from one point to the next, and each price as
// the change of (its tick index + 1, 0 for none) from the point before.
// Small repeating numbers are what gzip packs best.
func encodeSeries(sel int64, hc float64, pts []point) []any {
	n := len(pts)
	dt, bk, ly, lt := make([]int64, n), make([]int, n), make([]int, n), make([]int, n)
	prev := pts[0].at
	var pb, pl, pt int
	for k, q := range pts {
		dt[k] = (q.at - prev + 50) / 100
		prev += dt[k] * 100
		b, l, t := tickIndex(q.back)+1, tickIndex(q.lay)+1, tickIndex(q.ltp)+1
		bk[k], ly[k], lt[k] = b-pb, l-pl, t-pt
		pb, pl, pt = b, l, t
	}
	return []any{sel, hc, pts[0].at, dt, bk, ly, lt}
}

// dataJSON builds the page's data.
func dataJSON(d *Data) ([]byte, error) {
	// Empty, never null: the page's script walks them as arrays.
	pd := pageData{MCols: mcols, OCols: ocols, Mkts: [][]any{}, Orders: [][]any{},
		Fills: map[string][][]any{}, Series: map[string][]any{}, Names: map[string]string{}}
	for i := range 350 {
		pd.Ticks = append(pd.Ticks, tickPrice(i))
	}
	info := map[string]MarketInfo{}
	for _, in := range d.Info {
		info[in.MarketID] = in
	}
	for _, m := range d.Markets {
		in := info[m.MarketID]
		pd.Mkts = append(pd.Mkts, []any{m.MarketID, in.MarketName, in.EventName, m.MarketType, in.Venue, in.CountryCode,
			in.MarketTime, in.OffAt, in.SettledAt, m.Status, m.Orders, m.OrdersMatched, m.SizeMatched, m.Profit, m.Commission, m.Net, m.StrategyErrors})
	}
	traded := map[string]map[[2]float64]bool{}
	span := map[string]*window{}
	widen := func(id string, t int64) {
		if t <= 0 {
			return
		}
		w := span[id]
		if w == nil {
			w = &window{from: t, to: t}
			span[id] = w
		}
		w.from, w.to = min(w.from, t), max(w.to, t)
	}
	for _, o := range d.Orders {
		pd.Orders = append(pd.Orders, []any{o.MarketID, o.OrderID, o.SelectionID, o.Handicap, o.Side, o.OrderType, o.Persistence,
			o.Price, o.Size, o.PlacedAt, o.Status, o.SizeMatched, o.AveragePriceMatched, o.SizeCancelled, o.SizeLapsed,
			o.SizeVoided, o.RunnerStatus, o.Profit, o.QueueAheadAtPlace, o.Violation, o.ErrorCode})
		if traded[o.MarketID] == nil {
			traded[o.MarketID] = map[[2]float64]bool{}
		}
		traded[o.MarketID][[2]float64{float64(o.SelectionID), o.Handicap}] = true
		widen(o.MarketID, o.PlacedAt)
	}
	for _, f := range d.Fills {
		k := f.MarketID + "/" + itoa(f.OrderID)
		pd.Fills[k] = append(pd.Fills[k], []any{f.At, f.Price, f.Size})
		widen(f.MarketID, f.At)
	}
	for _, in := range d.Info {
		if span[in.MarketID] != nil {
			widen(in.MarketID, in.MarketTime)
			widen(in.MarketID, in.OffAt)
		}
	}
	// Prices come sorted by market, runner, time from Recorder.Write; sort
	// anyway, as a results directory may have been rewritten by hand.
	byRunnerTime := func(a, b PriceRow) int {
		return cmp.Or(cmp.Compare(a.MarketID, b.MarketID), cmp.Compare(a.SelectionID, b.SelectionID),
			cmp.Compare(a.Handicap, b.Handicap), cmp.Compare(a.At, b.At))
	}
	prices := d.Prices
	if !slices.IsSortedFunc(prices, byRunnerTime) {
		prices = slices.Clone(prices)
		slices.SortStableFunc(prices, byRunnerTime)
	}
	type run struct {
		market string
		sel    int64
		hc     float64
		pts    []point
	}
	var (
		pts  []point
		runs []run
	)
	for i := 0; i < len(prices); {
		j := i
		p := prices[i]
		for j < len(prices) && prices[j].MarketID == p.MarketID && prices[j].SelectionID == p.SelectionID && prices[j].Handicap == p.Handicap {
			j++
		}
		if p.RunnerName != "" {
			pd.Names[p.MarketID+"/"+itoa(p.SelectionID)] = p.RunnerName
		}
		w := span[p.MarketID]
		if traded[p.MarketID][[2]float64{float64(p.SelectionID), p.Handicap}] && w != nil {
			// The chart shows the minutes around the strategy's orders and
			// the off (ChartBefore, ChartAfter); the page carries only
			// those, thinned to ChartPoints, with the point in force at
			// the window's start.
			from, to := w.from-ChartBefore.Milliseconds(), w.to+ChartAfter.Milliseconds()
			pts = pts[:0]
			for k, q := range prices[i:j] {
				if q.At > to {
					break
				}
				if q.At < from && i+k+1 < j && prices[i+k+1].At <= from {
					continue
				}
				pts = append(pts, point{at: q.At, back: q.Back, lay: q.Lay, ltp: q.LTP})
			}
			if len(pts) > 0 {
				runs = append(runs, run{p.MarketID, p.SelectionID, p.Handicap, slices.Clone(pts)})
			}
		}
		i = j
	}
	per := chartPoints(len(runs))
	for _, r := range runs {
		pd.Series[r.market] = append(pd.Series[r.market], encodeSeries(r.sel, r.hc, thin(r.pts, per)))
	}
	return json.Marshal(pd)
}

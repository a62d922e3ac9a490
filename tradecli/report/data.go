package report

import (
	"cmp"
	"encoding/json"
	"slices"
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

// dataJSON builds the page's data. A runner's series is
// [selection_id, handicap, t0, dt[], back[], lay[], ltp[]]: times in tenths
// of a second after t0 (epoch ms) as deltas, prices as tick indices (-1 none).
func dataJSON(d *Data) ([]byte, error) {
	pd := pageData{MCols: mcols, OCols: ocols, Fills: map[string][][]any{}, Series: map[string][]any{}, Names: map[string]string{}}
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
	for _, o := range d.Orders {
		pd.Orders = append(pd.Orders, []any{o.MarketID, o.OrderID, o.SelectionID, o.Handicap, o.Side, o.OrderType, o.Persistence,
			o.Price, o.Size, o.PlacedAt, o.Status, o.SizeMatched, o.AveragePriceMatched, o.SizeCancelled, o.SizeLapsed,
			o.SizeVoided, o.RunnerStatus, o.Profit, o.QueueAheadAtPlace, o.Violation, o.ErrorCode})
		if traded[o.MarketID] == nil {
			traded[o.MarketID] = map[[2]float64]bool{}
		}
		traded[o.MarketID][[2]float64{float64(o.SelectionID), o.Handicap}] = true
	}
	for _, f := range d.Fills {
		k := f.MarketID + "/" + itoa(f.OrderID)
		pd.Fills[k] = append(pd.Fills[k], []any{f.At, f.Price, f.Size})
	}
	// Prices come sorted by market, runner, time from Recorder.Write; sort
	// anyway, as a results directory may have been rewritten by hand.
	prices := slices.Clone(d.Prices)
	slices.SortStableFunc(prices, func(a, b PriceRow) int {
		return cmp.Or(cmp.Compare(a.MarketID, b.MarketID), cmp.Compare(a.SelectionID, b.SelectionID),
			cmp.Compare(a.Handicap, b.Handicap), cmp.Compare(a.At, b.At))
	})
	for i := 0; i < len(prices); {
		j := i
		p := prices[i]
		for j < len(prices) && prices[j].MarketID == p.MarketID && prices[j].SelectionID == p.SelectionID && prices[j].Handicap == p.Handicap {
			j++
		}
		if p.RunnerName != "" {
			pd.Names[p.MarketID+"/"+itoa(p.SelectionID)] = p.RunnerName
		}
		if traded[p.MarketID][[2]float64{float64(p.SelectionID), p.Handicap}] {
			n := j - i
			dt, bk, ly, lt := make([]int64, n), make([]int, n), make([]int, n), make([]int, n)
			prev := p.At
			for k, q := range prices[i:j] {
				dt[k] = (q.At - prev + 50) / 100
				prev += dt[k] * 100
				bk[k], ly[k], lt[k] = tickIndex(q.Back), tickIndex(q.Lay), tickIndex(q.LTP)
			}
			pd.Series[p.MarketID] = append(pd.Series[p.MarketID], []any{p.SelectionID, p.Handicap, p.At, dt, bk, ly, lt})
		}
		i = j
	}
	return json.Marshal(pd)
}

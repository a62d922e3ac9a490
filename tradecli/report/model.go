package report

import (
	"cmp"
	"fmt"
	"html/template"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/book"
)

// figure is one number of the summary; Key names it for tests and scripts
// (data-figure in the page).
type figure struct {
	Key, Label, Value string
}

// breakdown is P&L and matched volume grouped one way, as a chart and a
// table.
type breakdown struct {
	Title  string
	ByMkt  bool // groups of markets: the table has a net column
	Chart  template.HTML
	Groups []group
}

type group struct {
	Key            string
	Order          int // the key's natural place (bands, time buckets)
	Markets        int
	Orders         int
	Matched        int
	Volume, Profit float64
	Net            float64
	mkts           map[string]bool
}

// fillBucket is one bucket of a fill statistic.
type fillBucket struct {
	Key                 string
	Orders, Filled      int
	Size, Matched       float64
	OrderRate, SizeRate float64
}

// page is what the template shows.
type page struct {
	Title      string
	Run        *Run
	Figures    []figure
	Recorded   bool // the run recorded prices, info and fills
	PnL        template.HTML
	Drawdown   template.HTML
	PerDayMkts template.HTML
	PerDayOrds template.HTML
	Breakdowns []breakdown
	Fill       fillStats
	Best       []Market
	Worst      []Market
	Data       template.HTML // gzipped JSON in base64: nothing to escape
	CSS        template.CSS
	Script     template.JS
}

type fillStats struct {
	Orders, Filled, Full      int
	Size, Matched             float64
	Cancelled, Lapsed, Voided float64
	OrderRate, SizeRate       string
	Statuses                  []group
	TimeToMatch               []fillBucket
	TimeChart                 template.HTML
	Queue                     []fillBucket
	QueueChart                template.HTML
	MedianSecondsToMatch      string
}

// figures are the summary's numbers from the markets and orders tables,
// added up as trade backtest's summary adds them.
func figures(d *Data) []figure {
	var volume, profit, comm, net float64
	var errs, matched int64
	for _, m := range d.Markets {
		volume += m.SizeMatched
		profit += m.Profit
		comm += m.Commission
		net += m.Net
		errs += m.StrategyErrors
		matched += m.OrdersMatched
	}
	violations := 0
	for _, o := range d.Orders {
		if o.Status == "VIOLATION" {
			violations++
		}
	}
	return []figure{
		{"markets", "markets", fmt.Sprint(len(d.Markets))},
		{"orders", "orders", fmt.Sprint(len(d.Orders))},
		{"orders_matched", "orders matched", fmt.Sprint(matched)},
		{"violations", "violations", fmt.Sprint(violations)},
		{"size_matched", "matched volume", money(engine.Round2(volume))},
		{"profit", "profit", money(engine.Round2(profit))},
		{"commission", "commission", money(engine.Round2(comm))},
		{"net", "net", money(engine.Round2(net))},
		{"strategy_errors", "strategy errors", fmt.Sprint(errs)},
	}
}

// settleTimes returns each market's settlement time: the CLOSED book when
// recorded, else its last book, else its last order's placement.
func settleTimes(d *Data) map[string]int64 {
	at := map[string]int64{}
	for _, o := range d.Orders {
		at[o.MarketID] = max(at[o.MarketID], o.PlacedAt)
	}
	for _, in := range d.Info {
		switch {
		case in.SettledAt > 0:
			at[in.MarketID] = in.SettledAt
		case in.LastAt > 0:
			at[in.MarketID] = in.LastAt
		}
	}
	return at
}

// pnl draws cumulative net by settlement time and the drawdown under it.
func pnl(p *page, d *Data, settled map[string]int64) {
	ms := slices.Clone(d.Markets)
	ms = slices.DeleteFunc(ms, func(m Market) bool { return settled[m.MarketID] == 0 })
	slices.SortStableFunc(ms, func(a, b Market) int {
		return cmp.Or(cmp.Compare(settled[a.MarketID], settled[b.MarketID]), cmp.Compare(a.MarketID, b.MarketID))
	})
	if len(ms) == 0 {
		return
	}
	xs := make([]int64, len(ms))
	cum := make([]float64, len(ms))
	dd := make([]float64, len(ms))
	var c, peak float64
	for i, m := range ms {
		c += m.Net
		peak = math.Max(peak, c)
		xs[i], cum[i], dd[i] = settled[m.MarketID], engine.Round2(c), engine.Round2(c-peak)
	}
	p.PnL = lineChart("cumulative net profit by settlement time", xs, series{ys: cum, class: "pnl"})
	p.Drawdown = lineChart("drawdown from the running peak of net profit", xs, series{ys: dd, class: "dd", area: true})
	days := map[string]float64{}
	for _, m := range ms {
		days[day(settled[m.MarketID])]++
	}
	labels, vals := sortedCounts(days)
	p.PerDayMkts = columnChart("markets per day (by settlement)", labels, vals)
	odays := map[string]float64{}
	for _, o := range d.Orders {
		if o.PlacedAt > 0 {
			odays[day(o.PlacedAt)]++
		}
	}
	labels, vals = sortedCounts(odays)
	p.PerDayOrds = columnChart("orders per day (by placement)", labels, vals)
}

func day(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02") }

func sortedCounts(m map[string]float64) ([]string, []float64) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make([]float64, len(keys))
	for i, k := range keys {
		vals[i] = m[k]
	}
	return keys, vals
}

// eventTypes names Betfair's common event type ids.
var eventTypes = map[string]string{"1": "Soccer", "2": "Tennis", "4": "Cricket", "7": "Horse Racing", "4339": "Greyhound Racing",
	"7522": "Basketball", "6423": "American Football", "7511": "Baseball", "1477": "Rugby League", "5": "Rugby Union",
	"3": "Golf", "6": "Boxing", "2378961": "Politics"}

// priceBand is the band of Betfair's price ladder holding price: within a
// band the tick size is the same.
func priceBand(price float64) (string, int) {
	bands := []struct {
		to   float64
		name string
	}{{2, "1.01–2 (0.01)"}, {3, "2–3 (0.02)"}, {4, "3–4 (0.05)"}, {6, "4–6 (0.1)"}, {10, "6–10 (0.2)"},
		{20, "10–20 (0.5)"}, {30, "20–30 (1)"}, {50, "30–50 (2)"}, {100, "50–100 (5)"}, {1000, "100–1000 (10)"}}
	if price <= 0 {
		return "no price (BSP)", len(bands)
	}
	for i, b := range bands {
		if price <= b.to {
			return b.name, i
		}
	}
	return "over 1000", len(bands)
}

// toOff is the bucket of seconds from placement to the scheduled off.
func toOff(secs float64) (string, int) {
	switch {
	case secs < 0:
		return "after the off", 8
	case secs < 10:
		return "0–10 s", 7
	case secs < 30:
		return "10–30 s", 6
	case secs < 60:
		return "30–60 s", 5
	case secs < 120:
		return "1–2 min", 4
	case secs < 300:
		return "2–5 min", 3
	case secs < 900:
		return "5–15 min", 2
	case secs < 3600:
		return "15–60 min", 1
	}
	return "over 1 h", 0
}

func orString(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// breakdowns groups P&L and volume by market type, venue, country, event
// type (markets) and by price band, side and time to the off (orders).
// An order's profit is its own; a market's net is the markets table's.
func breakdowns(d *Data) []breakdown {
	info := map[string]MarketInfo{}
	for _, in := range d.Info {
		info[in.MarketID] = in
	}
	mkt := map[string]Market{}
	for _, m := range d.Markets {
		mkt[m.MarketID] = m
	}
	type dim struct {
		title string
		byMkt bool
		key   func(o *Order, m Market, in MarketInfo) (string, int)
	}
	dims := []dim{
		{"market type", true, func(_ *Order, m Market, _ MarketInfo) (string, int) { return orString(m.MarketType, "unknown"), 0 }},
		{"venue", true, func(_ *Order, _ Market, in MarketInfo) (string, int) { return orString(in.Venue, "unknown"), 0 }},
		{"country", true, func(_ *Order, _ Market, in MarketInfo) (string, int) { return orString(in.CountryCode, "unknown"), 0 }},
		{"event type", true, func(_ *Order, _ Market, in MarketInfo) (string, int) {
			if n, ok := eventTypes[in.EventTypeID]; ok {
				return n, 0
			}
			return orString(in.EventTypeID, "unknown"), 0
		}},
		{"price band of the order (Betfair's tick bands)", false, func(o *Order, _ Market, _ MarketInfo) (string, int) { return priceBand(o.Price) }},
		{"side", false, func(o *Order, _ Market, _ MarketInfo) (string, int) { return o.Side, 0 }},
		{"time to the scheduled off at placement", false, func(o *Order, _ Market, in MarketInfo) (string, int) {
			if in.MarketTime == 0 || o.PlacedAt == 0 {
				return "unknown", 9
			}
			return toOff(float64(in.MarketTime-o.PlacedAt) / 1000)
		}},
	}
	var out []breakdown
	for _, dm := range dims {
		gs := map[string]*group{}
		get := func(k string, ord int) *group {
			g := gs[k]
			if g == nil {
				g = &group{Key: k, Order: ord, mkts: map[string]bool{}}
				gs[k] = g
			}
			return g
		}
		if dm.byMkt {
			for _, m := range d.Markets {
				k, ord := dm.key(nil, m, info[m.MarketID])
				g := get(k, ord)
				g.Net += m.Net
				g.mkts[m.MarketID] = true
			}
		}
		for i := range d.Orders {
			o := &d.Orders[i]
			k, ord := dm.key(o, mkt[o.MarketID], info[o.MarketID])
			g := get(k, ord)
			g.mkts[o.MarketID] = true
			g.Orders++
			if o.SizeMatched > 0 {
				g.Matched++
			}
			g.Volume += o.SizeMatched
			g.Profit += o.Profit
		}
		b := breakdown{Title: dm.title, ByMkt: dm.byMkt}
		for _, g := range gs {
			g.Markets = len(g.mkts)
			g.Volume, g.Profit, g.Net = engine.Round2(g.Volume), engine.Round2(g.Profit), engine.Round2(g.Net)
			b.Groups = append(b.Groups, *g)
		}
		slices.SortFunc(b.Groups, func(x, y group) int {
			if x.Order != y.Order {
				return cmp.Compare(x.Order, y.Order)
			}
			return cmp.Compare(x.Key, y.Key)
		})
		labels := make([]string, len(b.Groups))
		vals := make([]float64, len(b.Groups))
		for i, g := range b.Groups {
			labels[i] = g.Key
			vals[i] = g.Profit
			if dm.byMkt {
				vals[i] = g.Net
			}
		}
		what := "profit of orders"
		if dm.byMkt {
			what = "net profit of markets"
		}
		b.Chart = barChart(what+" by "+dm.title, labels, vals)
		out = append(out, b)
	}
	return out
}

// fills computes the fill statistics of the orders that reached the
// exchange.
func fills(d *Data) fillStats {
	var f fillStats
	first := map[[2]string]int64{}
	for _, fl := range d.Fills {
		k := [2]string{fl.MarketID, fmt.Sprint(fl.OrderID)}
		if t, ok := first[k]; !ok || fl.At < t {
			first[k] = fl.At
		}
	}
	statuses := map[string]*group{}
	tt := map[string]*fillBucket{}
	ttOrder := []string{"in the placement", "under 1 s", "1–5 s", "5–30 s", "30 s–2 min", "2–10 min", "over 10 min"}
	qb := map[string]*fillBucket{}
	qOrder := []string{"0", "0–10", "10–50", "50–200", "200–1000", "over 1000"}
	var waits []float64
	for i := range d.Orders {
		o := &d.Orders[i]
		st := statuses[o.Status]
		if st == nil {
			st = &group{Key: o.Status}
			statuses[o.Status] = st
		}
		st.Orders++
		if o.SizeMatched > 0 {
			st.Matched++
		}
		if o.Status == "VIOLATION" || o.ErrorCode != "" || o.OrderType != "LIMIT" {
			continue
		}
		f.Orders++
		f.Size += o.Size
		f.Matched += o.SizeMatched
		f.Cancelled += o.SizeCancelled
		f.Lapsed += o.SizeLapsed
		f.Voided += o.SizeVoided
		filled := o.SizeMatched > 0
		if filled {
			f.Filled++
		}
		if o.SizeMatched >= o.Size {
			f.Full++
		}
		q := queueBucket(o.QueueAheadAtPlace)
		b := qb[q]
		if b == nil {
			b = &fillBucket{Key: q}
			qb[q] = b
		}
		b.add(o, filled)
		if t, ok := first[[2]string{o.MarketID, fmt.Sprint(o.OrderID)}]; ok && o.PlacedAt > 0 {
			w := float64(t-o.PlacedAt) / 1000
			waits = append(waits, w)
			k := waitBucket(w)
			if tt[k] == nil {
				tt[k] = &fillBucket{Key: k}
			}
			tt[k].add(o, true)
		}
	}
	if f.Orders > 0 {
		f.OrderRate = fmt.Sprintf("%.1f%%", 100*float64(f.Filled)/float64(f.Orders))
	}
	if f.Size > 0 {
		f.SizeRate = fmt.Sprintf("%.1f%%", 100*f.Matched/f.Size)
	}
	f.Size, f.Matched = engine.Round2(f.Size), engine.Round2(f.Matched)
	f.Cancelled, f.Lapsed, f.Voided = engine.Round2(f.Cancelled), engine.Round2(f.Lapsed), engine.Round2(f.Voided)
	for _, g := range statuses {
		f.Statuses = append(f.Statuses, *g)
	}
	slices.SortFunc(f.Statuses, func(a, b group) int { return cmp.Compare(a.Key, b.Key) })
	var labels []string
	var vals []float64
	for _, k := range ttOrder {
		if b := tt[k]; b != nil {
			f.TimeToMatch = append(f.TimeToMatch, *b)
			labels = append(labels, k)
			vals = append(vals, float64(b.Orders))
		}
	}
	f.TimeChart = columnChart("orders by time from placement to first match", labels, vals)
	if len(waits) > 0 {
		slices.Sort(waits)
		f.MedianSecondsToMatch = fmt.Sprintf("%.1f s", waits[len(waits)/2])
	}
	labels, vals = nil, nil
	for _, k := range qOrder {
		if b := qb[k]; b != nil {
			b.OrderRate = engine.Round2(100 * float64(b.Filled) / float64(b.Orders))
			if b.Size > 0 {
				b.SizeRate = engine.Round2(100 * b.Matched / b.Size)
			}
			b.Size, b.Matched = engine.Round2(b.Size), engine.Round2(b.Matched)
			f.Queue = append(f.Queue, *b)
			labels = append(labels, "queue "+k)
			vals = append(vals, b.OrderRate)
		}
	}
	f.QueueChart = barChart("percent of orders matched by queue ahead at placement", labels, vals)
	return f
}

func (b *fillBucket) add(o *Order, filled bool) {
	b.Orders++
	if filled {
		b.Filled++
	}
	b.Size += o.Size
	b.Matched += o.SizeMatched
}

func queueBucket(q float64) string {
	switch {
	case q <= 0:
		return "0"
	case q <= 10:
		return "0–10"
	case q <= 50:
		return "10–50"
	case q <= 200:
		return "50–200"
	case q <= 1000:
		return "200–1000"
	}
	return "over 1000"
}

func waitBucket(s float64) string {
	switch {
	case s <= 0:
		return "in the placement"
	case s < 1:
		return "under 1 s"
	case s < 5:
		return "1–5 s"
	case s < 30:
		return "5–30 s"
	case s < 120:
		return "30 s–2 min"
	case s < 600:
		return "2–10 min"
	}
	return "over 10 min"
}

// bestWorst returns up to n markets of highest and lowest net, leaving
// out markets with no orders.
func bestWorst(d *Data, n int) (best, worst []Market) {
	ms := slices.DeleteFunc(slices.Clone(d.Markets), func(m Market) bool { return m.Orders == 0 })
	slices.SortStableFunc(ms, func(a, b Market) int { return cmp.Or(cmp.Compare(b.Net, a.Net), cmp.Compare(a.MarketID, b.MarketID)) })
	for i := 0; i < len(ms) && i < n && ms[i].Net > 0; i++ {
		best = append(best, ms[i])
	}
	for i := len(ms) - 1; i >= 0 && len(worst) < n && ms[i].Net < 0; i-- {
		worst = append(worst, ms[i])
	}
	return best, worst
}

// tickIndex is a price's place on Betfair's ladder, -1 for none (a price
// off the ladder goes to the nearest tick below, which a chart can show).
func tickIndex(p float64) int {
	if p <= 0 {
		return -1
	}
	if i, ok := book.Tick(p); ok {
		return i
	}
	for i := book.NumTicks - 1; i >= 0; i-- {
		if book.PriceAt(i) <= p {
			return i
		}
	}
	return 0
}

func tickPrice(i int) float64 { return book.PriceAt(i) }

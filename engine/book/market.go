// Package book rebuilds market and order state from Exchange Stream API
// deltas: a MarketCache turns mcm lines into markets with runners and price
// ladders, an OrderCache turns ocm lines into a position per market, and
// ticks.go holds Betfair's standard price ladder.
//
// The caches follow betfairlightweight (bflw), the community's reference
// client, rule for rule, so that a book written with AppendLightweightJSON
// equals bflw's lightweight MarketBook for the same input; the golden test
// checks that on real files.
package book

import (
	"math"
	"strconv"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// Options choose how total matched is computed, as bflw's listener options
// of the same names do.
type Options struct {
	// CumulativeRunnerTv makes a runner's total matched the sum of its traded
	// ladder (rounded to 2 decimals) instead of the runner "tv" Betfair sends;
	// use it for Betfair's purchased historic files, which carry no runner tv.
	CumulativeRunnerTv bool
	// CalculateMarketTv makes the market's total matched the sum of every
	// runner's traded ladder, recomputed whenever a known runner's traded
	// ladder changes, instead of the market "tv" Betfair sends.
	CalculateMarketTv bool
}

// MarketCache holds the current state of every market seen on an mcm stream
// or tape. It is not safe for concurrent use.
type MarketCache struct {
	opts    Options
	byID    map[string]*Market
	list    []*Market
	changed []*Market
	// last is the market the previous change was for: a tape holds one
	// market, so this saves the map lookup on almost every line.
	last *Market
}

// NewMarketCache returns an empty cache.
func NewMarketCache(opts Options) *MarketCache {
	return &MarketCache{opts: opts, byID: make(map[string]*Market)}
}

// Apply applies one stream line. For an mcm line it returns the markets the
// line changed, in the order of its "mc" entries (a market listed twice
// appears twice); other ops and heartbeats change nothing. The returned
// slice is reused by the next call.
func (c *MarketCache) Apply(msg *esa.Message) []*Market {
	c.changed = c.changed[:0]
	if msg.Op != esa.OpMCM || msg.Ct == esa.ChangeTypeHeartbeat {
		return c.changed
	}
	for i := range msg.MC {
		mc := &msg.MC[i]
		m := c.last
		if m == nil || m.ID != string(mc.ID) {
			m = c.byID[string(mc.ID)] // does not allocate
		}
		switch {
		case m == nil:
			m = newMarket(string(mc.ID))
			c.byID[m.ID] = m
			c.list = append(c.list, m)
		case mc.Img:
			// A full image replaces the market: bflw starts a new cache.
			m.reset()
		}
		m.apply(mc, msg.Pt, &c.opts)
		c.changed = append(c.changed, m)
		c.last = m
	}
	return c.changed
}

// Market returns the market with the given id, or nil.
func (c *MarketCache) Market(id string) *Market { return c.byID[id] }

// Markets returns every market in the order first seen. The slice is the
// cache's own: do not modify it.
func (c *MarketCache) Markets() []*Market { return c.list }

// Market is one market's current state. A *Market stays valid for the life
// of its cache; a full image (img) resets it in place.
type Market struct {
	// ID is the market id, "1.205822330".
	ID string
	// PublishTime is the pt (epoch ms) of the last line that changed it.
	PublishTime int64
	// Def is the last market definition received, nil before the first.
	Def *esa.MarketDefinition
	// TotalMatched is the market's total matched, by Options' rules.
	TotalMatched float64
	// Runners are the market's runners in the order first seen (by
	// definition or runner change); a runner is never removed.
	Runners []*Runner

	// raw values of the definition's top-level fields a book repeats,
	// sub-slices of Def.Raw (nil when absent).
	defRaw defFields
	// change is a copy of the last market change as received.
	change []byte
	// slots is an open-addressing table from (selection, handicap) to
	// position in Runners plus one (0 = empty); its length is a power of
	// two at least twice the runner count. A lookup costs a multiply and
	// usually one probe, whatever order the runner changes come in.
	slots []int32
	// spare keeps reset runners for reuse, so an img does not allocate.
	spare []*Runner
}

// hashKey spreads a runner key over the table (Fibonacci hashing).
func hashKey(id int64, hc float64) uint64 {
	if hc == 0 {
		hc = 0 // -0 and 0 are the same handicap
	}
	h := uint64(id) ^ math.Float64bits(hc)*0x9E3779B97F4A7C15
	return h * 0x9E3779B97F4A7C15
}

// defFields are the raw JSON values of the definition fields a book shows.
type defFields struct {
	betDelay, version, complete, runnersVoidable, status, bspReconciled,
	crossMatching, inPlay, numberOfWinners, numberOfActiveRunners,
	priceLadderDefinition, keyLineDefinition []byte
}

func newMarket(id string) *Market { return &Market{ID: id} }

// LastChange returns the last market change applied, as received (the "mc"
// element). It is owned by the market and overwritten by the next change.
func (m *Market) LastChange() []byte { return m.change }

// Runner returns the runner with the given selection id and handicap, or nil.
func (m *Market) Runner(id int64, hc float64) *Runner {
	slots := m.slots
	if len(slots) == 0 {
		return nil
	}
	mask := uint64(len(slots) - 1)
	for i := hashKey(id, hc) >> 32 & mask; ; i = (i + 1) & mask {
		v := slots[i]
		if v == 0 {
			return nil
		}
		if r := m.Runners[v-1]; r.SelectionID == id && r.Handicap == hc {
			return r
		}
	}
}

// index adds Runners[i] to the slot table, growing it when half full.
func (m *Market) index(i int) {
	if 2*len(m.Runners) > len(m.slots) {
		n := 16
		for n < 2*len(m.Runners) {
			n *= 2
		}
		m.slots = make([]int32, n)
		for j := range i {
			m.index(j)
		}
	}
	r := m.Runners[i]
	mask := uint64(len(m.slots) - 1)
	j := hashKey(r.SelectionID, r.Handicap) >> 32 & mask
	for m.slots[j] != 0 {
		j = (j + 1) & mask
	}
	m.slots[j] = int32(i + 1)
}

func (m *Market) reset() {
	m.spare = append(m.spare, m.Runners...)
	for i := range m.Runners {
		m.Runners[i] = nil
	}
	m.Runners = m.Runners[:0]
	m.Def = nil
	m.defRaw = defFields{}
	m.TotalMatched = 0
	clear(m.slots)
}

func (m *Market) addRunner(id int64, hc float64) *Runner {
	var r *Runner
	if n := len(m.spare); n > 0 {
		r = m.spare[n-1]
		m.spare = m.spare[:n-1]
		r.reset()
	} else {
		r = newRunner()
	}
	r.SelectionID, r.Handicap = id, hc
	m.Runners = append(m.Runners, r)
	m.index(len(m.Runners) - 1)
	return r
}

func (m *Market) apply(mc *esa.MarketChange, pt int64, opts *Options) {
	m.PublishTime = pt
	m.change = append(m.change[:0], mc.Raw...)
	if mc.Def != nil {
		m.setDefinition(mc.Def)
	}
	if mc.HasTv && !opts.CalculateMarketTv {
		m.TotalMatched = mc.Tv
	}
	tradedChanged := false
	for i := range mc.RC {
		rc := &mc.RC[i]
		r := m.Runner(rc.ID, rc.Hc)
		if r == nil {
			// bflw builds an unknown runner from the change itself: its tv
			// is taken as sent whatever the options, and the market total
			// is not recomputed for it.
			r = m.addRunner(rc.ID, rc.Hc)
			r.applyChange(rc)
			if rc.Has(esa.FieldTv) {
				r.TotalMatched = rc.Tv
			}
			continue
		}
		r.applyChange(rc)
		if rc.Has(esa.FieldTv) && !opts.CumulativeRunnerTv {
			r.TotalMatched = rc.Tv
		}
		if rc.Has(esa.FieldTrd) {
			if opts.CumulativeRunnerTv {
				r.TotalMatched = round2(sumSizes(0, r.Traded.Levels))
			}
			tradedChanged = true
		}
	}
	if opts.CalculateMarketTv && tradedChanged {
		var s float64
		for _, r := range m.Runners {
			s = sumSizes(s, r.Traded.Levels)
		}
		m.TotalMatched = round2(s)
	}
}

// sumSizes adds the sizes of levels to s one by one, in ladder order, as
// Python's sum() over bflw's serialised ladder does (CPython before 3.12
// adds plainly, without compensation).
func sumSizes(s float64, levels []esa.PriceSize) float64 {
	for _, l := range levels {
		s += l.Size
	}
	return s
}

// round2 rounds x to 2 decimals as Python's round(x, 2) does: correctly
// rounded from x's exact binary value, ties to even. strconv does exactly
// that, and parsing the result gives the same float64 Python returns.
func round2(x float64) float64 {
	var buf [40]byte
	b := strconv.AppendFloat(buf[:0], x, 'f', 2, 64)
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return x // NaN or Inf: Python's round leaves them too
	}
	return v
}

func (m *Market) setDefinition(d *esa.MarketDefinition) {
	m.Def = d
	m.defRaw = defFields{}
	eachMember(d.Raw, func(key, val []byte) {
		f := &m.defRaw
		switch string(key) {
		case "betDelay":
			f.betDelay = val
		case "version":
			f.version = val
		case "complete":
			f.complete = val
		case "runnersVoidable":
			f.runnersVoidable = val
		case "status":
			f.status = val
		case "bspReconciled":
			f.bspReconciled = val
		case "crossMatching":
			f.crossMatching = val
		case "inPlay":
			f.inPlay = val
		case "numberOfWinners":
			f.numberOfWinners = val
		case "numberOfActiveRunners":
			f.numberOfActiveRunners = val
		case "priceLadderDefinition":
			f.priceLadderDefinition = val
		case "keyLineDefinition":
			f.keyLineDefinition = val
		}
	})
	for i := range d.Runners {
		rd := &d.Runners[i]
		r := m.Runner(rd.ID, rd.Hc)
		if r == nil {
			r = m.addRunner(rd.ID, rd.Hc)
		}
		r.Def = rd
	}
}

// Status returns the market status from the last definition ("OPEN",
// "SUSPENDED", "CLOSED"...), "" before any definition.
func (m *Market) Status() esa.MarketStatus {
	if m.Def == nil {
		return ""
	}
	return esa.MarketStatus(m.Def.Status)
}

// Closed reports whether the last definition says the market is CLOSED.
func (m *Market) Closed() bool { return m.Status() == esa.MarketClosed }

// Runner is one runner's current state: its definition fields, prices and
// ladders.
type Runner struct {
	// SelectionID and Handicap identify the runner within its market.
	SelectionID int64
	Handicap    float64
	// Def is the runner's entry in the last definition that listed it, nil
	// when no definition has (a runner first seen in a runner change).
	Def *esa.RunnerDefinition

	// LastPriceTraded is the ltp; HasLastPriceTraded says one was sent.
	LastPriceTraded    float64
	HasLastPriceTraded bool
	// TotalMatched is the runner's total matched, by Options' rules.
	TotalMatched float64
	// SPNear and SPFar are the projected starting prices (spn, spf); NaN
	// and +Inf stand for Betfair's "NaN" and "Infinity".
	SPNear, SPFar       float64
	HasSPNear, HasSPFar bool

	// Traded (trd) is volume traded by price, ascending.
	Traded PriceLadder
	// AvailableToBack (atb) descending, AvailableToLay (atl) ascending.
	AvailableToBack, AvailableToLay PriceLadder
	// SPBack (spb, lay liability taken at BSP) descending and SPLay (spl,
	// back stake taken at BSP) ascending.
	SPBack, SPLay PriceLadder
	// Best and best-display levels (batb, batl, bdatb, bdatl).
	BestAvailableToBack, BestAvailableToLay               LevelLadder
	BestDisplayAvailableToBack, BestDisplayAvailableToLay LevelLadder
}

func newRunner() *Runner {
	r := &Runner{}
	r.reset()
	return r
}

// reset clears the runner for reuse, keeping ladder capacity.
func (r *Runner) reset() {
	*r = Runner{
		Traded:                     PriceLadder{Levels: r.Traded.Levels[:0]},
		AvailableToBack:            PriceLadder{Levels: r.AvailableToBack.Levels[:0], desc: true},
		AvailableToLay:             PriceLadder{Levels: r.AvailableToLay.Levels[:0]},
		SPBack:                     PriceLadder{Levels: r.SPBack.Levels[:0], desc: true},
		SPLay:                      PriceLadder{Levels: r.SPLay.Levels[:0]},
		BestAvailableToBack:        LevelLadder{Levels: r.BestAvailableToBack.Levels[:0]},
		BestAvailableToLay:         LevelLadder{Levels: r.BestAvailableToLay.Levels[:0]},
		BestDisplayAvailableToBack: LevelLadder{Levels: r.BestDisplayAvailableToBack.Levels[:0]},
		BestDisplayAvailableToLay:  LevelLadder{Levels: r.BestDisplayAvailableToLay.Levels[:0]},
	}
}

// applyChange applies the price fields and ladders of a runner change; the
// caller handles tv, whose rules depend on the options.
func (r *Runner) applyChange(rc *esa.RunnerChange) {
	f := rc.Fields
	if f&esa.FieldLtp != 0 {
		r.LastPriceTraded, r.HasLastPriceTraded = rc.Ltp, true
	}
	if f&esa.FieldSpn != 0 {
		r.SPNear, r.HasSPNear = rc.Spn, true
	}
	if f&esa.FieldSpf != 0 {
		r.SPFar, r.HasSPFar = rc.Spf, true
	}
	if f&esa.FieldTrd != 0 {
		if len(rc.Trd) == 0 {
			r.Traded.Reset() // "trd": [] empties the traded ladder
		} else {
			r.Traded.Apply(rc.Trd)
		}
	}
	if f&esa.FieldAtb != 0 {
		r.AvailableToBack.Apply(rc.Atb)
	}
	if f&esa.FieldAtl != 0 {
		r.AvailableToLay.Apply(rc.Atl)
	}
	if f&esa.FieldBatb != 0 {
		r.BestAvailableToBack.Apply(rc.Batb)
	}
	if f&esa.FieldBatl != 0 {
		r.BestAvailableToLay.Apply(rc.Batl)
	}
	if f&esa.FieldBdatb != 0 {
		r.BestDisplayAvailableToBack.Apply(rc.Bdatb)
	}
	if f&esa.FieldBdatl != 0 {
		r.BestDisplayAvailableToLay.Apply(rc.Bdatl)
	}
	if f&esa.FieldSpb != 0 {
		r.SPBack.Apply(rc.Spb)
	}
	if f&esa.FieldSpl != 0 {
		r.SPLay.Apply(rc.Spl)
	}
}

// Status returns the runner's status from the last definition that listed
// it ("ACTIVE", "REMOVED", "WINNER"...), "" when none did.
func (r *Runner) Status() esa.RunnerStatus {
	if r.Def == nil {
		return ""
	}
	return esa.RunnerStatus(r.Def.Status)
}

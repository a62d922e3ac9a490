package tables

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// Off-time sources, the values of markets.off_time_source.
const (
	OffInPlay    = "in_play"   // the first definition with inPlay true
	OffSuspended = "suspended" // the last OPEN->SUSPENDED not followed by OPEN
	OffNone      = "none"      // neither happened on the tape
)

// Snapshot references, the values of snapshots.ref.
const (
	RefOff       = "off"
	RefScheduled = "scheduled"
)

// Data tiers, the values of markets.data_tier.
const (
	TierBasic    = "BASIC"
	TierAdvanced = "ADVANCED"
	TierPro      = "PRO"
	TierRecorded = "recorded"
)

// Options configures a Builder.
type Options struct {
	// Grid is where snapshots are taken; nil means DefaultGrid, an empty
	// (non-nil) grid takes none.
	Grid Grid
	// PostOff is added to Grid for the off reference of markets that turn
	// in play (a market that never does is suspended after its off, and
	// its book no longer moves); nil means DefaultPostOff, an empty grid
	// adds nothing.
	PostOff Grid
	// Source and Member name the input for markets.source and
	// markets.source_member.
	Source, Member string
	// NoLadderDeltas and NoSnapshots leave those tables empty (the most
	// costly ones) when they are not wanted; every other table is cheap and
	// always filled, since markets and runners are computed from them.
	NoLadderDeltas, NoSnapshots bool
	// NoRunnerUpdates leaves runner_updates empty.
	NoRunnerUpdates bool
	// Scratch, if set, lends the Builder memory left by earlier ones.
	Scratch *Scratch
	// Depth is how many of a side's best prices snapshots carry, from 1 to
	// MaxDepth; 0 means DefaultDepth. Rows always hold the first three
	// (the writer drops those beyond a smaller depth); deeper ones cost a
	// second history per runner, so only a depth above three keeps them.
	Depth int
}

// Snapshot depths: the prices and sizes a side of a snapshot row carries.
const (
	DefaultDepth = 3
	MaxDepth     = 10
)

// Builder derives the rows of every table from one tape's replay. Feed it
// every line in order with Line, after applying the line to the market
// cache, then call Finish once. A Builder holds one tape's markets; it is
// not safe for concurrent use.
type Builder struct {
	opts   Options
	zones  zones
	points []int
	// inPlayPoints are points and the PostOff ones, for the off of a
	// market that turns in play.
	inPlayPoints []int
	markets      map[string]*marketState
	list         []*marketState
}

// NewBuilder returns a Builder for one tape.
func NewBuilder(opts Options) *Builder {
	if opts.Grid == nil {
		opts.Grid = DefaultGrid()
	}
	if opts.PostOff == nil {
		opts.PostOff = DefaultPostOff()
	}
	if opts.Depth <= 0 {
		opts.Depth = DefaultDepth
	}
	opts.Depth = min(opts.Depth, MaxDepth)
	points := opts.Grid.Points()
	var inPlayPoints []int
	if len(opts.PostOff) > 0 && len(points) > 0 {
		inPlayPoints = append(slices.Clone(opts.Grid), opts.PostOff...).Points()
	}
	return &Builder{opts: opts, points: points, inPlayPoints: inPlayPoints, markets: map[string]*marketState{}, zones: zones{}}
}

type rkey struct {
	id int64
	hc float64
}

// marketSnap is the market-level state after one line.
type marketSnap struct {
	pt, seq int64
	status  string
	total   float64
	nActive int32
	inPlay  bool
}

// runnerSnap is what the snapshots table needs of one runner after a line
// that touched it. One is kept per runner per line, so the small fields
// come last, packed: 184 bytes rather than 232 with padding.
type runnerSnap struct {
	pt, seq        int64
	adj            float64
	ltp            float64
	vol, pv        float64
	back, lay      [3]esa.PriceSize
	spn, spf       float64
	spBack, spLay  float64
	status         uint8 // index into runnerStatuses; keeps the snapshot pointer-free for the GC
	nBack, nLay    int8
	hasAdj, hasLtp bool
	hasSpn, hasSpf bool
}

// sameState reports whether o holds the same state as s, bit for bit,
// whatever their lines.
func (s *runnerSnap) sameState(o *runnerSnap) bool {
	same := func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }
	for i := range s.back {
		if !same(s.back[i].Price, o.back[i].Price) || !same(s.back[i].Size, o.back[i].Size) ||
			!same(s.lay[i].Price, o.lay[i].Price) || !same(s.lay[i].Size, o.lay[i].Size) {
			return false
		}
	}
	return same(s.adj, o.adj) && same(s.ltp, o.ltp) && same(s.vol, o.vol) && same(s.pv, o.pv) &&
		same(s.spn, o.spn) && same(s.spf, o.spf) && same(s.spBack, o.spBack) && same(s.spLay, o.spLay) &&
		s.status == o.status && s.nBack == o.nBack && s.nLay == o.nLay &&
		s.hasAdj == o.hasAdj && s.hasLtp == o.hasLtp && s.hasSpn == o.hasSpn && s.hasSpf == o.hasSpf
}

// runnerStatuses are the runner statuses a snapshot can hold; 0 is "".
var runnerStatuses = [...]string{"", "ACTIVE", "WINNER", "LOSER", "REMOVED", "REMOVED_VACANT", "HIDDEN", "PLACED"}

func statusCode(s string) (uint8, bool) {
	for i, x := range runnerStatuses {
		if x == s {
			return uint8(i), true
		}
	}
	return 0, false
}

type runnerState struct {
	key     rkey
	trd     map[float64]float64
	vol, pv float64
	hist    paged[runnerSnap]
	// deep holds levels 4 and on after each line, entry for entry with
	// hist, when the Builder's depth is above three.
	deep    paged[DeepLevels]
	touched int64 // seq of the last line that touched it
}

type timeAt struct {
	seq, ms int64
}

type marketState struct {
	id      string
	m       *book.Market
	rows    Rows
	runners map[rkey]*runnerState
	rlist   []*runnerState

	nUpdates int64
	firstPt  int64
	vol      float64

	defRunners  map[rkey]esa.RunnerDefinition
	marketTimes []timeAt
	prevStatus  string
	hasInPlay   bool
	inPlay      timeAt
	hasCand     bool
	cand        timeAt
	bspRecPt    *int64
	closePt     *int64

	hist    paged[marketSnap]
	scratch *Scratch
	depth   int
	// everyUpdate keeps a runner history entry for every line that
	// touches the runner, changed or not: runner_updates has a row for
	// each. Without it an entry that changes nothing is left out.
	everyUpdate bool
	// deeps is a slab for the deeper levels snapshots point to.
	deeps []DeepLevels

	recorded, levels, ladders, deep bool
	// otherStatus is a runner status outside runnerStatuses, should Betfair
	// add one; snapshots show it by code otherStatus.
	otherStatus string

	times map[string]int64 // parsed RFC 3339 strings
	zones zones            // shared by the Builder's markets
	f     floats
}

// floats hands out *float64 and *int64 from slabs, so optional columns do not cost
// one allocation per value.
type floats struct {
	buf  []float64
	ints []int64
}

func (a *floats) p(v float64) *float64 {
	if len(a.buf) == cap(a.buf) {
		a.buf = make([]float64, 0, 1024)
	}
	a.buf = append(a.buf, v)
	return &a.buf[len(a.buf)-1]
}

func (a *floats) i(v int64) *int64 {
	if len(a.ints) == cap(a.ints) {
		a.ints = make([]int64, 0, 1024)
	}
	a.ints = append(a.ints, v)
	return &a.ints[len(a.ints)-1]
}

// smallInts are shared pointer targets for tick indexes,
// read-only after init.
var smallInts = func() (a [book.NumTicks]int32) {
	for i := range a {
		a[i] = int32(i)
	}
	return
}()

func tickOf(price float64) *int32 {
	if t, ok := book.Tick(price); ok {
		return &smallInts[t]
	}
	return nil
}

func (b *Builder) state(id string, m *book.Market) *marketState {
	st := b.markets[id]
	if st == nil {
		st = &marketState{
			id:         id,
			runners:    map[rkey]*runnerState{},
			defRunners: map[rkey]esa.RunnerDefinition{},
			times:      map[string]int64{},
			zones:      b.zones,
		}
		st.rows.MarketID = id
		st.depth = b.opts.Depth
		st.everyUpdate = !b.opts.NoRunnerUpdates
		st.scratch = b.opts.Scratch
		if st.scratch != nil {
			st.hist.free = &st.scratch.markets
		}
		b.markets[id] = st
		b.list = append(b.list, st)
	}
	if m != nil {
		st.m = m
	}
	return st
}

func (st *marketState) runner(id int64, hc float64) *runnerState {
	k := rkey{id, hc}
	// Most markets have a few runners, where a scan beats hashing the key.
	if len(st.rlist) <= 24 {
		for _, rs := range st.rlist {
			if rs.key == k {
				return rs
			}
		}
	}
	rs := st.runners[k]
	if rs == nil {
		rs = &runnerState{key: k, trd: map[float64]float64{}, touched: -1}
		if st.scratch != nil {
			rs.hist.free = &st.scratch.runners
			rs.deep.free = &st.scratch.deep
		}
		st.runners[k] = rs
		st.rlist = append(st.rlist, rs)
	}
	return rs
}

// parseTime returns the epoch ms of an RFC 3339 time, caching by string
// because definitions repeat the same times on every line.
func (st *marketState) parseTime(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	if v, ok := st.times[s]; ok {
		return v, v != minTime
	}
	v := int64(minTime)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		v = t.UnixMilli()
	}
	st.times[s] = v
	return v, v != minTime
}

const minTime = -1 << 63

// otherStatus is the runnerSnap code of marketState.otherStatus.
const otherStatus = 255

func (st *marketState) statusName(code uint8) string {
	if code == otherStatus {
		return st.otherStatus
	}
	return runnerStatuses[code]
}

func (st *marketState) timePtr(s string) *int64 {
	if v, ok := st.parseTime(s); ok {
		return &v
	}
	return nil
}

// Line takes line number seq of the tape (1-based), decoded into msg, and
// the markets the cache's Apply returned for it (nil for lines that are
// not mcm). Call it for every line in order, bad lines excepted.
func (b *Builder) Line(seq int, msg *esa.Message, changed []*book.Market) {
	switch msg.Op {
	case esa.OpMCM:
		b.marketLine(int64(seq), msg, changed)
	case esa.OpOCM:
		b.orderLine(int64(seq), msg)
	}
}

func (b *Builder) marketLine(seq int64, msg *esa.Message, changed []*book.Market) {
	recorded := msg.Ct != esa.ChangeTypeNone || !isDigits(msg.Clk)
	pt := msg.Pt
	for i := range msg.MC {
		if i >= len(changed) {
			break
		}
		mc := &msg.MC[i]
		m := changed[i]
		st := b.state(m.ID, m)
		st.nUpdates++
		if st.firstPt == 0 {
			st.firstPt = pt
		}
		if recorded {
			st.recorded = true
		}
		status := string(m.Status())
		inPlay := m.Def != nil && m.Def.InPlay
		allRunners := false
		if mc.Def != nil {
			st.definition(seq, pt, mc.Def)
			allRunners = true
		}
		for j := range mc.RC {
			st.runnerChange(seq, pt, &mc.RC[j], m, status, inPlay, !b.opts.NoLadderDeltas)
		}
		st.snap(seq, pt, m, allRunners)
	}
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (st *marketState) definition(seq, pt int64, d *esa.MarketDefinition) {
	if mt, ok := st.parseTime(d.MarketTime); ok {
		if n := len(st.marketTimes); n == 0 || st.marketTimes[n-1].ms != mt {
			st.marketTimes = append(st.marketTimes, timeAt{seq, mt})
		}
	}
	if d.InPlay && !st.hasInPlay {
		st.hasInPlay, st.inPlay = true, timeAt{seq, pt}
	}
	// The off of a market that never turns in play: a suspension that
	// reopens (a scratching) is not it, so only the last OPEN->SUSPENDED
	// still standing at the end counts.
	switch {
	case st.prevStatus == "OPEN" && d.Status == "SUSPENDED":
		st.hasCand, st.cand = true, timeAt{seq, pt}
	case d.Status == "OPEN":
		st.hasCand = false
	}
	st.prevStatus = d.Status
	if d.BspReconciled && st.bspRecPt == nil {
		st.bspRecPt = st.f.i(pt)
	}
	if d.Status == "CLOSED" && st.closePt == nil {
		st.closePt = st.f.i(pt)
	}
	st.rows.MarketDefinitions = append(st.rows.MarketDefinitions, MarketDefinition{
		MarketID: st.id, Pt: pt, Seq: seq, Version: d.Version, Status: d.Status, InPlay: d.InPlay,
		BetDelay: int32(d.BetDelay), MarketTime: st.timePtr(d.MarketTime), SuspendTime: st.timePtr(d.SuspendTime),
		NActiveRunners: int32(d.NumberOfActiveRunners), BspReconciled: d.BspReconciled, Complete: d.Complete,
	})
	for _, rd := range d.Runners {
		k := rkey{rd.ID, rd.Hc}
		st.runner(rd.ID, rd.Hc)
		prev, ok := st.defRunners[k]
		if ok && prev.Status == rd.Status && prev.HasAdjustment == rd.HasAdjustment &&
			prev.AdjustmentFactor == rd.AdjustmentFactor && prev.RemovalDate == rd.RemovalDate &&
			prev.HasBsp == rd.HasBsp && prev.Bsp == rd.Bsp {
			continue
		}
		st.defRunners[k] = rd
		row := RunnerDefinition{MarketID: st.id, Pt: pt, Seq: seq, SelectionID: rd.ID, Handicap: rd.Hc,
			Status: rd.Status, RemovalTime: st.timePtr(rd.RemovalDate)}
		if rd.HasAdjustment {
			row.AdjustmentFactor = st.f.p(rd.AdjustmentFactor)
		}
		if rd.HasBsp && finite(rd.Bsp) {
			row.Bsp = st.f.p(rd.Bsp)
		}
		st.rows.RunnerDefinitions = append(st.rows.RunnerDefinitions, row)
	}
}

func (st *marketState) runnerChange(seq, pt int64, rc *esa.RunnerChange, m *book.Market, status string, inPlay, deltas bool) {
	rs := st.runner(rc.ID, rc.Hc)
	rs.touched = seq
	if !deltas {
		if rc.Fields&(esa.FieldAtb|esa.FieldAtl|esa.FieldTrd) != 0 {
			st.ladders = true
		}
		if rc.Fields&(esa.FieldBatb|esa.FieldBatl|esa.FieldBdatb|esa.FieldBdatl) != 0 {
			st.levels = true
		}
		st.trades(seq, pt, rc, rs, m, status, inPlay)
		return
	}
	if rc.Fields&(esa.FieldAtb|esa.FieldAtl|esa.FieldTrd) != 0 {
		st.ladders = true
	}
	if rc.Fields&(esa.FieldBatb|esa.FieldBatl|esa.FieldBdatb|esa.FieldBdatl) != 0 {
		st.levels = true
	}
	// Every row of the change shares these; the per-ladder calls fill in
	// the rest.
	base := LadderDelta{Pt: pt, Seq: seq, SelectionID: rc.ID, Handicap: rc.Hc, InPlay: inPlay,
		Status: st.marketStatusCode(status)}
	if rc.Has(esa.FieldAtb) {
		st.priced(&base, LadderATB, rc.Atb)
	}
	if rc.Has(esa.FieldAtl) {
		st.priced(&base, LadderATL, rc.Atl)
	}
	if rc.Has(esa.FieldTrd) {
		st.priced(&base, LadderTRD, rc.Trd)
	}
	if rc.Has(esa.FieldSpb) {
		st.priced(&base, LadderSPB, rc.Spb)
	}
	if rc.Has(esa.FieldSpl) {
		st.priced(&base, LadderSPL, rc.Spl)
	}
	if rc.Has(esa.FieldBatb) {
		st.leveled(&base, LadderBATB, rc.Batb)
	}
	if rc.Has(esa.FieldBatl) {
		st.leveled(&base, LadderBATL, rc.Batl)
	}
	if rc.Has(esa.FieldBdatb) {
		st.leveled(&base, LadderBDATB, rc.Bdatb)
	}
	if rc.Has(esa.FieldBdatl) {
		st.leveled(&base, LadderBDATL, rc.Bdatl)
	}
	st.trades(seq, pt, rc, rs, m, status, inPlay)
}

// priced adds the ladder deltas of a price-keyed ladder.
func (st *marketState) priced(base *LadderDelta, l Ladder, levels []esa.PriceSize) {
	d := *base
	d.Ladder = l
	for _, ps := range levels {
		tick, onLadder := book.Tick(ps.Price)
		d.Price, d.Size, d.Tick, d.HasTick = ps.Price, ps.Size, int32(tick), onLadder
		st.rows.LadderDeltas.Append(d)
	}
}

// leveled adds the ladder deltas of a level-keyed ladder.
func (st *marketState) leveled(base *LadderDelta, l Ladder, levels []esa.LevelPriceSize) {
	d := *base
	d.Ladder, d.HasLevel = l, true
	for _, lps := range levels {
		tick, onLadder := book.Tick(lps.Price)
		d.Level, d.Price, d.Size, d.Tick, d.HasTick = int32(lps.Level), lps.Price, lps.Size, int32(tick), onLadder
		st.rows.LadderDeltas.Append(d)
	}
}

// marketStatusCode returns status's index in the rows' MarketStatuses,
// adding it when new: a market sees a handful of statuses.
func (st *marketState) marketStatusCode(status string) uint8 {
	return smallIndex(&st.rows.MarketStatuses, status)
}

// smallIndex returns v's index in *list, adding it when new: for the few
// values a market's column takes (Betfair defines four market statuses;
// snapshots have two references).
func smallIndex(list *[]string, v string) uint8 {
	for i := len(*list) - 1; i >= 0; i-- {
		if (*list)[i] == v {
			return uint8(i)
		}
	}
	if len(*list) == 256 {
		panic(fmt.Sprintf("tables: more than 256 values in a market's list %q", (*list)[:3]))
	}
	*list = append(*list, v)
	return uint8(len(*list) - 1)
}

// trades adds a runner change's traded-ladder rows and volumes.
func (st *marketState) trades(seq, pt int64, rc *esa.RunnerChange, rs *runnerState, m *book.Market, status string, inPlay bool) {
	if !rc.Has(esa.FieldTrd) {
		return
	}
	r := m.Runner(rc.ID, rc.Hc)
	// Betfair zeroes the whole traded ladder when it settles a market; such
	// a zero is not a trade being undone. Any other decrease is kept.
	cleared := r != nil && r.Traded.Len() == 0 && status != "OPEN"
	for _, ps := range rc.Trd {
		prev := rs.trd[ps.Price]
		delta := cents(ps.Size - prev)
		reset := ps.Size == 0 && cleared
		if ps.Size == 0 {
			delete(rs.trd, ps.Price)
		} else {
			rs.trd[ps.Price] = ps.Size
		}
		if !reset {
			rs.vol += delta
			rs.pv += delta * ps.Price
			st.vol += delta
		}
		st.rows.Trades.Append(Trade{
			MarketID: st.id, Pt: pt, Seq: seq, SelectionID: rc.ID, Handicap: rc.Hc, Price: ps.Price,
			Tick: tickOf(ps.Price), SizeCum: ps.Size, SizeDelta: delta, InPlay: inPlay, MarketStatus: status,
			IsSettlementReset: reset,
		})
	}
}

// snap records the market's and the touched runners' state after a line.
func (st *marketState) snap(seq, pt int64, m *book.Market, all bool) {
	ms := marketSnap{pt: pt, seq: seq, status: string(m.Status()), total: st.vol}
	if m.Def != nil {
		ms.inPlay = m.Def.InPlay
		ms.nActive = int32(m.Def.NumberOfActiveRunners)
	}
	st.hist.push(ms)
	for _, rs := range st.rlist {
		if !all && rs.touched != seq {
			continue
		}
		// Looked up every time: the cache may move its runners.
		r := m.Runner(rs.key.id, rs.key.hc)
		if r == nil {
			continue
		}
		s := runnerSnap{pt: pt, seq: seq, vol: rs.vol, pv: rs.pv}
		if r.Def != nil {
			s.adj, s.hasAdj = r.Def.AdjustmentFactor, r.Def.HasAdjustment
			code, ok := statusCode(r.Def.Status)
			if !ok {
				st.otherStatus = r.Def.Status
				code = otherStatus
			}
			s.status = code
		}
		s.ltp, s.hasLtp = r.LastPriceTraded, r.HasLastPriceTraded
		// Betfair sends "NaN" and "Infinity" for no projection: no value.
		s.spn, s.hasSpn = r.SPNear, r.HasSPNear && finite(r.SPNear)
		s.spf, s.hasSpf = r.SPFar, r.HasSPFar && finite(r.SPFar)
		s.nBack = int8(top(s.back[:], 0, &r.AvailableToBack, &r.BestAvailableToBack, &r.BestDisplayAvailableToBack))
		s.nLay = int8(top(s.lay[:], 0, &r.AvailableToLay, &r.BestAvailableToLay, &r.BestDisplayAvailableToLay))
		var deep DeepLevels
		if st.depth > 3 {
			deep.NBack = int8(top(deep.Back[:st.depth-3], 3, &r.AvailableToBack, &r.BestAvailableToBack, &r.BestDisplayAvailableToBack))
			deep.NLay = int8(top(deep.Lay[:st.depth-3], 3, &r.AvailableToLay, &r.BestAvailableToLay, &r.BestDisplayAvailableToLay))
		}
		if r.AvailableToBack.Len() > 3 || r.AvailableToLay.Len() > 3 {
			st.deep = true
		}
		for _, l := range r.SPBack.Levels {
			s.spBack += l.Size
		}
		for _, l := range r.SPLay.Levels {
			s.spLay += l.Size
		}
		n := rs.hist.len()
		switch {
		case n > 0 && rs.hist.at(n-1).seq == seq:
			*rs.hist.at(n - 1) = s
			if st.depth > 3 {
				*rs.deep.at(n - 1) = deep
			}
		case n > 0 && !st.everyUpdate && st.depth <= 3 && rs.hist.at(n-1).sameState(&s):
			// Nothing a snapshot shows changed (a level past the third, a
			// repeated value): the entry before answers every lookup the
			// same, and histories are a large part of a replay's memory.
		default:
			rs.hist.push(s)
			if st.depth > 3 {
				rs.deep.push(deep)
			}
		}
	}
}

// finite reports whether x is a number (not NaN or an infinity).
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// cents rounds an amount of money to Betfair's unit, the cent: sums and
// differences of sizes otherwise carry binary noise (141.60999999999999).
func cents(x float64) float64 {
	r := math.Round(x*100) / 100
	if r == 0 {
		return 0 // not -0
	}
	return r
}

// top copies a side's prices from position from on (0 the best), as many
// as dst holds, and returns how many it copied: from the full price ladder
// when the tape has one, else from the best or best-display levels.
func top(dst []esa.PriceSize, from int, full *book.PriceLadder, best, display *book.LevelLadder) int {
	if full.Len() > 0 {
		return copy(dst, full.Levels[min(from, full.Len()):])
	}
	src := best
	if src.Len() == 0 {
		src = display
	}
	n := 0
	for _, l := range src.Levels {
		if l.Level < from || l.Level >= from+len(dst) || n >= len(dst) {
			continue
		}
		dst[n] = esa.PriceSize{Price: l.Price, Size: l.Size}
		n++
	}
	return n
}

func (b *Builder) orderLine(seq int64, msg *esa.Message) {
	for i := range msg.OC {
		oc := &msg.OC[i]
		st := b.markets[string(oc.ID)]
		if st == nil {
			st = b.state(string(oc.ID), nil)
		}
		if st.firstPt == 0 {
			st.firstPt = msg.Pt
		}
		st.recorded = true
		for j := range oc.ORC {
			orc := &oc.ORC[j]
			for _, o := range orc.UO {
				row := Order{MarketID: st.id, Pt: msg.Pt, Seq: seq, BetID: o.ID, SelectionID: orc.ID, Handicap: orc.Hc,
					Side: o.Side, Price: o.Price, Size: o.Size, BspLiability: o.BspLiability, Persistence: o.PersistenceType,
					OrderType: o.OrderType, Status: o.Status, AvgPriceMatched: o.AvgPriceMatched, SizeMatched: o.SizeMatched,
					SizeRemaining: o.SizeRemaining, SizeLapsed: o.SizeLapsed, SizeCancelled: o.SizeCancelled,
					SizeVoided: o.SizeVoided, CustomerStrategyRef: o.CustomerStrategyRef, CustomerOrderRef: o.CustomerOrderRef}
				if o.PlacedDate != 0 {
					row.PlacedTime = st.f.i(o.PlacedDate)
				}
				if o.MatchedDate != 0 {
					row.MatchedTime = st.f.i(o.MatchedDate)
				}
				st.rows.Orders = append(st.rows.Orders, row)
			}
		}
	}
}

// Finish returns one Rows per market of the tape, in the order first seen.
// The Builder must not be used afterwards.
func (b *Builder) Finish() []*Rows {
	out := make([]*Rows, 0, len(b.list))
	for _, st := range b.list {
		st.finish(b.opts, b.points, b.inPlayPoints)
		// The histories are spent: their pages go to the next Builder.
		st.hist.release()
		for _, rs := range st.rlist {
			rs.hist.release()
			rs.deep.release()
		}
		// A copy, so that the replay state (runner histories, ladders) is
		// garbage once the Builder is, while the rows wait to be written.
		r := st.rows
		out = append(out, &r)
	}
	b.list, b.markets = nil, nil
	return out
}

package tables

import (
	"cmp"
	"slices"
	"sort"
	"strings"
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
	// Source and Member name the input for markets.source and
	// markets.source_member.
	Source, Member string
	// NoLadderDeltas and NoSnapshots leave those tables empty (the most
	// costly ones) when they are not wanted; every other table is cheap and
	// always filled, since markets and runners are computed from them.
	NoLadderDeltas, NoSnapshots bool
	// Scratch, if set, lends the Builder memory left by earlier ones.
	Scratch *Scratch
}

// Builder derives the rows of every table from one tape's replay. Feed it
// every line in order with Line, after applying the line to the market
// cache, then call Finish once. A Builder holds one tape's markets; it is
// not safe for concurrent use.
type Builder struct {
	opts    Options
	points  []int
	markets map[string]*marketState
	list    []*marketState
}

// NewBuilder returns a Builder for one tape.
func NewBuilder(opts Options) *Builder {
	if opts.Grid == nil {
		opts.Grid = DefaultGrid()
	}
	return &Builder{opts: opts, points: opts.Grid.Points(), markets: map[string]*marketState{}}
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

	recorded, levels, ladders, deep bool
	// otherStatus is a runner status outside runnerStatuses, should Betfair
	// add one; snapshots show it by code otherStatus.
	otherStatus string

	times map[string]int64 // parsed RFC 3339 strings
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
		}
		st.rows.MarketID = id
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
		NumberOfActiveRunners: int32(d.NumberOfActiveRunners), BspReconciled: d.BspReconciled, Complete: d.Complete,
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
			Status: rd.Status, RemovalDate: st.timePtr(rd.RemovalDate)}
		if rd.HasAdjustment {
			row.AdjustmentFactor = st.f.p(rd.AdjustmentFactor)
		}
		if rd.HasBsp {
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
	ss := st.rows.MarketStatuses
	for i := len(ss) - 1; i >= 0; i-- {
		if ss[i] == status {
			return uint8(i)
		}
	}
	if len(ss) == 256 { // Betfair defines four
		panic("tables: more than 256 market statuses")
	}
	st.rows.MarketStatuses = append(ss, status)
	return uint8(len(ss))
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
		delta := ps.Size - prev
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
			Tick: tickOf(ps.Price), SizeCum: ps.Size, SizeDelta: delta, InPlay: inPlay, IsSettlementReset: reset,
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
		s.spn, s.hasSpn = r.SPNear, r.HasSPNear
		s.spf, s.hasSpf = r.SPFar, r.HasSPFar
		s.nBack = top3(&s.back, &r.AvailableToBack, &r.BestAvailableToBack, &r.BestDisplayAvailableToBack)
		s.nLay = top3(&s.lay, &r.AvailableToLay, &r.BestAvailableToLay, &r.BestDisplayAvailableToLay)
		if r.AvailableToBack.Len() > 3 || r.AvailableToLay.Len() > 3 {
			st.deep = true
		}
		for _, l := range r.SPBack.Levels {
			s.spBack += l.Size
		}
		for _, l := range r.SPLay.Levels {
			s.spLay += l.Size
		}
		if n := rs.hist.len(); n > 0 && rs.hist.at(n-1).seq == seq {
			*rs.hist.at(n - 1) = s
		} else {
			rs.hist.push(s)
		}
	}
}

// top3 copies the best three prices of a side: from the full price ladder
// when the tape has one, else from the best or best-display levels.
func top3(dst *[3]esa.PriceSize, full *book.PriceLadder, best, display *book.LevelLadder) int8 {
	if full.Len() > 0 {
		n := copy(dst[:], full.Levels)
		return int8(n)
	}
	src := best
	if src.Len() == 0 {
		src = display
	}
	var n int8
	for _, l := range src.Levels {
		if l.Level < 0 || l.Level > 2 || int(n) >= 3 {
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
					row.PlacedDate = st.f.i(o.PlacedDate)
				}
				if o.MatchedDate != 0 {
					row.MatchedDate = st.f.i(o.MatchedDate)
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
		st.finish(b.opts, b.points)
		// The histories are spent: their pages go to the next Builder.
		st.hist.release()
		for _, rs := range st.rlist {
			rs.hist.release()
		}
		// A copy, so that the replay state (runner histories, ladders) is
		// garbage once the Builder is, while the rows wait to be written.
		r := st.rows
		out = append(out, &r)
	}
	b.list, b.markets = nil, nil
	return out
}

// asOf returns the index of the last snapshot with pt <= t, or -1.
func asOfMarket(h *paged[marketSnap], t int64) int {
	return sort.Search(h.len(), func(i int) bool { return h.at(i).pt > t }) - 1
}

func asOfRunner(h *paged[runnerSnap], t int64) int {
	return sort.Search(h.len(), func(i int) bool { return h.at(i).pt > t }) - 1
}

// beforeSeq returns the index of the last runner snapshot from a line
// before seq, or -1.
func beforeSeq(h *paged[runnerSnap], seq int64) int {
	return sort.Search(h.len(), func(i int) bool { return h.at(i).seq >= seq }) - 1
}

func (st *marketState) finish(opts Options, points []int) {
	r := &st.rows
	r.EventTypeID, r.DataTier = "0", TierRecorded
	if st.firstPt != 0 {
		r.Date = time.UnixMilli(st.firstPt).UTC().Format(time.DateOnly)
	}
	if st.m == nil || st.m.Def == nil {
		return
	}
	d := st.m.Def
	mk := &Market{MarketID: st.id, EventTypeID: d.EventTypeID, EventID: d.EventID, EventName: d.EventName,
		MarketName: d.Name, MarketType: d.MarketType, BettingType: d.BettingType, CountryCode: d.CountryCode,
		Venue: d.Venue, Timezone: d.Timezone, OpenDate: st.timePtr(d.OpenDate), SuspendTime: st.timePtr(d.SuspendTime),
		BspReconciledTime: st.bspRecPt, CloseTime: st.closePt, SettledTime: st.timePtr(d.SettledTime),
		TurnInPlayEnabled: d.TurnInPlayEnabled, BspMarket: d.BspMarket, NumberOfWinners: int32(d.NumberOfWinners),
		NRunners: int32(len(d.Runners)), MarketBaseRate: d.MarketBaseRate, FinalStatus: d.Status,
		Source: opts.Source, SourceMember: opts.Member, NUpdates: st.nUpdates, TotalMatched: st.vol}
	if d.HasEachWayDivisor {
		mk.EachWayDivisor = st.f.p(d.EachWayDivisor)
	}
	if st.hasInPlay {
		mk.InplayTime = st.f.i(st.inPlay.ms)
	}
	// The off.
	off, offSrc := timeAt{}, OffNone
	switch {
	case st.hasInPlay:
		off, offSrc = st.inPlay, OffInPlay
	case st.hasCand:
		off, offSrc = st.cand, OffSuspended
	}
	hasOff := offSrc != OffNone
	mk.OffTimeSource = offSrc
	if hasOff {
		mk.OffTime = st.f.i(off.ms)
	}
	// market_time: the last one announced before the off.
	if len(st.marketTimes) > 0 {
		mk.MarketTimeFirst = st.f.i(st.marketTimes[0].ms)
		mt := st.marketTimes[len(st.marketTimes)-1]
		if hasOff {
			for _, x := range st.marketTimes {
				if x.seq < off.seq {
					mt = x
				}
			}
		}
		mk.MarketTime = st.f.i(mt.ms)
		r.Date = time.UnixMilli(mt.ms).UTC().Format(time.DateOnly)
	}
	if d.EventTypeID != "" {
		r.EventTypeID = d.EventTypeID
	}
	// Voided: a meeting abandoned removes every runner.
	removed := 0
	for _, rd := range d.Runners {
		if strings.HasPrefix(rd.Status, "REMOVED") {
			removed++
		}
	}
	mk.Voided = len(d.Runners) > 0 && removed == len(d.Runners)
	// Active runners at the off: the definition in force just before it.
	if hasOff {
		i := sort.Search(st.hist.len(), func(i int) bool { return st.hist.at(i).seq >= off.seq }) - 1
		if i >= 0 {
			mk.NActiveAtOff = st.hist.at(i).nActive
		}
	} else {
		mk.NActiveAtOff = int32(d.NumberOfActiveRunners)
	}
	switch {
	case st.recorded || st.levels:
		mk.DataTier = TierRecorded
	case st.deep:
		mk.DataTier = TierPro
	case st.ladders:
		mk.DataTier = TierAdvanced
	default:
		mk.DataTier = TierBasic
	}
	r.DataTier = mk.DataTier

	// Runner volumes from the trades, split at the off.
	type agg struct {
		vol, pv, min, max float64
		n                 int
	}
	pp, ip := map[rkey]*agg{}, map[rkey]*agg{}
	r.Trades.Each(func(t *Trade) {
		if t.IsSettlementReset {
			return
		}
		k := rkey{t.SelectionID, t.Handicap}
		side := pp
		if hasOff && t.Seq >= off.seq {
			side = ip
		} else {
			mk.TotalMatchedPreplay += t.SizeDelta
		}
		a := side[k]
		if a == nil {
			a = &agg{}
			side[k] = a
		}
		a.vol += t.SizeDelta
		a.pv += t.SizeDelta * t.Price
		if t.SizeDelta > 0 {
			if a.n == 0 || t.Price < a.min {
				a.min = t.Price
			}
			if a.n == 0 || t.Price > a.max {
				a.max = t.Price
			}
			a.n++
		}
	})
	r.Market = mk

	defs := map[rkey]*esa.RunnerDefinition{}
	for i := range d.Runners {
		defs[rkey{d.Runners[i].ID, d.Runners[i].Hc}] = &d.Runners[i]
	}
	runners := slices.Clone(st.rlist)
	prio := func(rs *runnerState) int {
		if rd := defs[rs.key]; rd != nil {
			return rd.SortPriority
		}
		return 1 << 30
	}
	slices.SortStableFunc(runners, func(a, b *runnerState) int {
		return cmp.Or(cmp.Compare(prio(a), prio(b)), cmp.Compare(a.key.id, b.key.id), cmp.Compare(a.key.hc, b.key.hc))
	})
	var sched int64
	if mk.MarketTime != nil {
		sched = *mk.MarketTime
	}
	for _, rs := range runners {
		row := Runner{MarketID: st.id, SelectionID: rs.key.id, Handicap: rs.key.hc}
		if rd := defs[rs.key]; rd != nil {
			row.RunnerName, row.SortPriority, row.FinalStatus = rd.Name, int32(rd.SortPriority), rd.Status
			row.IsWinner = rd.Status == "WINNER"
			if rd.HasBsp {
				row.Bsp = st.f.p(rd.Bsp)
			}
			row.RemovalTime = st.timePtr(rd.RemovalDate)
			if strings.HasPrefix(rd.Status, "REMOVED") {
				row.RemovedBeforeOff = !hasOff || row.RemovalTime == nil || *row.RemovalTime <= off.ms
			}
		}
		// State just before the off (or at the end when there is none).
		at := rs.hist.len() - 1
		if hasOff {
			at = beforeSeq(&rs.hist, off.seq)
		}
		if at >= 0 {
			s := rs.hist.at(at)
			if s.hasAdj {
				row.AdjustmentFactor = st.f.p(s.adj)
			}
			if s.hasLtp {
				row.PpLtp = st.f.p(s.ltp)
			}
			if s.spLay > 0 {
				row.SpBackStake = st.f.p(s.spLay)
			}
			if s.spBack > 0 {
				row.SpLayLiability = st.f.p(s.spBack)
			}
			if hasOff {
				if s.nBack > 0 {
					row.BackPriceAtOff = st.f.p(s.back[0].Price)
				}
				if s.nLay > 0 {
					row.LayPriceAtOff = st.f.p(s.lay[0].Price)
				}
				if s.hasSpn {
					row.SpnAtOff = st.f.p(s.spn)
				}
				if s.hasSpf {
					row.SpfAtOff = st.f.p(s.spf)
				}
			}
		}
		if row.AdjustmentFactor == nil && at < 0 {
			if rd := defs[rs.key]; rd != nil && rd.HasAdjustment {
				row.AdjustmentFactor = st.f.p(rd.AdjustmentFactor)
			}
		}
		if mk.MarketTime != nil {
			if i := asOfRunner(&rs.hist, sched); i >= 0 {
				s := rs.hist.at(i)
				if s.nBack > 0 {
					row.BackPriceAtScheduled = st.f.p(s.back[0].Price)
				}
				if s.nLay > 0 {
					row.LayPriceAtScheduled = st.f.p(s.lay[0].Price)
				}
			}
		}
		if a := pp[rs.key]; a != nil {
			row.PpVolume = a.vol
			if a.n > 0 {
				row.PpMin, row.PpMax = st.f.p(a.min), st.f.p(a.max)
			}
			if a.vol > 0 {
				row.PpWap = st.f.p(a.pv / a.vol)
			}
		}
		if a := ip[rs.key]; a != nil {
			row.IpVolume = a.vol
			if a.n > 0 {
				row.IpMin, row.IpMax = st.f.p(a.min), st.f.p(a.max)
			}
			if a.vol > 0 {
				row.IpWap = st.f.p(a.pv / a.vol)
			}
			if n := rs.hist.len(); n > 0 && rs.hist.at(n-1).hasLtp {
				row.IpLtp = st.f.p(rs.hist.at(n - 1).ltp)
			}
		}
		r.Runners = append(r.Runners, row)
	}

	// Snapshots: refs in name order ("off" < "scheduled"), points largest
	// first, runners by (selection_id, handicap).
	type ref struct {
		name string
		t    int64
	}
	var refs []ref
	if hasOff {
		refs = append(refs, ref{RefOff, off.ms})
	}
	if mk.MarketTime != nil {
		refs = append(refs, ref{RefScheduled, sched})
	}
	if len(points) == 0 || len(refs) == 0 || opts.NoSnapshots {
		return
	}
	byID := slices.Clone(st.rlist)
	slices.SortFunc(byID, func(a, b *runnerState) int {
		return cmp.Or(cmp.Compare(a.key.id, b.key.id), cmp.Compare(a.key.hc, b.key.hc))
	})
	for _, rf := range refs {
		for _, p := range points {
			t := rf.t - int64(p)*1000
			mi := asOfMarket(&st.hist, t)
			if mi < 0 {
				continue
			}
			h := st.hist.at(mi)
			ms := MarketSnapshot{MarketID: st.id, Ref: rf.name, SecondsBefore: int32(p), SnapshotTime: t,
				LastUpdatePt: st.f.i(h.pt), MarketStatus: h.status, InPlay: h.inPlay, TotalMatched: h.total, NActive: h.nActive}
			var bo, lo float64
			var nb, nl int
			for _, rs := range byID {
				i := asOfRunner(&rs.hist, t)
				if i < 0 || st.statusName(rs.hist.at(i).status) != "ACTIVE" {
					continue
				}
				s := rs.hist.at(i)
				if s.nBack > 0 && s.back[0].Price > 0 {
					bo += 1 / s.back[0].Price
					nb++
				}
				if s.nLay > 0 && s.lay[0].Price > 0 {
					lo += 1 / s.lay[0].Price
					nl++
				}
			}
			if nb > 0 {
				ms.BackOverround = st.f.p(bo)
			}
			if nl > 0 {
				ms.LayOverround = st.f.p(lo)
			}
			r.MarketSnapshots = append(r.MarketSnapshots, ms)
		}
	}
	for _, rs := range byID {
		for _, rf := range refs {
			for _, p := range points {
				t := rf.t - int64(p)*1000
				mi := asOfMarket(&st.hist, t)
				i := asOfRunner(&rs.hist, t)
				if mi < 0 || i < 0 {
					continue
				}
				h, s := st.hist.at(mi), rs.hist.at(i)
				row := Snapshot{MarketID: st.id, SelectionID: rs.key.id, Handicap: rs.key.hc, Ref: rf.name,
					SecondsBefore: int32(p), SnapshotTime: t, LastUpdatePt: h.pt, MarketStatus: h.status,
					InPlay: h.inPlay, RunnerStatus: st.statusName(s.status), TradedVolume: s.vol, Has: HasLastUpdatePt}
				if s.hasAdj {
					row.AdjustmentFactor = s.adj
					row.Has |= HasAdjustmentFactor
				}
				if s.hasLtp {
					row.Ltp = s.ltp
					row.Has |= HasLtp
				}
				if s.vol > 0 {
					row.Wap = s.pv / s.vol
					row.Has |= HasWap
				}
				bp := [3]*float64{&row.BackPrice1, &row.BackPrice2, &row.BackPrice3}
				bs := [3]*float64{&row.BackSize1, &row.BackSize2, &row.BackSize3}
				lp := [3]*float64{&row.LayPrice1, &row.LayPrice2, &row.LayPrice3}
				ls := [3]*float64{&row.LaySize1, &row.LaySize2, &row.LaySize3}
				for k := 0; k < int(s.nBack); k++ {
					*bp[k], *bs[k] = s.back[k].Price, s.back[k].Size
					row.Has |= (HasBackPrice1 | HasBackSize1) << (2 * k)
				}
				for k := 0; k < int(s.nLay); k++ {
					*lp[k], *ls[k] = s.lay[k].Price, s.lay[k].Size
					row.Has |= (HasLayPrice1 | HasLaySize1) << (2 * k)
				}
				var backOK, layOK bool
				if s.nBack > 0 {
					var t int
					t, backOK = book.Tick(s.back[0].Price)
					if backOK {
						row.BackTick = int32(t)
						row.Has |= HasBackTick
					}
				}
				if s.nLay > 0 {
					var t int
					t, layOK = book.Tick(s.lay[0].Price)
					if layOK {
						row.LayTick = int32(t)
						row.Has |= HasLayTick
					}
				}
				if backOK && layOK {
					row.SpreadTicks = row.LayTick - row.BackTick
					row.Has |= HasSpreadTicks
				}
				if s.hasSpn {
					row.Spn = s.spn
					row.Has |= HasSpn
				}
				if s.hasSpf {
					row.Spf = s.spf
					row.Has |= HasSpf
				}
				r.Snapshots.Append(row)
			}
		}
	}
}

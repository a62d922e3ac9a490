package tables

import (
	"cmp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	// The zone database travels in the binary: local times must not
	// depend on the machine (distroless and scratch images have none).
	_ "time/tzdata"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// asOfMarket returns the index of the last market snapshot with pt <= t,
// or -1.
func asOfMarket(h *paged[marketSnap], t int64) int {
	return sort.Search(h.len(), func(i int) bool { return h.at(i).pt > t }) - 1
}

// asOfRunner is asOfMarket for a runner's history.
func asOfRunner(h *paged[runnerSnap], t int64) int {
	return sort.Search(h.len(), func(i int) bool { return h.at(i).pt > t }) - 1
}

// beforeSeq returns the index of the last runner snapshot from a line
// before seq, or -1.
func beforeSeq(h *paged[runnerSnap], seq int64) int {
	return sort.Search(h.len(), func(i int) bool { return h.at(i).seq >= seq }) - 1
}

// marketBeforeSeq is beforeSeq for the market's history.
func marketBeforeSeq(h *paged[marketSnap], seq int64) int {
	return sort.Search(h.len(), func(i int) bool { return h.at(i).seq >= seq }) - 1
}

// offAt is a market's off: the line it happened on and how it was found.
type offAt struct {
	timeAt
	source string
}

func (o offAt) ok() bool { return o.source != OffNone }

// finish turns the replay's state into the market's rows. It runs once per
// market, in steps that each read what the earlier ones settled: the off,
// the market row (with its partition and data tier), the runner rows, then
// the snapshots.
func (st *marketState) finish(opts Options, points, inPlayPoints []int) {
	r := &st.rows
	r.EventTypeID, r.DataTier = "0", TierRecorded
	if st.firstPt != 0 {
		r.Date = time.UnixMilli(st.firstPt).UTC().Format(time.DateOnly)
	}
	if st.m == nil || st.m.Def == nil {
		return
	}
	off := st.off()
	mk := st.marketRow(opts, off)
	r.Market = mk
	r.DataTier = mk.DataTier
	st.runnerRows(mk, off)
	if !opts.NoRunnerUpdates {
		st.runnerUpdates()
	}
	if len(points) == 0 || opts.NoSnapshots {
		return
	}
	offPoints := points
	if off.source == OffInPlay && inPlayPoints != nil {
		offPoints = inPlayPoints
	}
	st.snapshots(mk, off, points, offPoints)
}

// off returns the market's off: the first definition in play, else the
// last OPEN->SUSPENDED still standing at the end.
func (st *marketState) off() offAt {
	switch {
	case st.hasInPlay:
		return offAt{st.inPlay, OffInPlay}
	case st.hasCand:
		return offAt{st.cand, OffSuspended}
	}
	return offAt{source: OffNone}
}

// dataTier names what the tape's ladders say about its source: any sign
// of a recorder (or of level-keyed ladders, which Betfair's archives never
// hold) makes it recorded; else a price ladder deeper than three levels is
// PRO, a price ladder at all ADVANCED, none BASIC.
func (st *marketState) dataTier() string {
	switch {
	case st.recorded || st.levels:
		return TierRecorded
	case st.deep:
		return TierPro
	case st.ladders:
		return TierAdvanced
	}
	return TierBasic
}

// marketRow builds the markets row from the final definition and what the
// replay saw, and sets the rows' partition.
func (st *marketState) marketRow(opts Options, off offAt) *Market {
	r := &st.rows
	d := st.m.Def
	mk := &Market{MarketID: st.id, EventID: d.EventID, EventName: d.EventName,
		MarketName: d.Name, MarketType: d.MarketType, BettingType: d.BettingType, CountryCode: d.CountryCode,
		Venue: d.Venue, Timezone: d.Timezone, OpenTime: st.timePtr(d.OpenDate), SuspendTime: st.timePtr(d.SuspendTime),
		BspReconciledTime: st.bspRecPt, CloseTime: st.closePt, SettledTime: st.timePtr(d.SettledTime),
		TurnInPlayEnabled: d.TurnInPlayEnabled, BspMarket: d.BspMarket, NWinners: int32(d.NumberOfWinners),
		NRunners: int32(len(d.Runners)), MarketBaseRate: d.MarketBaseRate, FinalStatus: d.Status,
		Source: opts.Source, SourceMember: opts.Member, NUpdates: st.nUpdates}
	if d.HasEachWayDivisor {
		mk.EachWayDivisor = st.f.p(d.EachWayDivisor)
	}
	if st.hasInPlay {
		mk.InPlayTime = st.f.i(st.inPlay.ms)
	}
	mk.OffTimeSource = off.source
	if off.ok() {
		mk.OffTime = st.f.i(off.ms)
	}
	// market_time: the last one announced before the off.
	if len(st.marketTimes) > 0 {
		mk.MarketTimeFirst = st.f.i(st.marketTimes[0].ms)
		mt := st.marketTimes[len(st.marketTimes)-1]
		if off.ok() {
			for _, x := range st.marketTimes {
				if x.seq < off.seq {
					mt = x
				}
			}
		}
		mk.MarketTime = st.f.i(mt.ms)
		r.Date = time.UnixMilli(mt.ms).UTC().Format(time.DateOnly)
	}
	// Betfair's event type ids are numbers; one that is not (none has
	// been seen) would make the partition's type differ from the column's,
	// so it is stored as the unknown type 0.
	if id, err := strconv.ParseInt(d.EventTypeID, 10, 64); err == nil && id > 0 {
		mk.EventTypeID = id
		r.EventTypeID = strconv.FormatInt(id, 10)
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
	if off.ok() {
		if i := marketBeforeSeq(&st.hist, off.seq); i >= 0 {
			mk.NActiveAtOff = st.hist.at(i).nActive
		}
	} else {
		mk.NActiveAtOff = int32(d.NumberOfActiveRunners)
	}
	if isRacing(mk.EventTypeID) {
		if f, ok := parseRaceName(d.Name); ok {
			if f.number > 0 {
				mk.RaceNumber = &f.number
			}
			mk.RaceDistanceM = &f.distance
			if f.class != "" {
				mk.RaceClass = &f.class
			}
		}
		if mk.MarketTime != nil && d.EventID != "" {
			k := raceKey(d.EventID, *mk.MarketTime)
			mk.RaceKey = &k
		}
	}
	if loc := st.zones.get(d.Timezone); loc != nil {
		mk.MarketTimeLocal = st.local(mk.MarketTime, loc)
		mk.OffTimeLocal = st.local(mk.OffTime, loc)
	}
	mk.DataTier = st.dataTier()
	return mk
}

// local returns the wall-clock time in loc of the instant at ms, as epoch
// milliseconds of that wall clock read as UTC (a local timestamp), or nil.
func (st *marketState) local(ms *int64, loc *time.Location) *int64 {
	if ms == nil {
		return nil
	}
	_, offset := time.UnixMilli(*ms).In(loc).Zone()
	return st.f.i(*ms + int64(offset)*1000)
}

// zones caches the time zones of a tape's markets by name: loading one
// reads and parses the zone database.
type zones map[string]*time.Location

// get returns the zone named name, or nil when it is empty or unknown.
func (z zones) get(name string) *time.Location {
	if name == "" {
		return nil
	}
	loc, ok := z[name]
	if !ok {
		loc, _ = time.LoadLocation(name)
		z[name] = loc
	}
	return loc
}

// tradeAgg sums one runner's trades of one phase.
//
// A price traded in the phase when its size grew over the phase, net:
// Betfair's traded sizes move by a cent now and then, down at one line and
// back up at a later one (1.200806927's 228749 at 9 in play: 1.34, 1.33,
// 1.34), and such a wobble matched nothing. The volume and the weighted
// price are the same net sums, price by price, so min, max, wap and
// volume describe one set of changes, the trades table's rows of the phase.
type tradeAgg struct {
	vol, pv float64
	// net is each price's size change over the phase.
	net map[float64]float64
	// lastGrew is the seq of the last line whose change grew a size.
	lastGrew int64
}

func (a *tradeAgg) add(t *Trade) {
	a.vol += t.SizeDelta
	a.pv += t.SizeDelta * t.Price
	if a.net == nil {
		a.net = map[float64]float64{}
	}
	a.net[t.Price] += t.SizeDelta
	if t.SizeDelta > 0 {
		a.lastGrew = t.Seq
	}
}

// traded returns the lowest and highest prices whose size grew over the
// phase, and whether there is one.
func (a *tradeAgg) traded() (lo, hi float64, ok bool) {
	for p, d := range a.net {
		if cents(d) <= 0 {
			continue
		}
		if !ok || p < lo {
			lo = p
		}
		if !ok || p > hi {
			hi = p
		}
		ok = true
	}
	return lo, hi, ok
}

// Trade phases, by the market's state at the change (see Runner).
const (
	phasePreplay = iota
	phaseSP
	phaseInPlay
	nPhases
)

func phaseOf(t *Trade) int {
	switch {
	case t.InPlay:
		return phaseInPlay
	case t.MarketStatus != "OPEN":
		return phaseSP
	}
	return phasePreplay
}

// volumes sums the runners' trades by phase, settlement resets excluded,
// and sets the market's volume columns.
func (st *marketState) volumes(mk *Market) map[rkey]*[nPhases]tradeAgg {
	aggs := map[rkey]*[nPhases]tradeAgg{}
	var total [nPhases]float64
	st.rows.Trades.Each(func(t *Trade) {
		if t.IsSettlementReset {
			return
		}
		k := rkey{t.SelectionID, t.Handicap}
		a := aggs[k]
		if a == nil {
			a = &[nPhases]tradeAgg{}
			aggs[k] = a
		}
		ph := phaseOf(t)
		a[ph].add(t)
		total[ph] += t.SizeDelta
	})
	mk.PpTradedVolume = cents(total[phasePreplay])
	mk.SpTradedVolume = cents(total[phaseSP])
	mk.IpTradedVolume = cents(total[phaseInPlay])
	mk.TradedVolume = cents(st.vol)
	return aggs
}

// sortedRunners returns the market's runners in the final definition's
// sort priority (runners it does not list last), then by key.
func (st *marketState) sortedRunners(defs map[rkey]*esa.RunnerDefinition) []*runnerState {
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
	return runners
}

// runnerRows builds the runners rows: each runner's final definition, its
// state just before the off and at the scheduled time, and its volumes.
func (st *marketState) runnerRows(mk *Market, off offAt) {
	d := st.m.Def
	vols := st.volumes(mk)
	defs := map[rkey]*esa.RunnerDefinition{}
	for i := range d.Runners {
		defs[rkey{d.Runners[i].ID, d.Runners[i].Hc}] = &d.Runners[i]
	}
	for _, rs := range st.sortedRunners(defs) {
		row := Runner{MarketID: st.id, SelectionID: rs.key.id, Handicap: rs.key.hc}
		rd := defs[rs.key]
		if rd != nil {
			row.RunnerName, row.SortPriority, row.FinalStatus = rd.Name, int32(rd.SortPriority), rd.Status
			row.IsWinner = rd.Status == "WINNER"
			if isRacing(mk.EventTypeID) && rd.Name != "" {
				n, clean := parseRunnerName(rd.Name)
				if n > 0 {
					row.RunnerNumber = &n
				}
				row.RunnerNameClean = &clean
			}
			if rd.HasBsp && finite(rd.Bsp) {
				row.Bsp = st.f.p(rd.Bsp)
			}
			row.RemovalTime = st.timePtr(rd.RemovalDate)
			if strings.HasPrefix(rd.Status, "REMOVED") {
				row.RemovedBeforeOff = !off.ok() || row.RemovalTime == nil || *row.RemovalTime <= off.ms
			}
		}
		if at := st.atOff(&row, rs, off); at < 0 && rd != nil && rd.HasAdjustment {
			row.AdjustmentFactor = st.f.p(rd.AdjustmentFactor)
		}
		if mk.MarketTime != nil {
			if i := asOfRunner(&rs.hist, *mk.MarketTime); i >= 0 {
				s := rs.hist.at(i)
				if s.nBack > 0 {
					row.BackPriceAtScheduled = st.f.p(s.back[0].Price)
				}
				if s.nLay > 0 {
					row.LayPriceAtScheduled = st.f.p(s.lay[0].Price)
				}
			}
		}
		if a := vols[rs.key]; a != nil {
			pp, sp, ip := &a[phasePreplay], &a[phaseSP], &a[phaseInPlay]
			row.PpTradedVolume = cents(pp.vol)
			row.PpMin, row.PpMax, row.PpWap = st.priceRange(pp)
			row.SpTradedVolume = cents(sp.vol)
			row.IpTradedVolume = cents(ip.vol)
			row.IpMin, row.IpMax, row.IpWap = st.priceRange(ip)
			row.IpLtp = st.ltpAfter(rs, ip)
		}
		st.rows.Runners = append(st.rows.Runners, row)
	}
}

// priceRange returns the lowest, highest and volume-weighted prices of a
// runner's trades, each null when there is none.
func (st *marketState) priceRange(a *tradeAgg) (lo, hi, wap *float64) {
	if l, h, ok := a.traded(); ok {
		lo, hi = st.f.p(l), st.f.p(h)
	}
	if a.vol > 0 {
		wap = st.f.p(a.pv / a.vol)
	}
	return lo, hi, wap
}

// ltpAfter returns the last traded price Betfair states with a runner's
// last trade of a phase, null when it traded nothing in the phase. It is
// not the runner's final LTP: the line that settles a market empties the
// traded ladder and carries an LTP of its own (1.200806927: 1.4 and 2.5
// for the 1.01 and 1000 the match ended at), which no trade made.
func (st *marketState) ltpAfter(rs *runnerState, a *tradeAgg) *float64 {
	if _, _, ok := a.traded(); !ok {
		return nil
	}
	if i := beforeSeq(&rs.hist, a.lastGrew+1); i >= 0 && rs.hist.at(i).hasLtp {
		return st.f.p(rs.hist.at(i).ltp)
	}
	return nil
}

// atOff fills the runner's columns read from its state just before the
// off's line (or at the end of the tape when there is no off), and
// returns that state's index in the runner's history, -1 for none.
func (st *marketState) atOff(row *Runner, rs *runnerState, off offAt) int {
	at := rs.hist.len() - 1
	if off.ok() {
		at = beforeSeq(&rs.hist, off.seq)
	}
	if at < 0 {
		return at
	}
	s := rs.hist.at(at)
	if s.hasAdj {
		row.AdjustmentFactor = st.f.p(s.adj)
	}
	if s.hasLtp {
		row.PpLtp = st.f.p(s.ltp)
	}
	row.SpBackStake, row.SpLayLiability = cents(s.spLay), cents(s.spBack)
	if !off.ok() {
		return at
	}
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
	return at
}

// runnerUpdates builds the runner_updates rows from the runners'
// histories, runners by (selection_id, handicap), each in line order.
func (st *marketState) runnerUpdates() {
	byID := slices.Clone(st.rlist)
	slices.SortFunc(byID, func(a, b *runnerState) int {
		return cmp.Or(cmp.Compare(a.key.id, b.key.id), cmp.Compare(a.key.hc, b.key.hc))
	})
	for _, rs := range byID {
		for i := range rs.hist.len() {
			s := rs.hist.at(i)
			u := RunnerUpdate{MarketID: st.id, Pt: s.pt, Seq: s.seq, SelectionID: rs.key.id, Handicap: rs.key.hc,
				RunnerStatus: st.statusName(s.status), TradedVolume: cents(s.vol)}
			if s.hasLtp {
				u.Ltp = st.f.p(s.ltp)
			}
			if s.nBack > 0 {
				u.BackPrice1, u.BackSize1 = st.f.p(s.back[0].Price), st.f.p(s.back[0].Size)
			}
			if s.nLay > 0 {
				u.LayPrice1, u.LaySize1 = st.f.p(s.lay[0].Price), st.f.p(s.lay[0].Size)
			}
			if s.hasSpn {
				u.Spn = st.f.p(s.spn)
			}
			if s.hasSpf {
				u.Spf = st.f.p(s.spf)
			}
			st.rows.RunnerUpdates.Append(u)
		}
	}
}

// snapRef is one reference of the snapshot grid and its time. For the
// off, seq is the off's line: a point at or before the off is the state
// before that line, since the line itself (the suspension, or the turn in
// play) and whatever Betfair published in the same millisecond are the
// market after the off.
type snapRef struct {
	name   string
	t      int64
	seq    int64 // 0: no line bound
	points []int
}

// indexes returns the market's and the runner's history entries that are
// the state p seconds before rf (-1 when the tape had not begun).
func (st *marketState) indexes(rs *runnerState, rf snapRef, p int) (mi, ri int) {
	t := rf.t - int64(p)*1000
	mi = asOfMarket(&st.hist, t)
	if rs != nil {
		ri = asOfRunner(&rs.hist, t)
	}
	if rf.seq != 0 && p >= 0 {
		mi = min(mi, marketBeforeSeq(&st.hist, rf.seq))
		if rs != nil {
			ri = min(ri, beforeSeq(&rs.hist, rf.seq))
		}
	}
	return mi, ri
}

// snapshots builds the market_snapshots and snapshots rows: refs in name
// order ("off" < "scheduled"), points largest first (offPoints for the
// off, points for the scheduled time), runners by (selection_id,
// handicap).
func (st *marketState) snapshots(mk *Market, off offAt, points, offPoints []int) {
	var refs []snapRef
	if off.ok() {
		refs = append(refs, snapRef{RefOff, off.ms, off.seq, offPoints})
	}
	if mk.MarketTime != nil {
		refs = append(refs, snapRef{RefScheduled, *mk.MarketTime, 0, points})
	}
	if len(refs) == 0 {
		return
	}
	byID := slices.Clone(st.rlist)
	slices.SortFunc(byID, func(a, b *runnerState) int {
		return cmp.Or(cmp.Compare(a.key.id, b.key.id), cmp.Compare(a.key.hc, b.key.hc))
	})
	for _, rf := range refs {
		for _, p := range rf.points {
			if ms, ok := st.marketSnapshot(byID, rf, p); ok {
				st.rows.MarketSnapshots = append(st.rows.MarketSnapshots, ms)
			}
		}
	}
	// A runner's history entries shown so far, and their states' indexes:
	// a state is kept once however many points show it.
	shown := map[int]int32{}
	for _, rs := range byID {
		clear(shown)
		for _, rf := range refs {
			for _, p := range rf.points {
				at, i, ok := st.snapshotPoint(rs, rf, p)
				if !ok {
					continue
				}
				k, seen := shown[i]
				if !seen {
					k = st.rows.Snapshots.addState(st.runnerState(rs, i))
					shown[i] = k
				}
				st.rows.Snapshots.addRow(k, &at)
				if st.depth > 3 {
					// Rows.Bytes counts the deep levels of every row, as
					// when each row had its own.
					st.rows.deep++
				}
			}
		}
	}
}

// marketSnapshot is the market as of p seconds before rf, if the tape had
// begun by then.
func (st *marketState) marketSnapshot(byID []*runnerState, rf snapRef, p int) (MarketSnapshot, bool) {
	t := rf.t - int64(p)*1000
	mi, _ := st.indexes(nil, rf, p)
	if mi < 0 {
		return MarketSnapshot{}, false
	}
	h := st.hist.at(mi)
	ms := MarketSnapshot{MarketID: st.id, Ref: rf.name, SecondsBefore: int32(p), SnapshotTime: t,
		LastUpdatePt: st.f.i(h.pt), MarketStatus: h.status, InPlay: h.inPlay, TradedVolume: cents(h.total), NActiveRunners: h.nActive}
	var bo, lo float64
	var nb, nl int
	for _, rs := range byID {
		_, i := st.indexes(rs, rf, p)
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
	return ms, true
}

// snapshotPoint is the grid point p seconds before rf for one runner: a
// row with only the point's fields set (Ref, SecondsBefore, SnapshotTime
// and the market's LastUpdatePt, MarketStatus and InPlay) and the index
// in the runner's history of the state it shows, if the tape had reached
// both the market and the runner by then.
func (st *marketState) snapshotPoint(rs *runnerState, rf snapRef, p int) (Snapshot, int, bool) {
	mi, i := st.indexes(rs, rf, p)
	if mi < 0 || i < 0 {
		return Snapshot{}, 0, false
	}
	h := st.hist.at(mi)
	return Snapshot{Ref: rf.name, SecondsBefore: int32(p), SnapshotTime: rf.t - int64(p)*1000, LastUpdatePt: h.pt,
		MarketStatus: h.status, InPlay: h.inPlay}, i, true
}

// runnerState is the rest of a snapshot row: the runner's state at entry
// i of its history.
func (st *marketState) runnerState(rs *runnerState, i int) Snapshot {
	s := rs.hist.at(i)
	row := Snapshot{MarketID: st.id, SelectionID: rs.key.id, Handicap: rs.key.hc,
		RunnerStatus: st.statusName(s.status), TradedVolume: cents(s.vol), Has: HasLastUpdatePt,
		SpBackStake: cents(s.spLay), SpLayLiability: cents(s.spBack)}
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
	if st.depth > 3 {
		row.Deep = st.deepLevels(*rs.deep.at(i))
	}
	return row
}

// deepLevels returns a copy of d from the market's slab: the histories
// it comes from go to the next tape, while the rows wait to be written.
func (st *marketState) deepLevels(d DeepLevels) *DeepLevels {
	if len(st.deeps) == cap(st.deeps) {
		st.deeps = make([]DeepLevels, 0, 256)
	}
	st.deeps = append(st.deeps, d)
	return &st.deeps[len(st.deeps)-1]
}

package esa

import (
	"math"
	"slices"
)

// marketChanges decodes the "mc" array into m.MC, reusing its elements and
// their RC slices.
func (d *Decoder) marketChanges(m *Message) error {
	m.MC = m.MC[:0]
	more, err := d.arrStart()
	for n := 0; more && err == nil; n++ {
		if n < cap(m.MC) {
			m.MC = m.MC[:n+1]
			mc := &m.MC[n]
			*mc = MarketChange{RC: mc.RC[:0]}
		} else {
			m.MC = append(m.MC, MarketChange{})
		}
		if err = d.marketChange(&m.MC[n]); err != nil {
			return inIndex(err, n)
		}
		more, err = d.arrNext()
	}
	return err
}

// marketChange decodes one element of "mc".
func (d *Decoder) marketChange(mc *MarketChange) error {
	d.ws()
	start := d.i
	if d.shallow {
		if err := d.idOnly(&mc.ID); err != nil {
			return err
		}
		mc.Raw = d.b[start:d.i:d.i]
		return nil
	}
	more, err := d.objStart()
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		if d.null() {
			more, err = d.objNext()
			continue
		}
		switch string(k) {
		case "rc":
			err = d.runnerChanges(mc)
		case "id":
			mc.ID, err = d.str()
		case "img":
			mc.Img, err = d.boolean()
		case "con":
			mc.Con, err = d.boolean()
		case "tv":
			mc.Tv, err = d.float()
			mc.HasTv = err == nil
		case "marketDefinition":
			mc.Def, err = d.marketDefinition()
		default:
			err = d.skip()
		}
		if err != nil {
			return inKey(err, k)
		}
		more, err = d.objNext()
	}
	mc.Raw = d.b[start:d.i:d.i]
	if err == nil && len(mc.ID) == 0 {
		return errNoID(start)
	}
	return err
}

// errNoID reports a market (or order market) change whose id is missing,
// null or "": it belongs to no market, and keeping it would make a phantom
// market "" in every reader.
func errNoID(off int) error {
	return &SyntaxError{Offset: off, Path: "id", Msg: "want the market id, a non-empty string"}
}

// idOnly decodes an object keeping only its "id" string (for DecodeShallow).
// The other values are skipped by bracket counting, not validated; an id
// that is missing, null or empty is an error, as in Decode.
func (d *Decoder) idOnly(id *[]byte) error {
	start := d.i
	more, err := d.objStart()
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		if string(k) == "id" && !d.null() {
			*id, err = d.str()
		} else {
			err = d.skipBalanced()
		}
		if err != nil {
			return inKey(err, k)
		}
		more, err = d.objNext()
	}
	if err == nil && len(*id) == 0 {
		return errNoID(start)
	}
	return err
}

// runnerChanges decodes "rc", reusing mc.RC's elements and their ladders.
func (d *Decoder) runnerChanges(mc *MarketChange) error {
	mc.RC = mc.RC[:0]
	more, err := d.arrStart()
	for n := 0; more && err == nil; n++ {
		if n < cap(mc.RC) {
			mc.RC = mc.RC[:n+1]
			resetRunnerChange(&mc.RC[n])
		} else {
			mc.RC = append(mc.RC, RunnerChange{})
		}
		rc := &mc.RC[n]
		if end, ok := fastRunnerChange(rc, d.b, d.i); ok {
			d.i = end
			more, err = d.arrNext()
			continue
		}
		resetRunnerChange(rc)
		if err = d.runnerChange(rc); err != nil {
			return inIndex(err, n)
		}
		more, err = d.arrNext()
	}
	return err
}

// resetRunnerChange zeroes rc but keeps the capacity of its ladders. Only
// the ladders whose key was present can be non-empty, so only those are
// truncated: storing all nine slices costs more than the rest of a small
// runner change.
func resetRunnerChange(rc *RunnerChange) {
	f := rc.Fields
	rc.ID, rc.Hc, rc.Fields = 0, 0, 0
	rc.Ltp, rc.Tv, rc.Spn, rc.Spf = 0, 0, 0, 0
	if f&(FieldSpn|FieldSpf) != 0 {
		rc.SpnRaw, rc.SpfRaw = nil, nil
	}
	if f&^(FieldHc|FieldLtp|FieldTv|FieldSpn|FieldSpf) == 0 {
		return
	}
	if f&FieldAtb != 0 {
		rc.Atb = rc.Atb[:0]
	}
	if f&FieldAtl != 0 {
		rc.Atl = rc.Atl[:0]
	}
	if f&FieldTrd != 0 {
		rc.Trd = rc.Trd[:0]
	}
	if f&FieldSpb != 0 {
		rc.Spb = rc.Spb[:0]
	}
	if f&FieldSpl != 0 {
		rc.Spl = rc.Spl[:0]
	}
	if f&FieldBatb != 0 {
		rc.Batb = rc.Batb[:0]
	}
	if f&FieldBatl != 0 {
		rc.Batl = rc.Batl[:0]
	}
	if f&FieldBdatb != 0 {
		rc.Bdatb = rc.Bdatb[:0]
	}
	if f&FieldBdatl != 0 {
		rc.Bdatl = rc.Bdatl[:0]
	}
}

// runnerChange decodes one element of "rc".
func (d *Decoder) runnerChange(rc *RunnerChange) error {
	more, err := d.objStart()
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		if d.null() {
			more, err = d.objNext()
			continue
		}
		switch string(k) {
		case "atb":
			rc.Atb, err = d.ladder(rc.Atb[:0])
			rc.Fields |= FieldAtb
		case "atl":
			rc.Atl, err = d.ladder(rc.Atl[:0])
			rc.Fields |= FieldAtl
		case "batb":
			rc.Batb, err = d.levelLadder(rc.Batb[:0])
			rc.Fields |= FieldBatb
		case "batl":
			rc.Batl, err = d.levelLadder(rc.Batl[:0])
			rc.Fields |= FieldBatl
		case "id":
			rc.ID, err = d.idInt()
		case "trd":
			rc.Trd, err = d.ladder(rc.Trd[:0])
			rc.Fields |= FieldTrd
		case "ltp":
			rc.Ltp, err = d.float()
			rc.Fields |= FieldLtp
		case "tv":
			rc.Tv, err = d.float()
			rc.Fields |= FieldTv
		case "bdatb":
			rc.Bdatb, err = d.levelLadder(rc.Bdatb[:0])
			rc.Fields |= FieldBdatb
		case "bdatl":
			rc.Bdatl, err = d.levelLadder(rc.Bdatl[:0])
			rc.Fields |= FieldBdatl
		case "spb":
			rc.Spb, err = d.ladder(rc.Spb[:0])
			rc.Fields |= FieldSpb
		case "spl":
			rc.Spl, err = d.ladder(rc.Spl[:0])
			rc.Fields |= FieldSpl
		case "spn":
			rc.Spn, rc.SpnRaw, err = d.projectedPrice()
			rc.Fields |= FieldSpn
		case "spf":
			rc.Spf, rc.SpfRaw, err = d.projectedPrice()
			rc.Fields |= FieldSpf
		case "hc":
			rc.Hc, err = d.float()
			rc.Fields |= FieldHc
		default:
			err = d.skip()
		}
		if err != nil {
			return inKey(err, k)
		}
		more, err = d.objNext()
	}
	return err
}

// projectedPrice reads spn or spf: a number, or one of the strings "NaN",
// "Infinity" and "-Infinity" Betfair sends when there is no projection.
// raw is the number's text or the string's contents.
func (d *Decoder) projectedPrice() (f float64, raw []byte, err error) {
	if d.peek() != '"' {
		start := d.i
		f, err = d.float()
		return f, d.b[start:d.i:d.i], err
	}
	start := d.i
	if raw, err = d.str(); err != nil {
		return 0, nil, err
	}
	switch string(raw) {
	case "NaN":
		return math.NaN(), raw, nil
	case "Infinity":
		return math.Inf(1), raw, nil
	case "-Infinity":
		return math.Inf(-1), raw, nil
	}
	return 0, nil, d.errAt(start, `expected number, "NaN" or "Infinity"`)
}

// ladder decodes a [[price, size], ...] array, appending to dst. This is
// the innermost loop of the whole decoder, so it scans the punctuation
// inline rather than through objStart/arrNext.
func (d *Decoder) ladder(dst []PriceSize) ([]PriceSize, error) {
	n := len(dst)
	if out, end, ok := fastPriceSizes(d.b, d.i, dst); ok {
		d.i = end
		return out, nil
	}
	dst = dst[:n]
	more, err := d.arrStart()
	for more && err == nil {
		if d.peek() != '[' {
			return dst, d.errf("expected [price, size]")
		}
		d.i++
		var ps PriceSize
		if ps.Price, err = d.float(); err != nil {
			return dst, inIndex(err, len(dst))
		}
		if d.peek() != ',' {
			return dst, inIndex(d.errf("expected ',' in [price, size]"), len(dst))
		}
		d.i++
		if ps.Size, err = d.float(); err != nil {
			return dst, inIndex(err, len(dst))
		}
		if d.peek() != ']' {
			return dst, inIndex(d.errf("expected ']' after [price, size]"), len(dst))
		}
		d.i++
		dst = append(dst, ps)
		more, err = d.arrNext()
	}
	return dst, err
}

// levelLadder decodes a [[level, price, size], ...] array, appending to dst.
func (d *Decoder) levelLadder(dst []LevelPriceSize) ([]LevelPriceSize, error) {
	n := len(dst)
	if out, end, ok := fastLevels(d.b, d.i, dst); ok {
		d.i = end
		return out, nil
	}
	dst = dst[:n]
	more, err := d.arrStart()
	for more && err == nil {
		if d.peek() != '[' {
			return dst, d.errf("expected [level, price, size]")
		}
		d.i++
		var l LevelPriceSize
		var lv int64
		if lv, err = d.int64(); err != nil {
			return dst, inIndex(err, len(dst))
		}
		l.Level = int(lv)
		if d.peek() != ',' {
			return dst, inIndex(d.errf("expected ',' in [level, price, size]"), len(dst))
		}
		d.i++
		if l.Price, err = d.float(); err != nil {
			return dst, inIndex(err, len(dst))
		}
		if d.peek() != ',' {
			return dst, inIndex(d.errf("expected ',' in [level, price, size]"), len(dst))
		}
		d.i++
		if l.Size, err = d.float(); err != nil {
			return dst, inIndex(err, len(dst))
		}
		if d.peek() != ']' {
			return dst, inIndex(d.errf("expected ']' after [level, price, size]"), len(dst))
		}
		d.i++
		dst = append(dst, l)
		more, err = d.arrNext()
	}
	return dst, err
}

// marketDefinition decodes a "marketDefinition" object into a new
// MarketDefinition the caller may keep: its strings are interned Go
// strings, its slices and Raw are its own.
func (d *Decoder) marketDefinition() (*MarketDefinition, error) {
	d.ws()
	start := d.i
	def := &MarketDefinition{}
	more, err := d.objStart()
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return nil, err
		}
		if d.null() {
			more, err = d.objNext()
			continue
		}
		switch string(k) {
		case "venue":
			def.Venue, err = d.goString()
		case "raceType":
			def.RaceType, err = d.goString()
		case "settledTime":
			def.SettledTime, err = d.goString()
		case "timezone":
			def.Timezone, err = d.goString()
		case "eachWayDivisor":
			def.EachWayDivisor, err = d.float()
			def.HasEachWayDivisor = err == nil
		case "regulators":
			def.Regulators, err = d.stringList()
		case "marketType":
			def.MarketType, err = d.goString()
		case "marketBaseRate":
			def.MarketBaseRate, err = d.float()
		case "numberOfWinners":
			def.NumberOfWinners, err = d.int()
		case "countryCode":
			def.CountryCode, err = d.goString()
		case "lineMaxUnit":
			def.LineMaxUnit, err = d.float()
		case "lineMinUnit":
			def.LineMinUnit, err = d.float()
		case "lineInterval":
			def.LineInterval, err = d.float()
		case "inPlay":
			def.InPlay, err = d.boolean()
		case "betDelay":
			def.BetDelay, err = d.int()
		case "bspMarket":
			def.BspMarket, err = d.boolean()
		case "bettingType":
			def.BettingType, err = d.goString()
		case "numberOfActiveRunners":
			def.NumberOfActiveRunners, err = d.int()
		case "eventId":
			def.EventID, err = d.goString()
		case "crossMatching":
			def.CrossMatching, err = d.boolean()
		case "runnersVoidable":
			def.RunnersVoidable, err = d.boolean()
		case "turnInPlayEnabled":
			def.TurnInPlayEnabled, err = d.boolean()
		case "priceLadderDefinition":
			def.PriceLadderType, err = d.priceLadder()
		case "keyLineDefinition":
			def.KeyLine, err = d.keyLine()
			def.HasKeyLine = err == nil
		case "suspendTime":
			def.SuspendTime, err = d.goString()
		case "discountAllowed":
			def.DiscountAllowed, err = d.boolean()
		case "persistenceEnabled":
			def.PersistenceEnabled, err = d.boolean()
		case "runners":
			def.Runners, err = d.runnerDefinitions()
		case "version":
			def.Version, err = d.int64()
		case "eventTypeId":
			def.EventTypeID, err = d.goString()
		case "complete":
			def.Complete, err = d.boolean()
		case "openDate":
			def.OpenDate, err = d.goString()
		case "marketTime":
			def.MarketTime, err = d.goString()
		case "bspReconciled":
			def.BspReconciled, err = d.boolean()
		case "status":
			def.Status, err = d.goString()
		case "suspendReason":
			def.SuspendReason, err = d.goString()
		case "name":
			def.Name, err = d.goString()
		case "eventName":
			def.EventName, err = d.goString()
		case "betDelayModels":
			def.BetDelayModels, err = d.stringList()
		default:
			err = d.skip()
		}
		if err != nil {
			return nil, inKey(err, k)
		}
		more, err = d.objNext()
	}
	if err != nil {
		return nil, err
	}
	def.Raw = slices.Clone(d.b[start:d.i])
	return def, nil
}

// int reads an integer into an int.
func (d *Decoder) int() (int, error) {
	v, err := d.int64()
	return int(v), err
}

// stringList reads an array of strings into a new slice.
func (d *Decoder) stringList() ([]string, error) {
	d.strs = d.strs[:0]
	more, err := d.arrStart()
	for more && err == nil {
		var s string
		if s, err = d.goString(); err != nil {
			return nil, inIndex(err, len(d.strs))
		}
		d.strs = append(d.strs, s)
		more, err = d.arrNext()
	}
	if err != nil {
		return nil, err
	}
	return append(make([]string, 0, len(d.strs)), d.strs...), nil
}

// priceLadder reads a priceLadderDefinition, keeping its "type".
func (d *Decoder) priceLadder() (string, error) {
	var typ string
	more, err := d.objStart()
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return "", err
		}
		if string(k) == "type" && !d.null() {
			typ, err = d.goString()
		} else {
			err = d.skip()
		}
		if err != nil {
			return "", inKey(err, k)
		}
		more, err = d.objNext()
	}
	return typ, err
}

// keyLine reads a keyLineDefinition: {"kl": [{"id": ..., "hc": ...}, ...]}.
func (d *Decoder) keyLine() ([]KeyLineSelection, error) {
	d.kl = d.kl[:0]
	more, err := d.objStart()
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return nil, err
		}
		if string(k) == "kl" && !d.null() {
			d.kl = d.kl[:0]
			err = d.keyLineSelections()
		} else {
			err = d.skip()
		}
		if err != nil {
			return nil, inKey(err, k)
		}
		more, err = d.objNext()
	}
	if err != nil {
		return nil, err
	}
	return append(make([]KeyLineSelection, 0, len(d.kl)), d.kl...), nil
}

func (d *Decoder) keyLineSelections() error {
	more, err := d.arrStart()
	for more && err == nil {
		var sel KeyLineSelection
		more, err = d.objStart()
		for more && err == nil {
			var k []byte
			if k, err = d.key(); err != nil {
				break
			}
			switch {
			case d.null():
			case string(k) == "id":
				sel.ID, err = d.idInt()
			case string(k) == "hc":
				sel.Hc, err = d.float()
			default:
				err = d.skip()
			}
			if err != nil {
				err = inKey(err, k)
				break
			}
			more, err = d.objNext()
		}
		if err != nil {
			return inIndex(err, len(d.kl))
		}
		d.kl = append(d.kl, sel)
		more, err = d.arrNext()
	}
	return err
}

// runnerDefinitions reads a definition's "runners" into a new slice.
func (d *Decoder) runnerDefinitions() ([]RunnerDefinition, error) {
	d.runners = d.runners[:0]
	more, err := d.arrStart()
	for more && err == nil {
		d.runners = append(d.runners, RunnerDefinition{})
		if err = d.runnerDefinition(&d.runners[len(d.runners)-1]); err != nil {
			return nil, inIndex(err, len(d.runners)-1)
		}
		more, err = d.arrNext()
	}
	if err != nil {
		return nil, err
	}
	return append(make([]RunnerDefinition, 0, len(d.runners)), d.runners...), nil
}

func (d *Decoder) runnerDefinition(r *RunnerDefinition) error {
	more, err := d.objStart()
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		if d.null() {
			more, err = d.objNext()
			continue
		}
		switch string(k) {
		case "id":
			r.ID, err = d.idInt()
		case "hc":
			r.Hc, err = d.float()
			r.HasHc = err == nil
		case "sortPriority":
			r.SortPriority, err = d.int()
		case "name":
			r.Name, err = d.goString()
		case "status":
			r.Status, err = d.goString()
		case "adjustmentFactor":
			r.AdjustmentFactor, err = d.float()
			r.HasAdjustment = err == nil
		case "removalDate":
			r.RemovalDate, err = d.goString()
		case "bsp":
			r.Bsp, err = d.float()
			r.HasBsp = err == nil
		default:
			err = d.skip()
		}
		if err != nil {
			return inKey(err, k)
		}
		more, err = d.objNext()
	}
	return err
}

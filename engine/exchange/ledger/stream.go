package ledger

import (
	"slices"
	"strconv"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/exchange"
)

// tell writes what changed of bet b to the order stream's log: one view
// per fill (the cumulative matched size and average price after it, at the
// fill's publish time, so a client counts the fills a backtest counts),
// then the bet as it now stands at clock now. A placement is told first at
// now, before the fills it crossed, so a client dates it as a backtest
// does.
func (l *Ledger) tell(b *bet, now int64) {
	if !b.placed {
		return
	}
	s := &b.s
	fills := s.Matched
	if len(fills) < b.sent {
		b.sent = 0 // a runner removal voided what was matched
	}
	if len(fills) > 0 {
		b.matchedAt = fills[len(fills)-1].Pt
	}
	cur := view{sm: s.SizeMatched, avp: s.AvgPriceMatched, sc: s.SizeCancelled, sl: s.SizeLapsed, sv: s.SizeVoided,
		complete: s.Status == engine.ExecutionComplete}
	if !b.told && len(fills) > b.sent {
		l.emit(b, now, view{})
	}
	for k := b.sent + 1; k < len(fills); k++ {
		v := b.last
		v.sm, v.avp = engine.WAP(fills[:k])
		v.complete = false
		l.emit(b, fills[k-1].Pt, v)
	}
	pt := now
	if len(fills) > b.sent {
		pt = fills[len(fills)-1].Pt
	}
	b.sent = len(fills)
	if !b.told || cur != b.last {
		l.emit(b, pt, cur)
	}
}

// emit appends one order change: bet b as view v says, with its runner's
// matched backs and lays.
func (l *Ledger) emit(b *bet, pt int64, v view) {
	b.told, b.last = true, v
	mo := &exchange.MarketOrders{ID: b.m.id, Runners: []exchange.RunnerOrders{
		l.runnerOrders(b.m, b.s.SelectionID, b.s.Handicap, false, func(x *bet) bool { return x == b }, &v)}}
	l.changes = append(l.changes, exchange.OrderChange{Pt: pt, Parts: mo, Strategy: b.st.ref})
}

// runnerOrders is one runner's order change: the bets keep chooses (b's
// view v when given, else each bet as it stands), the runner's matched
// backs and lays over all bets (the overall position) and over each
// strategy's.
func (l *Ledger) runnerOrders(m *market, sel int64, hc float64, full bool, keep func(*bet) bool, v *view) exchange.RunnerOrders {
	ro := exchange.RunnerOrders{Selection: sel, Handicap: hc, Full: full}
	var backs, lays []engine.Fill
	for _, st := range m.strats {
		var sb, sl []engine.Fill
		for _, x := range st.bets {
			if x.s.SelectionID != sel || x.s.Handicap != hc || !x.placed || x.failed && !keep(x) {
				continue
			}
			for _, f := range x.s.Matched {
				if x.s.Side == engine.Back {
					backs, sb = addLevel(backs, f), addLevel(sb, f)
				} else {
					lays, sl = addLevel(lays, f), addLevel(sl, f)
				}
			}
			if !keep(x) {
				continue
			}
			w := v
			if w == nil {
				w = &view{sm: x.s.SizeMatched, avp: x.s.AvgPriceMatched, sc: x.s.SizeCancelled, sl: x.s.SizeLapsed,
					sv: x.s.SizeVoided, complete: x.s.Status == engine.ExecutionComplete}
			}
			ro.Orders = append(ro.Orders, exchange.Tagged{Strategy: st.ref, JSON: appendOrder(nil, x, w)})
		}
		if len(sb)+len(sl) > 0 {
			ro.Matched = append(ro.Matched, exchange.Tagged{Strategy: st.ref, JSON: append(appendPosition([]byte{'{'}, sb, sl), '}')})
		}
	}
	if len(backs)+len(lays) > 0 {
		ro.Overall = appendPosition(nil, backs, lays)
	}
	return ro
}

// appendPosition writes matched backs and lays as "mb" and "ml", each
// only when it has a level, joined by a comma.
func appendPosition(b []byte, backs, lays []engine.Fill) []byte {
	b = appendLevels(b, "mb", backs)
	if len(backs) > 0 && len(lays) > 0 {
		b = append(b, ',')
	}
	return appendLevels(b, "ml", lays)
}

// addLevel adds a fill's size to its price's level (levels by price).
func addLevel(levels []engine.Fill, f engine.Fill) []engine.Fill {
	i, found := slices.BinarySearchFunc(levels, f.Price, func(a engine.Fill, p float64) int {
		switch {
		case a.Price < p:
			return -1
		case a.Price > p:
			return 1
		}
		return 0
	})
	if found {
		levels[i].Size = engine.Round2(levels[i].Size + f.Size)
		return levels
	}
	return slices.Insert(levels, i, engine.Fill{Price: f.Price, Size: f.Size})
}

// appendLevels writes `"key":[[price,size],...]`, or nothing without a
// level.
func appendLevels(b []byte, key string, levels []engine.Fill) []byte {
	if len(levels) == 0 {
		return b
	}
	b = append(b, `"`...)
	b = append(b, key...)
	b = append(b, `":[`...)
	for i, lv := range levels {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendNum(b, lv.Price)
		b = append(b, ',')
		b = appendNum(b, lv.Size)
		b = append(b, ']')
	}
	return append(b, ']')
}

func appendNum(b []byte, v float64) []byte { return strconv.AppendFloat(b, v, 'f', -1, 64) }

// appendOrder writes one "uo" entry as Betfair's order stream does.
func appendOrder(b []byte, x *bet, v *view) []byte {
	s := &x.s
	field := func(k string, val float64) {
		b = append(b, `,"`...)
		b = append(b, k...)
		b = append(b, `":`...)
		b = appendNum(b, val)
	}
	b = append(b, `{"id":"`...)
	b = append(b, x.id...)
	b = append(b, '"')
	field("p", s.Price)
	field("s", s.Size)
	if s.Type != engine.Limit {
		field("bsp", s.Liability)
	}
	side := "B"
	if s.Side == engine.Lay {
		side = "L"
	}
	status := "E"
	if v.complete {
		status = "EC"
	}
	pers := map[engine.Persistence]string{engine.Lapse: "L", engine.Persist: "P", engine.PersistMarketOnClose: "MOC"}[s.Persistence]
	ot := map[engine.OrderType]string{engine.Limit: "L", engine.LimitOnClose: "LOC", engine.MarketOnClose: "MOC"}[s.Type]
	b = append(b, `,"side":"`+side+`","status":"`+status+`","pt":"`+pers+`","ot":"`+ot+`","pd":`...)
	b = strconv.AppendInt(b, x.placedAt, 10)
	if v.sm > 0 && x.matchedAt > 0 {
		b = append(b, `,"md":`...)
		b = strconv.AppendInt(b, x.matchedAt, 10)
	}
	if v.sc > 0 && x.cancelledAt > 0 {
		b = append(b, `,"cd":`...)
		b = strconv.AppendInt(b, x.cancelledAt, 10)
	}
	field("avp", v.avp)
	field("sm", v.sm)
	sr := 0.0
	if s.Type == engine.Limit && !v.complete {
		sr = engine.Round2(max(s.Size-v.sm-v.sc-v.sl-v.sv, 0))
	}
	field("sr", sr)
	field("sl", v.sl)
	field("sc", v.sc)
	field("sv", v.sv)
	b = append(b, `,"rac":"","rc":"REG_GGC","rfo":`...)
	b = strconv.AppendQuote(b, x.rfo)
	b = append(b, `,"rfs":`...)
	b = strconv.AppendQuote(b, x.st.ref)
	return append(b, '}')
}

// closeMarket tells the order stream the market has closed.
func (l *Ledger) closeMarket(m *market, pt int64) {
	oc := append([]byte(`{"id":"`), m.id...)
	oc = append(oc, `","closed":true}`...)
	l.changes = append(l.changes, exchange.OrderChange{Pt: pt, OC: oc})
}

// Orders implements exchange.Betting: the log's changes from index from.
// The log only grows and its entries never change, so the slice returned
// may be read without the lock.
func (l *Ledger) Orders(from int) []exchange.OrderChange {
	l.mu.Lock()
	defer l.mu.Unlock()
	if from >= len(l.changes) || from < 0 {
		return nil
	}
	return l.changes[from:len(l.changes):len(l.changes)]
}

// OrderImage implements exchange.Betting: every bet of every market not
// closed, one full image per market, as of the log's end.
func (l *Ledger) OrderImage() ([]exchange.OrderChange, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []exchange.OrderChange
	seen := map[string]bool{}
	for _, b := range l.order {
		m := b.m
		if seen[m.id] || m.closed {
			continue
		}
		seen[m.id] = true
		mo := &exchange.MarketOrders{ID: m.id, Full: true}
		type rk struct {
			sel int64
			hc  float64
		}
		var runners []rk
		for _, x := range l.order {
			if x.m == m && x.placed && !x.failed && !slices.Contains(runners, rk{x.s.SelectionID, x.s.Handicap}) {
				runners = append(runners, rk{x.s.SelectionID, x.s.Handicap})
			}
		}
		for _, r := range runners {
			mo.Runners = append(mo.Runners, l.runnerOrders(m, r.sel, r.hc, true, func(x *bet) bool { return !x.failed }, nil))
		}
		out = append(out, exchange.OrderChange{Pt: m.now, Parts: mo})
	}
	return out, len(l.changes)
}

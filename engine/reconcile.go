package engine

import (
	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// This file is what the live driver does after an order-stream image that
// was not a clk resume (the first one, or one after a reconnection the
// exchange refused to resume): the changes made while the stream was down
// are in no delta, so every live order the image does not show is looked
// up with listCurrentOrders (by bet id, or by customerOrderRef while its
// bet id is unknown). Until the answer is applied, the market's new
// exposure waits: placements and replaces stay queued in its executor and
// go at the first flush after it, cancels and updates go at once. Waiting
// rather than refusing: the lookup is one round trip, and the strategy's
// orders are not turned into violations by a reconnection.

// imageSeen collects the orders an order-stream image shows, over its
// segments when it is segmented.
type imageSeen struct {
	on     bool
	refs   map[string]bool // bet ids and customerOrderRefs
	orders int
}

// observe notes what an order-stream message m shows if it is part of a
// fresh image, and when the image is whole asks each of d's loops to look
// up its live orders the image did not show. Called after d has applied m.
func (img *imageSeen) observe(d *streamDriver, m *esa.Message) {
	if m.Op != esa.OpOCM || m.Ct != esa.ChangeTypeSubImage && !img.on {
		return
	}
	if m.Ct == esa.ChangeTypeSubImage && (m.SegmentType == esa.SegmentNone || m.SegmentType == esa.SegmentStart) {
		*img = imageSeen{on: true, refs: map[string]bool{}}
	}
	for i := range m.OC {
		for j := range m.OC[i].ORC {
			for _, uo := range m.OC[i].ORC[j].UO {
				img.orders++
				img.refs[uo.ID] = true
				if uo.CustomerOrderRef != "" {
					img.refs[uo.CustomerOrderRef] = true
				}
			}
		}
	}
	if m.SegmentType == esa.SegmentNone || m.SegmentType == esa.SegmentEnd {
		missing := 0
		for _, u := range d.list {
			missing += u.lookupMissing(img.refs)
		}
		d.bet.journalNote("", "fresh order image", map[string]int{"orders_shown": img.orders, "live_orders_missing": missing})
		*img = imageSeen{}
	}
}

// lookupMissing starts the lookup of each market's live orders that seen
// does not hold, and returns how many it looks up.
func (u *unit) lookupMissing(seen map[string]bool) (n int) {
	for _, sts := range u.list {
		for _, st := range sts {
			x, ok := st.x.(*bettingExecutor)
			if !ok || st.closed {
				continue
			}
			var bets, refs []string
			for _, o := range st.live {
				switch {
				case seen[o.s.BetID] || seen[o.s.CustomerRef]:
				case o.s.BetID != "":
					bets = append(bets, o.s.BetID)
				case o.s.Status != Pending:
					// Unknown: sent, no answer; a pending placement is
					// either queued here or will be answered.
					refs = append(refs, o.s.CustomerRef)
				}
			}
			if len(bets)+len(refs) > 0 {
				x.lookup(bets, refs)
				n += len(bets) + len(refs)
			}
		}
	}
	return n
}

// lookup asks listCurrentOrders for the market's orders with bet ids
// bets and customerOrderRefs refs (Betfair intersects the two filters, so
// one request each), and holds new exposure until the answer is applied.
func (x *bettingExecutor) lookup(bets, refs []string) {
	x.holds++
	x.cfg.journalNote(x.st.id, "fresh order image: lookup", map[string][]string{"bet_ids": bets, "customer_order_refs": refs})
	market := x.st.id
	if x.cfg.InFlight != nil {
		x.cfg.InFlight.Add(1)
	}
	ctx := x.cfg.Ctx
	x.cfg.requests().run(func() {
		if x.cfg.InFlight != nil {
			defer x.cfg.InFlight.Done()
		}
		a := answer{kind: lookupRequest}
		for _, f := range []betting.CurrentOrdersFilter{{BetIDs: bets}, {CustomerOrderRefs: refs}} {
			if len(f.BetIDs)+len(f.CustomerOrderRefs) == 0 {
				continue
			}
			f.MarketIDs, f.OrderProjection = []string{market}, "ALL"
			rows, err := x.cfg.Client.ListCurrentOrders(ctx, f)
			if err != nil {
				a.err = err
				break
			}
			a.current = append(a.current, rows...)
		}
		x.hand(a)
	})
}

// lookupRequest is the kind of a lookup's answer (not an order request).
const lookupRequest RequestKind = 255

// looked applies a lookup's answer: each row is the exchange's view of the
// order with its bet id (or customerOrderRef), as an order-stream change
// would be. The held exposure is released even when the lookup failed:
// the order stream is up again and brings every later change.
func (x *bettingExecutor) looked(a answer, now int64, report func(Report)) {
	x.holds--
	if a.err != nil && x.cfg.Log != nil {
		x.cfg.Log.Warn("live: looking up orders missing from a fresh order image", "market", x.st.id, "err", a.err)
	}
	for _, c := range a.current {
		for _, o := range x.st.orders {
			if o.s.BetID != "" && o.s.BetID == c.BetID || o.s.BetID == "" && c.CustomerOrderRef != "" && o.s.CustomerRef == c.CustomerOrderRef {
				report(Report{Kind: Changed, Order: o, At: now, BetID: c.BetID, SizeMatched: c.SizeMatched, AvgPriceMatched: c.AveragePriceMatched,
					SizeCancelled: c.SizeCancelled, SizeLapsed: c.SizeLapsed, SizeVoided: c.SizeVoided, Complete: c.Status == "EXECUTION_COMPLETE"})
				break
			}
		}
	}
}

// holding reports whether r adds exposure while a lookup is pending, and
// so waits.
func (x *bettingExecutor) holding(r Request) bool {
	return x.holds > 0 && (r.Kind == PlaceRequest || r.Kind == ReplaceRequest)
}

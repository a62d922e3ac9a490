package engine

import "github.com/tapedeck/tapedeck/engine/esa"

// orderMessage applies one order-stream message (ocm) to the loop's
// orders: each order in it ("uo") becomes a Changed report, the exchange's
// cumulative view, for the order of the strategy its customerStrategyRef
// names, found by bet id or, before its bet id is known, by
// customerOrderRef. It returns the orders no strategy of the loop
// recognises (left by an earlier run, or placed by another program), for
// the driver to adopt or ignore.
func (u *unit) orderMessage(msg *esa.Message) (unknown []esa.Order) {
	if msg.Op != esa.OpOCM {
		return nil
	}
	if msg.Pt > u.now {
		u.now = msg.Pt
	}
	for i := range msg.OC {
		oc := &msg.OC[i]
		sts := u.markets[string(oc.ID)]
		for j := range oc.ORC {
			for _, uo := range oc.ORC[j].UO {
				st, o := findOrder(sts, &uo)
				if o == nil {
					unknown = append(unknown, uo)
					continue
				}
				st.report(Report{Kind: Changed, Order: o, At: msg.Pt, BetID: uo.ID,
					SizeMatched: uo.SizeMatched, AvgPriceMatched: uo.AvgPriceMatched,
					SizeCancelled: uo.SizeCancelled, SizeLapsed: uo.SizeLapsed, SizeVoided: uo.SizeVoided,
					Complete: uo.Status == "EC"})
			}
		}
	}
	return unknown
}

// findOrder returns the market state and order an order-stream entry is
// about: the strategy whose customerStrategyRef it carries, then the order
// with its bet id or, lacking one, its customerOrderRef.
func findOrder(sts []*marketState, uo *esa.Order) (*marketState, *Order) {
	for _, st := range sts {
		if st.sl.ref != uo.CustomerStrategyRef {
			continue
		}
		for _, o := range st.orders {
			if o.s.BetID == uo.ID || o.s.BetID == "" && uo.CustomerOrderRef != "" && o.s.CustomerRef == uo.CustomerOrderRef {
				return st, o
			}
		}
	}
	return nil, nil
}

package engine

import (
	"reflect"
	"testing"
)

// TestOrderLife runs report sequences through the loop's rules and checks
// the order they leave.
func TestOrderLife(t *testing.T) {
	chg := func(bet string, sm, avp float64, complete bool) Report {
		return Report{Kind: Changed, BetID: bet, SizeMatched: sm, AvgPriceMatched: avp, Complete: complete, At: 7}
	}
	for _, tc := range []struct {
		name    string
		reports []Report
		status  Status
		betID   string
		matched []Fill
		sm, avp float64
		live    int // the runner's live trade count afterwards
		// ask, when set, is the status the strategy's request (cancel,
		// update, replace) gives the order after the report of that index.
		ask map[int]Status
	}{
		{name: "placed then filled by the stream",
			reports: []Report{{Kind: Placed, BetID: "b1"}, chg("b1", 1, 2, false), chg("b1", 2, 2, true)},
			status:  ExecutionComplete, betID: "b1", matched: []Fill{{7, 2, 1}, {7, 2, 1}}, sm: 2, avp: 2},
		{name: "stream before the HTTP reply: the late reply moves nothing back",
			reports: []Report{chg("b1", 2, 3, true), {Kind: Placed, BetID: "b1"}},
			status:  ExecutionComplete, betID: "b1", matched: []Fill{{7, 3, 2}}, sm: 2, avp: 3},
		{name: "stream before the HTTP reply, order still resting",
			reports: []Report{chg("b1", 0.5, 3, false), {Kind: Placed, BetID: "b1"}},
			status:  Executable, betID: "b1", matched: []Fill{{7, 3, 0.5}}, sm: 0.5, avp: 3, live: 1},
		{name: "a repeated view is no second fill, a stale one no negative fill",
			reports: []Report{{Kind: Placed, BetID: "b1"}, chg("b1", 1, 2, false), chg("b1", 1, 2, false), chg("b1", 0.5, 2, false), chg("b1", 3, 2.5, false)},
			status:  Executable, betID: "b1", matched: []Fill{{7, 2, 1}, {7, 2.75, 2}}, sm: 3, avp: 2.5, live: 1},
		{name: "no answer: unknown, then resolved by the stream",
			reports: []Report{{Kind: NoAnswer, Request: PlaceRequest}, chg("b9", 0, 0, false)},
			status:  Executable, betID: "b9", live: 1},
		{name: "no answer, never placed: stays unknown and live",
			reports: []Report{{Kind: NoAnswer, Request: PlaceRequest}},
			status:  Unknown, live: 1},
		{name: "another bet's change is not this order's",
			reports: []Report{{Kind: Placed, BetID: "b1"}, chg("b2", 2, 2, true)},
			status:  Executable, betID: "b1", live: 1},
		{name: "a finished order never goes back to live",
			reports: []Report{{Kind: Placed, BetID: "b1"}, chg("b1", 0, 0, true), chg("b1", 0, 0, false), {Kind: CancelFailed}, {Kind: NoAnswer}, {Kind: Updated}},
			status:  ExecutionComplete, betID: "b1"},
		{name: "fills after completion still count, status stays",
			reports: []Report{{Kind: Placed, BetID: "b1"}, chg("b1", 0, 0, true), chg("b1", 1, 4, false)},
			status:  ExecutionComplete, betID: "b1", matched: []Fill{{7, 4, 1}}, sm: 1, avp: 4},
		{name: "stream before the reply, cancel asked: the late reply keeps CANCELLING",
			reports: []Report{chg("b1", 0.5, 3, false), {Kind: Placed, BetID: "b1"}}, ask: map[int]Status{0: Cancelling},
			status: Cancelling, betID: "b1", matched: []Fill{{7, 3, 0.5}}, sm: 0.5, avp: 3, live: 1},
		{name: "stream before the reply, update asked: the late reply keeps UPDATING",
			reports: []Report{chg("b1", 0, 0, false), {Kind: Placed, BetID: "b1"}}, ask: map[int]Status{0: Updating},
			status: Updating, betID: "b1", live: 1},
		{name: "stream before the reply, replace asked: the late reply keeps REPLACING",
			reports: []Report{chg("b1", 0, 0, false), {Kind: Placed, BetID: "b1"}}, ask: map[int]Status{0: Replacing},
			status: Replacing, betID: "b1", live: 1},
		{name: "unknown, cancel asked after the stream resolved it, late reply",
			reports: []Report{{Kind: NoAnswer, Request: PlaceRequest}, chg("b1", 0, 0, false), {Kind: Placed, BetID: "b1"}}, ask: map[int]Status{1: Cancelling},
			status: Cancelling, betID: "b1", live: 1},
		{name: "a failure reported after the stream showed the bet is stale",
			reports: []Report{chg("b1", 0, 0, false), {Kind: PlaceFailed, ErrorCode: "ERROR_IN_ORDER"}},
			status:  Executable, betID: "b1", live: 1},
		{name: "average price corrected at the same size: taken, the last fill repriced",
			reports: []Report{{Kind: Placed, BetID: "b1"}, chg("b1", 1, 2, false), chg("b1", 2, 3, false), chg("b1", 2, 2.5, false)},
			status:  Executable, betID: "b1", matched: []Fill{{7, 2, 1}, {7, 3, 1}}, sm: 2, avp: 2.5, live: 1},
		{name: "average price corrected on a single fill",
			reports: []Report{{Kind: Placed, BetID: "b1"}, chg("b1", 1, 2, false), chg("b1", 1, 2.02, true)},
			status:  ExecutionComplete, betID: "b1", matched: []Fill{{7, 2.02, 1}}, sm: 1, avp: 2.02},
		{name: "failed placement",
			reports: []Report{{Kind: PlaceFailed, ErrorCode: "INVALID_ODDS"}, {Kind: Placed, BetID: "late"}},
			status:  ExecutionComplete, betID: "late"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := &unit{now: 1000}
			st := &marketState{id: "1.1"}
			o := &Order{s: OrderState{MarketID: "1.1", SelectionID: 5, Type: Limit, Side: Back, Price: 2, Size: 2, Status: Pending}, holdsLive: true}
			st.add(o)
			st.ctx(5, 0).live = 1
			for i, r := range tc.reports {
				r.Order = o
				u.apply(st, r)
				if s, ok := tc.ask[i]; ok {
					o.s.Status = s
				}
			}
			if o.Status() != tc.status || o.BetID() != tc.betID || o.SizeMatched() != tc.sm || o.AvgPriceMatched() != tc.avp {
				t.Errorf("%s bet %q matched %g@%g, want %s %q %g@%g", o.Status(), o.BetID(), o.SizeMatched(), o.AvgPriceMatched(), tc.status, tc.betID, tc.sm, tc.avp)
			}
			if !reflect.DeepEqual(o.Matched(), tc.matched) && len(o.Matched())+len(tc.matched) > 0 {
				t.Errorf("fills %v, want %v", o.Matched(), tc.matched)
			}
			if got := st.ctx(5, 0).live; got != tc.live {
				t.Errorf("live trade count %d, want %d", got, tc.live)
			}
			if o.Status().Live() != (tc.live == 1) {
				t.Errorf("%s: Live() %v", o.Status(), o.Status().Live())
			}
		})
	}
}

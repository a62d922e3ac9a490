package exchange

import (
	"slices"
	"strconv"
)

// OrderFilter is what of the order stream a subscription asked for
// (Betfair's orderFilter).
type OrderFilter struct {
	// Strategies are the customerStrategyRefs whose orders (and strategy
	// positions) are sent; none: every order.
	Strategies []string
	// NoOverall drops the account's overall position (mb, ml):
	// includeOverallPosition false. The overall position is never
	// filtered by strategy, as on Betfair.
	NoOverall bool
	// ByStrategy adds each strategy's matched position (smc):
	// partitionMatchedByStrategyRef.
	ByStrategy bool
}

// wants reports whether the filter lets a strategy's orders through.
func (f *OrderFilter) wants(strategy string) bool {
	return len(f.Strategies) == 0 || slices.Contains(f.Strategies, strategy)
}

// MarketOrders is an order market change ("oc" element) in parts, so that
// each subscription gets it as its filter asks.
type MarketOrders struct {
	ID string
	// Full marks the market's full image (fullImage at market level).
	Full    bool
	Runners []RunnerOrders
}

// RunnerOrders is one runner's order change ("orc" element) in parts.
type RunnerOrders struct {
	Selection int64
	Handicap  float64
	// Full marks the runner's full image.
	Full bool
	// Orders are the "uo" entries, each with its customerStrategyRef.
	Orders []Tagged
	// Overall is the account's matched position as `"mb":[...]` and/or
	// `"ml":[...]` joined by a comma (empty when nothing matched).
	Overall []byte
	// Matched is each strategy's position, an object with "mb" and/or
	// "ml", for "smc".
	Matched []Tagged
}

// Tagged is a piece of JSON that belongs to one customerStrategyRef.
type Tagged struct {
	Strategy string
	JSON     []byte
}

// Append appends the change as f asks for it: uo entries and smc of the
// strategies it wants, the overall position unless it is dropped.
func (m *MarketOrders) Append(b []byte, f *OrderFilter) []byte {
	if m.Full {
		b = append(b, `{"fullImage":true,"id":"`...)
	} else {
		b = append(b, `{"id":"`...)
	}
	b = append(b, m.ID...)
	b = append(b, `","orc":[`...)
	n := 0
	for i := range m.Runners {
		r := &m.Runners[i]
		orders, matched := 0, 0
		for _, o := range r.Orders {
			if f.wants(o.Strategy) {
				orders++
			}
		}
		if f.ByStrategy {
			for _, s := range r.Matched {
				if f.wants(s.Strategy) {
					matched++
				}
			}
		}
		overall := !f.NoOverall && len(r.Overall) > 0
		if orders == 0 && matched == 0 && !overall && len(f.Strategies) > 0 {
			continue // nothing of this runner is the subscriber's
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = r.append(b, f, overall, matched > 0)
	}
	return append(b, "]}"...)
}

func (r *RunnerOrders) append(b []byte, f *OrderFilter, overall, matched bool) []byte {
	b = append(b, '{')
	if r.Full {
		b = append(b, `"fullImage":true,`...)
	}
	b = append(b, `"id":`...)
	b = strconv.AppendInt(b, r.Selection, 10)
	if r.Handicap != 0 {
		b = append(b, `,"hc":`...)
		b = strconv.AppendFloat(b, r.Handicap, 'f', -1, 64)
	}
	b = append(b, `,"uo":[`...)
	b = appendWanted(b, r.Orders, f, false)
	b = append(b, ']')
	if overall {
		b = append(b, ',')
		b = append(b, r.Overall...)
	}
	if matched {
		b = append(b, `,"smc":{`...)
		b = appendWanted(b, r.Matched, f, true)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendWanted appends the pieces f wants, comma-separated; keyed, each
// as a member named by its strategy.
func appendWanted(b []byte, pieces []Tagged, f *OrderFilter, keyed bool) []byte {
	k := 0
	for _, p := range pieces {
		if !f.wants(p.Strategy) {
			continue
		}
		if k > 0 {
			b = append(b, ',')
		}
		k++
		if keyed {
			b = strconv.AppendQuote(b, p.Strategy)
			b = append(b, ':')
		}
		b = append(b, p.JSON...)
	}
	return b
}

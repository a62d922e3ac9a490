package book

import "github.com/tapedeck/tapedeck/engine/esa"

// OrderCache holds the account's orders and matches per market, rebuilt from
// an order stream (ocm lines). It is not safe for concurrent use.
//
// Rules, from the Exchange Stream API specification ("Building an order
// cache") and betfairlightweight's OrderBookCache: a market-level fullImage
// (or an unseen market) replaces the market, so an empty full image means no
// position; a runner-level fullImage (or an unseen runner) replaces the
// runner; orders are replaced by bet id; matched backs and lays are merged by
// price, size 0 deleting a price; "closed" is kept.
type OrderCache struct {
	byID    map[string]*OrderMarket
	list    []*OrderMarket
	changed []*OrderMarket
}

// NewOrderCache returns an empty cache.
func NewOrderCache() *OrderCache {
	return &OrderCache{byID: make(map[string]*OrderMarket)}
}

// Apply applies one stream line. For an ocm line it returns the order
// markets it changed, in the order of its "oc" entries; other ops and
// heartbeats change nothing. The returned slice is reused by the next call.
func (c *OrderCache) Apply(msg *esa.Message) []*OrderMarket {
	c.changed = c.changed[:0]
	if msg.Op != esa.OpOCM || msg.Ct == esa.ChangeTypeHeartbeat {
		return c.changed
	}
	for i := range msg.OC {
		oc := &msg.OC[i]
		m := c.byID[string(oc.ID)]
		switch {
		case m == nil:
			m = &OrderMarket{ID: string(oc.ID)}
			c.byID[m.ID] = m
			c.list = append(c.list, m)
		case oc.FullImage:
			m.Runners = m.Runners[:0]
			m.Closed = false
		}
		m.apply(oc, msg.Pt)
		c.changed = append(c.changed, m)
	}
	return c.changed
}

// Market returns the order market with the given market id, or nil.
func (c *OrderCache) Market(id string) *OrderMarket { return c.byID[id] }

// Markets returns every order market in the order first seen. The slice is
// the cache's own: do not modify it.
func (c *OrderCache) Markets() []*OrderMarket { return c.list }

// OrderMarket is the account's position on one market.
type OrderMarket struct {
	// ID is the market id.
	ID string
	// PublishTime is the pt of the last line that changed it.
	PublishTime int64
	// AccountID is the account the orders belong to, when sent.
	AccountID int64
	// Closed is set once Betfair says the market is closed.
	Closed bool
	// Runners are the runners with orders, in the order first seen.
	Runners []*OrderRunner

	change []byte
}

// LastChange returns the last order market change applied, as received.
// It is owned by the market and overwritten by the next change.
func (m *OrderMarket) LastChange() []byte { return m.change }

// Runner returns the runner with the given selection id and handicap, or nil.
func (m *OrderMarket) Runner(id int64, hc float64) *OrderRunner {
	for _, r := range m.Runners {
		if r.SelectionID == id && r.Handicap == hc {
			return r
		}
	}
	return nil
}

// Order returns the order with the given bet id on any runner, or nil.
func (m *OrderMarket) Order(betID string) *esa.Order {
	for _, r := range m.Runners {
		if o := r.Order(betID); o != nil {
			return o
		}
	}
	return nil
}

func (m *OrderMarket) apply(oc *esa.OrderMarketChange, pt int64) {
	m.PublishTime = pt
	m.change = append(m.change[:0], oc.Raw...)
	if oc.AccountID != 0 {
		m.AccountID = oc.AccountID
	}
	if oc.Closed {
		m.Closed = true
	}
	for i := range oc.ORC {
		orc := &oc.ORC[i]
		idx := -1
		for j, r := range m.Runners {
			if r.SelectionID == orc.ID && r.Handicap == orc.Hc {
				idx = j
				break
			}
		}
		if idx < 0 || orc.FullImage {
			r := newOrderRunner(orc)
			if idx < 0 {
				m.Runners = append(m.Runners, r)
			} else {
				m.Runners[idx] = r // keeps the runner's place, as a dict does
			}
			continue
		}
		m.Runners[idx].merge(orc)
	}
}

// OrderRunner is the account's orders and matches on one runner.
type OrderRunner struct {
	// SelectionID and Handicap identify the runner.
	SelectionID int64
	Handicap    float64
	// Orders are the runner's orders by bet id, in the order first seen;
	// an order update replaces the whole order. Completed orders (status
	// EC) stay.
	Orders []esa.Order
	// MatchedBacks and MatchedLays are matched amounts by price, ascending.
	MatchedBacks, MatchedLays PriceLadder
	// StrategyMatches are the matches per customer strategy reference
	// (smc), merged like MatchedBacks and MatchedLays.
	StrategyMatches []StrategyMatches
}

// StrategyMatches are the matched amounts of one customer strategy.
type StrategyMatches struct {
	// Ref is the customer strategy reference.
	Ref                       string
	MatchedBacks, MatchedLays PriceLadder
}

func newOrderRunner(orc *esa.OrderRunnerChange) *OrderRunner {
	r := &OrderRunner{SelectionID: orc.ID, Handicap: orc.Hc}
	r.merge(orc)
	return r
}

// Order returns the order with the given bet id, or nil.
func (r *OrderRunner) Order(betID string) *esa.Order {
	for i := range r.Orders {
		if r.Orders[i].ID == betID {
			return &r.Orders[i]
		}
	}
	return nil
}

// merge applies a delta: orders replaced by id, matches merged by price.
func (r *OrderRunner) merge(orc *esa.OrderRunnerChange) {
	for _, o := range orc.UO {
		if p := r.Order(o.ID); p != nil {
			*p = o
		} else {
			r.Orders = append(r.Orders, o)
		}
	}
	mergeMatches(&r.MatchedBacks, orc.MB, orc.HasMB)
	mergeMatches(&r.MatchedLays, orc.ML, orc.HasML)
	for _, smc := range orc.SMC {
		var s *StrategyMatches
		for i := range r.StrategyMatches {
			if r.StrategyMatches[i].Ref == smc.Ref {
				s = &r.StrategyMatches[i]
				break
			}
		}
		if s == nil {
			r.StrategyMatches = append(r.StrategyMatches, StrategyMatches{Ref: smc.Ref})
			s = &r.StrategyMatches[len(r.StrategyMatches)-1]
		}
		mergeMatches(&s.MatchedBacks, smc.MB, smc.HasMB)
		mergeMatches(&s.MatchedLays, smc.ML, smc.HasML)
	}
}

// mergeMatches merges a matches delta. The specification says an empty
// list means the ladder is now empty (bflw ignores an empty list instead).
func mergeMatches(l *PriceLadder, delta []esa.PriceSize, present bool) {
	if !present {
		return
	}
	if len(delta) == 0 {
		l.Reset()
		return
	}
	l.Apply(delta)
}

package engine

import (
	"encoding/json"
	"time"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/journal"
)

// This file writes a live run's journal (BettingConfig.Journal): every
// Betting API request before it is sent, every answer as it comes, and
// every change of an order's state the loop makes. Requests and answers
// are written by the request's own worker, so a request is on disk before
// the exchange can act on it; order changes are handed to one writer
// goroutine, in order, so the loop never waits for the disk between a
// market change and the orders it causes.
//
// Only request parameters and answers are journaled, never the HTTP
// headers that carry the session token and application key.

// orderMark is what of an order, when it changes, makes a journal entry.
type orderMark struct {
	status                                  Status
	betID                                   string
	matched, avp, cancelled, lapsed, voided float64
}

func markOf(o *Order) orderMark {
	s := &o.s
	return orderMark{s.Status, s.BetID, s.SizeMatched, s.AvgPriceMatched, s.SizeCancelled, s.SizeLapsed, s.SizeVoided}
}

// orderEntry is an order entry's data.
type orderEntry struct {
	SelectionID     int64   `json:"selection_id"`
	Side            string  `json:"side"`
	Type            string  `json:"order_type"`
	Price           float64 `json:"price,omitempty"`
	Size            float64 `json:"size,omitempty"`
	Liability       float64 `json:"liability,omitempty"`
	SizeMatched     float64 `json:"size_matched"`
	AvgPriceMatched float64 `json:"avg_price_matched,omitempty"`
	SizeCancelled   float64 `json:"size_cancelled,omitempty"`
	SizeLapsed      float64 `json:"size_lapsed,omitempty"`
	SizeVoided      float64 `json:"size_voided,omitempty"`
	ErrorCode       string  `json:"error_code,omitempty"`
	Violation       string  `json:"violation,omitempty"`
}

// journalOrder records o's state if it differs from was (every state
// when was is nil). Called on the loop's goroutine.
func (c *BettingConfig) journalOrder(o *Order, was *orderMark) {
	if c == nil || c.Journal == nil || o == nil || was != nil && *was == markOf(o) {
		return
	}
	s := &o.s
	data, _ := json.Marshal(orderEntry{SelectionID: s.SelectionID, Side: s.Side.String(), Type: s.Type.String(), Price: s.Price, Size: s.Size,
		Liability: s.Liability, SizeMatched: s.SizeMatched, AvgPriceMatched: s.AvgPriceMatched, SizeCancelled: s.SizeCancelled,
		SizeLapsed: s.SizeLapsed, SizeVoided: s.SizeVoided, ErrorCode: s.ErrorCode, Violation: s.Violation})
	e := journal.Entry{Time: time.Now().UTC(), Kind: "order", Strategy: s.Strategy, MarketID: s.MarketID, OrderRef: s.CustomerRef,
		BetID: s.BetID, Status: s.Status.String(), Data: data}
	if c.journalQ != nil {
		c.journalQ <- e
		return
	}
	c.writeJournal(e)
}

// journalRequest records a request about to be sent.
func (c *BettingConfig) journalRequest(method, market, customerRef string, params any) {
	if c.Journal == nil {
		return
	}
	data, _ := json.Marshal(params)
	c.writeJournal(journal.Entry{Kind: "request", MarketID: market, Method: method, CustomerRef: customerRef, Data: data})
}

// journalAnswer records a request's answer (a report, or the error that
// took its place).
func (c *BettingConfig) journalAnswer(method, market, customerRef string, a *answer) {
	if c.Journal == nil {
		return
	}
	e := journal.Entry{Kind: "response", MarketID: market, Method: method, CustomerRef: customerRef, Status: "SUCCESS"}
	var rep any
	switch {
	case a.place != nil:
		rep, e.Status = a.place, a.place.Status
	case a.cancel != nil:
		rep, e.Status = a.cancel, a.cancel.Status
	case a.update != nil:
		rep, e.Status = a.update, a.update.Status
	case a.repl != nil:
		rep, e.Status = a.repl, a.repl.Status
	}
	if rep != nil {
		e.Data, _ = json.Marshal(rep)
	}
	if a.err != nil {
		e.Status, e.Error = betting.ErrorCode(a.err), a.err.Error()
	}
	c.writeJournal(e)
}

// journalNote records something the engine did that is neither a request
// nor an order change (a lookup after a fresh order-stream image, a
// settlement check).
func (c *BettingConfig) journalNote(market, what string, data any) {
	if c == nil || c.Journal == nil {
		return
	}
	e := journal.Entry{Kind: "note", MarketID: market, Status: what}
	if data != nil {
		e.Data, _ = json.Marshal(data)
	}
	c.writeJournal(e)
}

func (c *BettingConfig) writeJournal(e journal.Entry) {
	if err := c.Journal.Write(e); err != nil && c.Log != nil {
		// The exchange still holds the truth; the run goes on, loudly.
		c.Log.Error("live: journal", "err", err)
	}
}

// startJournal starts the goroutine that writes order changes; the
// returned function waits until every change handed to it is written.
func (c *BettingConfig) startJournal() (stop func()) {
	if c.Journal == nil {
		return func() {}
	}
	q, done := make(chan journal.Entry, 4096), make(chan struct{})
	c.journalQ = q
	go func() {
		defer close(done)
		for e := range q {
			c.writeJournal(e)
		}
	}()
	return func() {
		c.journalQ = nil
		close(q)
		<-done
	}
}

// completeNoted is complete for the loop's housekeeping, which completes
// orders outside apply: the change is journaled too.
func (u *unit) completeNoted(st *marketState, o *Order) {
	was := markOf(o)
	u.complete(st, o)
	u.bet.journalOrder(o, &was)
}

package engine

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/journal"
)

// This file writes a live run's journal (BettingConfig.Journal): every
// Betting API request as it is sent, every answer as it comes, and every
// change of an order's state the loop makes. In a live run all of them go
// to one writer goroutine, in the order they were made, which writes what
// has gathered while it waited for the disk with one fsync (a group
// commit): neither the loop nor a request ever waits for the disk, which
// would add a millisecond or so (an fsync here) to each order's time to
// the wire. The exchange, not the journal, is what a restart reconciles
// with, so a request need not be on disk before it is sent; a crash can
// lose at most the entries of the last few milliseconds.
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
	c.writeJournal(journal.Entry{Kind: "order", Strategy: s.Strategy, MarketID: s.MarketID, OrderRef: s.CustomerRef,
		BetID: s.BetID, Status: s.Status.String(), Data: data})
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

// writeJournal hands e (its time now) to the writer, or writes it when
// none runs (any more).
func (c *BettingConfig) writeJournal(e journal.Entry) {
	e.Time = time.Now().UTC()
	if w := c.journalW; w != nil {
		w.mu.RLock()
		if !w.closed {
			w.q <- e
			w.mu.RUnlock()
			return
		}
		w.mu.RUnlock()
	}
	c.journalWritten(c.Journal.Write(e))
}

func (c *BettingConfig) journalWritten(err error) {
	if err != nil && c.Log != nil {
		// The exchange still holds the truth; the run goes on, loudly.
		c.Log.Error("live: journal", "err", err)
	}
}

// journalWriter is the goroutine that writes a live run's journal.
type journalWriter struct {
	mu     sync.RWMutex // held to hand an entry over; closed under it
	closed bool
	q      chan journal.Entry
}

// startJournal starts the writer goroutine; the returned function waits
// until every entry handed to it is written. Entries made after (a request
// still answering when a run ends on an error) are written directly.
func (c *BettingConfig) startJournal() (stop func()) {
	if c.Journal == nil {
		return func() {}
	}
	w, done := &journalWriter{q: make(chan journal.Entry, 4096)}, make(chan struct{})
	c.journalW = w
	go func() {
		defer close(done)
		var batch []journal.Entry
		for e := range w.q {
			batch = append(batch[:0], e)
		more:
			for len(batch) < cap(w.q) {
				select {
				case e, ok := <-w.q:
					if !ok {
						break more
					}
					batch = append(batch, e)
				default:
					break more
				}
			}
			c.journalWritten(c.Journal.WriteAll(batch))
		}
	}()
	return func() {
		w.mu.Lock()
		w.closed = true
		close(w.q)
		w.mu.Unlock()
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

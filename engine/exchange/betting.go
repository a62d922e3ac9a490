package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Betting takes bets for the exchange (`trade serve --betting`): the order
// methods of the Betting and Account APIs, matching against the replay,
// and the order stream. It is an interface so that this package stays
// below engine (engine's own tests run this exchange);
// engine/exchange/ledger is the implementation, matching with engine/sim.
// Its methods are called from many goroutines.
type Betting interface {
	// Call answers one API method ("placeOrders", "getAccountFunds", ...)
	// with its JSON parameters: the result to encode, or an *APIError. An
	// order request calls queued once it is in the ledger (with the
	// current change's clock) and may then wait, until the replay reaches
	// the change it takes effect at or ctx ends.
	Call(ctx context.Context, method string, params json.RawMessage, queued func()) (any, error)
	// Change is each replayed market change in replay order, exactly once,
	// before any client is sent it: pt and the mc element as recorded.
	Change(pt int64, mc []byte) error
	// Orders returns the order-stream changes from index from on (each an
	// oc element): the log an order subscription's clock points into.
	Orders(from int) []OrderChange
	// OrderImage returns a full image of every order (one oc element per
	// market) and the log position it stands for.
	OrderImage() (oc []OrderChange, end int)
}

// OrderChange is one order market change ("oc" element) of the order
// stream, with its publish time: recorded in an ORDER tape, or made by the
// ledger. Strategy is the customerStrategyRef its orders carry ("" when
// unknown), for an orderFilter's customerStrategyRefs.
type OrderChange struct {
	Pt       int64
	OC       []byte
	Strategy string
	// Parts, when set (the ledger's changes), is the change in parts,
	// which each subscription gets as its orderFilter asks; OC is then
	// unused.
	Parts *MarketOrders
}

// Append appends the change as filter f asks for it (a recorded change
// as it was recorded).
func (ch *OrderChange) Append(b []byte, f *OrderFilter) []byte {
	if ch.Parts == nil {
		return append(b, ch.OC...)
	}
	return ch.Parts.Append(b, f)
}

// APIError is a Betting or Account API exception (APINGException,
// AccountAPINGException): the call was refused before the matcher.
type APIError struct {
	Code    string
	Details string
}

func (e *APIError) Error() string { return "exchange: " + e.Code + ": " + e.Details }

// orderMethods change orders: each counts once (by its customerRef) toward
// the requests a lockstep client says it has sent.
var orderMethods = map[string]bool{"placeOrders": true, "cancelOrders": true, "replaceOrders": true, "updateOrders": true}

// accountMethods are the Account API's methods this exchange answers.
var accountMethods = map[string]bool{"getAccountFunds": true, "getAccountDetails": true}

// received counts the distinct order requests the betting API has queued,
// so that a lockstep client's heartbeat can say how many it has sent.
type received struct {
	mu   sync.Mutex
	n    int64
	refs map[string]bool
	wake chan struct{}
}

func (r *received) add(customerRef string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if customerRef != "" {
		if r.refs == nil {
			r.refs = map[string]bool{}
		}
		if r.refs[customerRef] {
			return // a retry with the same reference is the same request
		}
		r.refs[customerRef] = true
	}
	r.n++
	if r.wake != nil {
		close(r.wake)
		r.wake = nil
	}
}

// raise sets the count to n when n is higher (for the order stream sent).
func (r *received) raise(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n > r.n {
		r.n = n
		if r.wake != nil {
			close(r.wake)
			r.wake = nil
		}
	}
}

// wait returns once n requests have been received, or ctx ends.
func (r *received) wait(ctx context.Context, n int64) error {
	for {
		r.mu.Lock()
		if r.n >= n {
			r.mu.Unlock()
			return nil
		}
		if r.wake == nil {
			r.wake = make(chan struct{})
		}
		w := r.wake
		r.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// count returns how many order requests have been received.
func (r *received) count() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// betCall runs one betting or account method for either transport; rest
// says how to shape an exception.
func (e *Exchange) betCall(w http.ResponseWriter, r *http.Request, method string, params json.RawMessage,
	ok func(any), fail func(*APIError)) {
	n := e.betRequests.Add(1)
	if e.cfg.Betting == nil {
		fail(&APIError{Code: "INVALID_INPUT_DATA", Details: "this exchange takes no bets (trade serve --betting)"})
		return
	}
	var p struct {
		CustomerRef string `json:"customerRef"`
		MarketID    string `json:"marketId"`
	}
	// Every order request counts once toward what a lockstep client says
	// it has sent: when the ledger has queued it, or once it is refused
	// (nothing queued, so the replay may go on).
	var once sync.Once
	queued := func() {}
	isOrder := orderMethods[method]
	if isOrder {
		json.Unmarshal(params, &p)
		queued = func() { once.Do(func() { e.recv.add(p.CustomerRef) }) }
	}
	defer queued()
	f := &e.cfg.Faults
	if code := e.apiFault(n); code != "" {
		if code != "TIMEOUT" {
			fail(&APIError{Code: code, Details: "fault: refused before the matcher"})
			return
		}
		if !isOrder {
			fail(&APIError{Code: "TIMEOUT_ERROR", Details: "fault: timed out"})
			return
		}
		// Carried out, answered TIMEOUT: the client cannot know the outcome.
		in := make(chan struct{})
		go func() {
			e.cfg.Betting.Call(context.WithoutCancel(r.Context()), method, params, func() { queued(); close(in) })
			queued() // refused: nothing to wait for
			select {
			case <-in:
			default:
				close(in)
			}
		}()
		select {
		case <-in:
		case <-r.Context().Done():
		}
		ok(map[string]any{"customerRef": p.CustomerRef, "status": "TIMEOUT", "marketId": p.MarketID})
		return
	}
	var seq int64
	if isOrder {
		seq = e.orderSeq.Add(1)
	}
	inLedger := false // the ledger queued it (it was not refused)
	res, err := e.cfg.Betting.Call(r.Context(), method, params, func() { inLedger = true; queued() })
	if err == nil && isOrder && f.DropReplyAfter > 0 && seq >= int64(f.DropReplyAfter) && e.didDropReply.CompareAndSwap(false, true) {
		e.log.Info("fault: order request carried out, its answer dropped", "method", method, "customer_ref", p.CustomerRef)
		panic(http.ErrAbortHandler)
	}
	if err == nil && inLedger && e.cfg.Lockstep {
		// In lockstep the answer follows the client's next heartbeat: by
		// then it has handled the order changes and the market change the
		// request took effect at, so the answer, on another connection,
		// cannot overtake them and the client's order state is the same
		// every run. A request the ledger refused whole has nothing on the
		// stream to overtake and is answered at once.
		e.acks.wait(r.Context(), e.acks.count()+1)
	}
	if err == nil && isOrder && f.StreamBeforeReply {
		// Every order change made so far goes out on the stream first.
		end := int64(len(e.cfg.Betting.Orders(0)))
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		e.ordSent.wait(ctx, end)
		cancel()
	}
	if err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			ae = &APIError{Code: "UNEXPECTED_ERROR", Details: err.Error()}
		}
		fail(ae)
		return
	}
	ok(res)
}

// apiFault returns the API error the Nth betting request is answered
// with by the APIError fault, or "".
func (e *Exchange) apiFault(n int64) string {
	f := &e.cfg.Faults
	if f.APIError == "" {
		return ""
	}
	at := int64(max(f.APIErrorAfter, 1))
	if f.APIErrorEvery && n%at == 0 || !f.APIErrorEvery && n >= at && e.didAPIErr.CompareAndSwap(false, true) {
		return f.APIError
	}
	return ""
}

// restBetting answers the REST transport of the Betting and Account APIs
// (/exchange/betting/rest/v1.0/<method>/).
func (e *Exchange) restBetting(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	fail := func(ae *APIError) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"faultcode": "Client", "faultstring": "ANGX-0003",
			"detail": map[string]any{"exceptionname": "APINGException", "APINGException": apingError{ErrorCode: ae.Code, ErrorDetails: ae.Details}}})
	}
	if ae := e.authorised(r); ae != nil {
		fail(&APIError{Code: ae.ErrorCode, Details: ae.ErrorDetails})
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if strings.TrimSpace(string(body)) == "" {
		body = []byte("{}")
	}
	e.betCall(w, r, method, body, func(v any) { writeJSON(w, http.StatusOK, v) }, fail)
}

// betThrough hands the ledger every replayed change up to and including
// index i it has not had yet, in replay order.
func (e *Exchange) betThrough(i int) error {
	if e.cfg.Betting == nil {
		return nil
	}
	e.betMu.Lock()
	defer e.betMu.Unlock()
	for ; e.betNext <= i && e.betNext < len(e.replay.events); e.betNext++ {
		if err := e.betLocked(e.betNext); err != nil {
			return err
		}
	}
	return nil
}

// betOne hands the ledger change i ahead of the changes before it: a
// market's first change, sent in an image before the replay reaches it.
// Markets are matched each on their own, so only a market's own order
// matters.
func (e *Exchange) betOne(i int) error {
	if e.cfg.Betting == nil {
		return nil
	}
	e.betMu.Lock()
	defer e.betMu.Unlock()
	return e.betLocked(i)
}

func (e *Exchange) betLocked(i int) error {
	if e.betDone[i] {
		return nil
	}
	e.betDone[i] = true
	ev := &e.replay.events[i]
	if err := e.cfg.Betting.Change(ev.pt, ev.raw); err != nil {
		return err
	}
	e.ordersMade()
	return nil
}

// ordersMade wakes every connection waiting for order changes.
func (e *Exchange) ordersMade() {
	e.wakeMu.Lock()
	if e.wake != nil {
		close(e.wake)
		e.wake = nil
	}
	e.wakeMu.Unlock()
}

// orderWake returns a channel closed when the ledger may have made order
// changes; nil (never ready) for a connection without an order
// subscription or an exchange without betting.
func (e *Exchange) orderWake(subscribed bool) <-chan struct{} {
	if !subscribed || e.cfg.Betting == nil {
		return nil
	}
	e.wakeMu.Lock()
	defer e.wakeMu.Unlock()
	if e.wake == nil {
		e.wake = make(chan struct{})
	}
	return e.wake
}

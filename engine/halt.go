package engine

import (
	"context"
	"time"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// DefaultStopWithin is how long a Live run's stop may take by default:
// cancelling the unmatched orders and waiting for the exchange to confirm,
// and the answers to requests still on their way. It leaves `trade live`
// time to write its outputs within 15 s of the signal.
const DefaultStopWithin = 12 * time.Second

// stopper is the end of a Live run and its kill switch: once halted, no
// new exposure goes and every unmatched order is cancelled (cancel
// requests only, through the markets' executors: at most 60 a request);
// once stopping, the run ends when the exchange has confirmed that none
// is left unmatched, or when the time allowed is up. It runs on the
// loop's goroutine.
type stopper struct {
	d   *streamDriver
	run *runControls
	// kill is the kill switch; ending is the run's context's end, until
	// the stop begins; deadline fires when the stop's time is up.
	kill     <-chan struct{}
	ending   <-chan struct{}
	deadline <-chan time.Time
	within   time.Duration
	keep     bool
	stopping bool
	// endRequests ends the context of the run's requests: at the
	// deadline, so that none outlives the stop.
	endRequests context.CancelFunc
	// asked is when each order's cancel was last sent by the sweep: one
	// whose answer left it unmatched is asked again a second later at
	// the earliest (the order stream may not have told yet).
	asked map[*Order]time.Time
}

// halt is the kill switch: no new exposure for the rest of the run, and a
// cancel for every unmatched order.
func (s *stopper) halt() {
	s.kill = nil
	s.run.halt("kill switch")
	s.sweep()
}

// begin starts the stop when the run's context ends, and reports whether
// the run may end at once: nothing to cancel, or the orders are kept.
func (s *stopper) begin() bool {
	s.ending, s.stopping = nil, true
	t := time.NewTimer(s.within)
	s.deadline = t.C
	time.AfterFunc(s.within, s.endRequests)
	if s.keep {
		s.run.halt("stopping (orders kept)")
		return true
	}
	s.run.halt("stopping")
	return s.sweep() == 0
}

// expired reports the orders the stop leaves unmatched, its time being up.
func (s *stopper) expired() {
	left := s.sweep()
	if left > 0 {
		s.run.log.Error("stop: time up with orders still unmatched on the exchange", "orders", left, "within", s.within)
	}
}

// after runs once the loop has handled a line or the executors' answers:
// when halted it cancels what is unmatched, and it reports whether a
// stop is complete.
func (s *stopper) after() bool {
	if s.run.halted == "" || s.keep && s.stopping {
		return false
	}
	return s.sweep() == 0 && s.stopping
}

// sweep asks to cancel every unmatched limit order of every open market
// and returns how many orders are still unmatched (those whose cancel is
// on its way or not yet confirmed included). Starting-price orders are
// left to the exchange: the engine cannot cancel them.
func (s *stopper) sweep() (left int) {
	now := s.run.lim.Now()
	for _, u := range s.d.list {
		for _, sts := range u.list {
			for _, st := range sts {
				if st.closed {
					continue
				}
				sent := false
				for _, o := range st.live {
					if o.s.Status.finished() || o.s.Type != Limit || o.SizeRemaining() <= 0 {
						continue
					}
					left++
					if at, ok := s.asked[o]; ok && now.Sub(at) < time.Second {
						continue
					}
					m := &Market{st: st, u: u}
					if st.bk.Status() == esa.MarketOpen && m.Cancel(o, 0) {
						s.asked[o] = now
						sent = true
					}
				}
				if sent {
					st.x.Flush()
				}
			}
		}
	}
	return left
}

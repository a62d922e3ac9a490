package engine

import "sync"

// DefaultMaxRequests is how many Betting API requests a live run has on
// the wire at once when BettingConfig.MaxRequests is not set. A request
// holds its place until answered, and an answer can take long (Betfair
// holds an in-play placement for the bet delay; the local exchange holds
// one until it takes effect), so a small bound queues every market behind
// a few slow ones: at 8, livebench's 200 busy markets waited 14 s for the
// wire (median), at 32 still 1.4 ms, at 64 no longer (0.6 ms, as with no
// bound). Twice flumine's 32 execution workers, and still a bound on the
// connections and goroutines a burst of changes can open.
const DefaultMaxRequests = 64

// requestQueue runs the Betting API requests of a run, at most max at
// once, each started in the order it was made: a cancel made after a
// placement never overtakes it for want of a free worker. Workers are
// started as needed and end when the queue is empty, so an idle run holds
// no goroutine.
type requestQueue struct {
	mu      sync.Mutex
	max     int
	running int
	waiting []func()
}

func newRequestQueue(max int) *requestQueue {
	if max <= 0 {
		max = DefaultMaxRequests
	}
	return &requestQueue{max: max}
}

// run queues call; it never blocks.
func (q *requestQueue) run(call func()) {
	q.mu.Lock()
	q.waiting = append(q.waiting, call)
	start := q.running < q.max
	if start {
		q.running++
	}
	q.mu.Unlock()
	if start {
		go q.work()
	}
}

// work runs queued calls, oldest first, until none waits.
func (q *requestQueue) work() {
	for {
		q.mu.Lock()
		if len(q.waiting) == 0 {
			q.running--
			q.mu.Unlock()
			return
		}
		call := q.waiting[0]
		q.waiting[0] = nil
		q.waiting = q.waiting[1:]
		q.mu.Unlock()
		call()
	}
}

// requests returns the run's request queue, made on first use (on the
// loop's goroutine, the only one that sends).
func (c *BettingConfig) requests() *requestQueue {
	if c.queue == nil {
		c.queue = newRequestQueue(c.MaxRequests)
	}
	return c.queue
}

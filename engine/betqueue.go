package engine

import "sync"

// DefaultMaxRequests is how many Betting API requests a live run has on
// the wire at once when BettingConfig.MaxRequests is not set. A placement
// holds its request until it takes effect (the bet delay, seconds in
// play), so a small bound queues the next markets' placements behind it.
// With 200 busy markets (internal/tools/livebench) the tick-to-trade
// median was 16 s at 8 (a loaded machine); on a quiet one the p99 was 7 ms
// at 64 and 2-3 ms at 256. Bounded still, so that a burst of changes
// cannot open connections without end; the betting client keeps as many
// open (or multiplexes them over HTTP/2).
const DefaultMaxRequests = 256

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

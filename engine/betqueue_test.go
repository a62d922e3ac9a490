package engine

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRequestQueue: requests beyond the limit wait, none runs while the
// limit is reached, the limit is reached (so it is not a lower one), and
// requests start in the order they were made.
func TestRequestQueue(t *testing.T) {
	for _, tc := range []struct{ max, want, n int }{
		{max: 1, want: 1, n: 20},
		{max: 3, want: 3, n: 20},
		{max: 0, want: DefaultMaxRequests, n: DefaultMaxRequests + 10},
	} {
		q := newRequestQueue(tc.max)
		started := make(chan int, tc.n)
		release := make(chan struct{})
		var running, peak atomic.Int32
		var mu sync.Mutex
		var order []int
		var done sync.WaitGroup
		for i := range tc.n {
			done.Add(1)
			q.run(func() {
				defer done.Done()
				r := running.Add(1)
				for p := peak.Load(); r > p && !peak.CompareAndSwap(p, r); p = peak.Load() {
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				started <- i
				<-release
				running.Add(-1)
			})
		}
		// The first want requests run together, the rest wait for them.
		for range tc.want {
			<-started
		}
		for range tc.n - tc.want {
			release <- struct{}{}
			<-started
		}
		for range tc.want {
			release <- struct{}{}
		}
		done.Wait()
		if p := peak.Load(); int(p) != tc.want {
			t.Errorf("max %d: %d requests at once, want %d", tc.max, p, tc.want)
		}
		if len(order) != tc.n {
			t.Errorf("max %d: %d requests ran, want %d", tc.max, len(order), tc.n)
		}
		if tc.want == 1 && !slices.IsSorted(order) {
			t.Errorf("one at a time, started in the order %v", order)
		}
		// A worker leaves just after its last call returns, so done.Wait
		// can return first: wait for every worker to leave (the bound is
		// for a leak, not a measure of time).
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			q.mu.Lock()
			running, waiting := q.running, len(q.waiting)
			q.mu.Unlock()
			if running == 0 && waiting == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("max %d: %d workers and %d requests left", tc.max, running, waiting)
				break
			}
		}
	}
}

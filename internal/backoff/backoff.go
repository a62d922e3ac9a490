// Package backoff computes the waits between retries of something remote
// (a stream connection, a login, an upload): exponential from a minimum to
// a maximum, with jitter, so that many clients cut off together do not all
// come back together. It is the one back-off of the stream client, the
// connection supervisor and the recorder's uploader.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is a back-off: retry n (counting from 0) waits Min doubled n
// times, capped at Max, then jittered down by up to half ("equal jitter":
// never less than half the nominal wait, so the growth still shows).
type Policy struct {
	Min, Max time.Duration
}

// Delay returns the wait before retry n. A Max below Min counts as Min; a
// Min of zero or less waits nothing.
func (p Policy) Delay(n int) time.Duration {
	if p.Min <= 0 {
		return 0
	}
	hi := max(p.Max, p.Min)
	d := p.Min
	for i := 0; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}

// Sleep waits Delay(n), or until ctx ends, whose error it then returns.
func (p Policy) Sleep(ctx context.Context, n int) error {
	return Wait(ctx, p.Delay(n))
}

// Wait waits d, or until ctx ends, whose error it then returns.
func Wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Policy
		n    int
		full time.Duration // the nominal wait: Delay lies in [full/2, full]
	}{
		{"first", Policy{100 * time.Millisecond, 3 * time.Second}, 0, 100 * time.Millisecond},
		{"doubles", Policy{100 * time.Millisecond, 3 * time.Second}, 3, 800 * time.Millisecond},
		{"capped", Policy{100 * time.Millisecond, 3 * time.Second}, 5, 3 * time.Second},
		{"far past the cap", Policy{100 * time.Millisecond, 3 * time.Second}, 1 << 20, 3 * time.Second},
		{"max below min", Policy{time.Second, time.Millisecond}, 4, time.Second},
		{"zero", Policy{}, 3, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[time.Duration]bool{}
			for range 200 {
				d := tc.p.Delay(tc.n)
				if d < tc.full/2 || d > tc.full {
					t.Fatalf("Delay(%d) = %v, want within [%v, %v]", tc.n, d, tc.full/2, tc.full)
				}
				seen[d] = true
			}
			if tc.full > 0 && len(seen) < 2 {
				t.Errorf("Delay(%d) took one value in 200 draws: no jitter", tc.n)
			}
		})
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (Policy{Min: time.Hour, Max: time.Hour}).Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on an ended context = %v, want context.Canceled", err)
	}
	if err := Wait(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Wait = %v", err)
	}
}

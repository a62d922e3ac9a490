package report

import (
	"testing"
)

func TestThin(t *testing.T) {
	pts := func(n int) []point {
		out := make([]point, n)
		for i := range out {
			out[i] = point{at: int64(i), back: float64(i)}
		}
		return out
	}
	for _, c := range []struct {
		n, max, want int
	}{{0, 10, 0}, {5, 10, 5}, {10, 10, 10}, {11, 10, 10}, {1000, 200, 200}, {100000, 200, 200}} {
		got := thin(pts(c.n), c.max)
		if len(got) != c.want {
			t.Errorf("thin(%d points, %d) kept %d, want %d", c.n, c.max, len(got), c.want)
			continue
		}
		if c.n == 0 {
			continue
		}
		if got[0].at != 0 || got[len(got)-1].at != int64(c.n-1) {
			t.Errorf("thin(%d, %d) lost an end: first %d last %d", c.n, c.max, got[0].at, got[len(got)-1].at)
		}
		for i := 1; i < len(got); i++ {
			if got[i].at <= got[i-1].at {
				t.Errorf("thin(%d, %d): times out of order at %d", c.n, c.max, i)
			}
		}
	}
}

func TestPriceBand(t *testing.T) {
	for _, c := range []struct {
		price float64
		want  string
	}{{1.01, "1.01–2 (0.01)"}, {2, "1.01–2 (0.01)"}, {2.02, "2–3 (0.02)"}, {3.05, "3–4 (0.05)"}, {5.5, "4–6 (0.1)"},
		{8.2, "6–10 (0.2)"}, {15.5, "10–20 (0.5)"}, {25, "20–30 (1)"}, {34, "30–50 (2)"}, {75, "50–100 (5)"},
		{990, "100–1000 (10)"}, {0, "no price (BSP)"}} {
		if got, _ := priceBand(c.price); got != c.want {
			t.Errorf("priceBand(%g) = %q, want %q", c.price, got, c.want)
		}
	}
}

func TestTickIndex(t *testing.T) {
	for _, c := range []struct {
		price float64
		want  int
	}{{0, -1}, {1.01, 0}, {1.02, 1}, {2, 99}, {2.02, 100}, {1000, 349}, {1.015, 0}} {
		if got := tickIndex(c.price); got != c.want {
			t.Errorf("tickIndex(%g) = %d, want %d", c.price, got, c.want)
		}
	}
}

package book

import (
	"math/rand/v2"
	"sort"
	"testing"
)

// TestPriceLadderSearch checks search against sort.Search on random ladders.
func TestPriceLadderSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 40; n++ {
		for _, desc := range []bool{false, true} {
			l := PriceLadder{desc: desc}
			for len(l.Levels) < n {
				l.Set(PriceAt(r.IntN(NumTicks)), 1)
			}
			for i := 0; i < NumTicks; i++ {
				p := PriceAt(i)
				var want int
				if desc {
					want = sort.Search(len(l.Levels), func(j int) bool { return l.Levels[j].Price <= p })
				} else {
					want = sort.Search(len(l.Levels), func(j int) bool { return l.Levels[j].Price >= p })
				}
				if got := l.search(p); got != want {
					t.Fatalf("n=%d desc=%v price %v: search %d, want %d", n, desc, p, got, want)
				}
			}
		}
	}
}

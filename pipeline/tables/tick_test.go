package tables

import (
	"testing"

	"github.com/tapedeck/tapedeck/engine/book"
)

// TestTickIndex checks tickIndex against book.Tick on every hundredth from
// 0 to 1001 and on prices a little off each.
func TestTickIndex(t *testing.T) {
	for c := 0; c <= 100100; c++ {
		for _, d := range []float64{0, 0.004, -0.004, 0.006, 0.5} {
			p := (float64(c) + d) / 100
			gi, gok := tickIndex(p)
			wi, wok := book.Tick(p)
			if gi != wi || gok != wok {
				t.Fatalf("price %v: tickIndex %d %v, book.Tick %d %v", p, gi, gok, wi, wok)
			}
		}
	}
	if i, ok := tickIndex(1000); !ok || i != book.NumTicks-1 {
		t.Fatalf("1000: %d %v", i, ok)
	}
}

package tables

import (
	"math"

	"github.com/tapedeck/tapedeck/engine/book"
)

// tickBands are Betfair's price ladder bands in hundredths: from, to and
// step. A band's first price is the previous band's last.
var tickBands = [...]struct{ from, to, step int }{
	{101, 200, 1}, {200, 300, 2}, {300, 400, 5}, {400, 600, 10}, {600, 1000, 20},
	{1000, 2000, 50}, {2000, 3000, 100}, {3000, 5000, 200}, {5000, 10000, 500}, {10000, 100000, 1000},
}

// tickIndex is book.Tick with one rounding and arithmetic on the bands
// instead of a binary search rounding at every step: it runs for every
// ladder delta and trade (TestTickIndex checks it against book.Tick).
func tickIndex(price float64) (int, bool) {
	if !(price >= book.MinPrice-0.005 && price <= book.MaxPrice+0.005) {
		return 0, false
	}
	c := int(math.Round(price * 100))
	base := 0
	for _, b := range tickBands {
		if c <= b.to {
			if c < b.from || (c-b.from)%b.step != 0 {
				return 0, false
			}
			return base + (c-b.from)/b.step, true
		}
		base += (b.to - b.from) / b.step
	}
	return 0, false
}

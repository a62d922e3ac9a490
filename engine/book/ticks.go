package book

import "math"

// tickBand is one band of Betfair's standard (CLASSIC) price ladder: prices
// from From (inclusive) up to To (exclusive, except the last band) step by
// Step.
type tickBand struct {
	from, to, step float64
}

// classicBands are the bands of Betfair's CLASSIC price ladder, 1.01 to 1000.
var classicBands = [...]tickBand{
	{1.01, 2, 0.01},
	{2, 3, 0.02},
	{3, 4, 0.05},
	{4, 6, 0.1},
	{6, 10, 0.2},
	{10, 20, 0.5},
	{20, 30, 1},
	{30, 50, 2},
	{50, 100, 5},
	{100, 1000, 10},
}

// NumTicks is the number of prices on Betfair's standard price ladder.
const NumTicks = 350

// MinPrice and MaxPrice are the lowest and highest prices of the ladder.
const (
	MinPrice = 1.01
	MaxPrice = 1000
)

// priceTable is the ladder, computed once per process from the bands. It is
// an immutable array value, not mutable state: every price is rounded to two
// decimals so that it equals the float64 Betfair's JSON decodes to.
var priceTable = buildPriceTable()

func buildPriceTable() [NumTicks]float64 {
	var t [NumTicks]float64
	i := 0
	for _, b := range classicBands {
		// Count steps in hundredths to avoid accumulating float error.
		from, to, step := int(math.Round(b.from*100)), int(math.Round(b.to*100)), int(math.Round(b.step*100))
		for c := from; c < to; c += step {
			t[i] = float64(c) / 100
			i++
		}
	}
	t[i] = MaxPrice
	return t
}

// PriceAt returns the price at tick index i (0 is 1.01, NumTicks-1 is 1000).
// It panics if i is out of range, like a slice index would.
func PriceAt(i int) float64 { return priceTable[i] }

// Tick returns the index of price on the ladder, and false when the price is
// not a ladder price (off-tick, below 1.01 or above 1000). Prices are
// compared after rounding to two decimals, so 1.1 and 1.1000000000000001
// are the same tick. It rounds once and looks the hundredths up in a table,
// because it runs for every ladder level convert parquet writes.
func Tick(price float64) (int, bool) {
	if !(price >= MinPrice-0.005 && price <= MaxPrice+0.005) {
		return 0, false
	}
	t := tickOfCent[int(math.Round(price*100))]
	if t < 0 {
		return 0, false
	}
	return int(t), true
}

// tickOfCent maps a price in whole hundredths to its tick index, or -1
// off the ladder: 200 KB, read-only after init, of which the few KB of
// prices below 20 are the ones in use. It runs to 1000.01, where Tick's
// half-hundredth tolerance above 1000 can round to.
var tickOfCent = func() (t [MaxPrice*100 + 2]int16) {
	for c := range t {
		t[c] = -1
	}
	base := 0
	for _, b := range classicBands {
		from, to, step := int(math.Round(b.from*100)), int(math.Round(b.to*100)), int(math.Round(b.step*100))
		for c := from; c <= to; c += step {
			t[c] = int16(base + (c-from)/step)
		}
		base += (to - from) / step
	}
	return t
}()

// TicksBetween returns the number of ticks from price a up to price b
// (negative when b is below a), and false when either is not a ladder price.
func TicksBetween(a, b float64) (int, bool) {
	ia, ok := Tick(a)
	if !ok {
		return 0, false
	}
	ib, ok := Tick(b)
	if !ok {
		return 0, false
	}
	return ib - ia, true
}

// AddTicks returns the price n ticks above price (n may be negative), clamped
// to the ends of the ladder, and false when price is not a ladder price.
func AddTicks(price float64, n int) (float64, bool) {
	i, ok := Tick(price)
	if !ok {
		return 0, false
	}
	i += n
	if i < 0 {
		i = 0
	} else if i >= NumTicks {
		i = NumTicks - 1
	}
	return priceTable[i], true
}

// SubTicks returns the price n ticks below price, clamped to the ladder, and
// false when price is not a ladder price.
func SubTicks(price float64, n int) (float64, bool) { return AddTicks(price, -n) }

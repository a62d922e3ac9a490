package book

import "github.com/tapedeck/tapedeck/engine/esa"

// PriceLadder is a price-keyed ladder (atb, atl, trd, spb, spl, and an
// order's matched backs and lays): one size per price, kept sorted by price,
// descending for the back ladders (atb, spb) so that Levels[0] is the best
// back price, ascending for the others. It is a small slice updated in
// place; after the first few updates of a market it no longer allocates.
// The zero value is an empty ascending ladder.
type PriceLadder struct {
	// Levels are the ladder's prices and sizes in the ladder's order. Read
	// them freely; change them only through Set or Apply.
	Levels []esa.PriceSize
	desc   bool
}

// Len returns the number of prices on the ladder.
func (l *PriceLadder) Len() int { return len(l.Levels) }

// Reset empties the ladder, keeping its capacity.
func (l *PriceLadder) Reset() { l.Levels = l.Levels[:0] }

// linearPrefix is how many levels search scans one by one before bisecting
// the rest: on real tapes most updates land within a few ticks of the best
// price, where a linear scan beats a binary search by about 2x.
const linearPrefix = 16

// search returns the index of price, or where it would be inserted.
func (l *PriceLadder) search(price float64) int {
	lv := l.Levels
	n := min(len(lv), linearPrefix)
	if l.desc {
		for i := 0; i < n; i++ {
			if lv[i].Price <= price {
				return i
			}
		}
		lo, hi := n, len(lv)
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if lv[mid].Price > price {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return lo
	}
	for i := 0; i < n; i++ {
		if lv[i].Price >= price {
			return i
		}
	}
	lo, hi := n, len(lv)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if lv[mid].Price < price {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// Set sets the size at price, deleting the price when size is 0, as a
// stream delta does.
func (l *PriceLadder) Set(price, size float64) {
	i := l.search(price)
	found := i < len(l.Levels) && l.Levels[i].Price == price
	switch {
	case size == 0:
		if found {
			l.Levels = append(l.Levels[:i], l.Levels[i+1:]...)
		}
	case found:
		l.Levels[i].Size = size
	default:
		l.Levels = append(l.Levels, esa.PriceSize{})
		copy(l.Levels[i+1:], l.Levels[i:])
		l.Levels[i] = esa.PriceSize{Price: price, Size: size}
	}
}

// Apply applies a delta in order: each entry sets or (size 0) deletes a
// price.
func (l *PriceLadder) Apply(delta []esa.PriceSize) {
	for _, ps := range delta {
		l.Set(ps.Price, ps.Size)
	}
}

// Size returns the size at price, 0 when the price is absent.
func (l *PriceLadder) Size(price float64) float64 {
	i := l.search(price)
	if i < len(l.Levels) && l.Levels[i].Price == price {
		return l.Levels[i].Size
	}
	return 0
}

// LevelLadder is a level-keyed ladder (batb, batl, bdatb, bdatl): the best N
// prices by position, level 0 the best, kept sorted by level.
type LevelLadder struct {
	// Levels are the ladder's entries in ascending level order.
	Levels []esa.LevelPriceSize
}

// Len returns the number of levels on the ladder.
func (l *LevelLadder) Len() int { return len(l.Levels) }

// Reset empties the ladder, keeping its capacity.
func (l *LevelLadder) Reset() { l.Levels = l.Levels[:0] }

// Set sets the price and size at a level, deleting the level when size is 0.
func (l *LevelLadder) Set(level int, price, size float64) {
	// Level ladders hold at most ten entries: a linear search is fastest.
	i := 0
	for i < len(l.Levels) && l.Levels[i].Level < level {
		i++
	}
	found := i < len(l.Levels) && l.Levels[i].Level == level
	switch {
	case size == 0:
		if found {
			l.Levels = append(l.Levels[:i], l.Levels[i+1:]...)
		}
	case found:
		l.Levels[i].Price, l.Levels[i].Size = price, size
	default:
		l.Levels = append(l.Levels, esa.LevelPriceSize{})
		copy(l.Levels[i+1:], l.Levels[i:])
		l.Levels[i] = esa.LevelPriceSize{Level: level, Price: price, Size: size}
	}
}

// Apply applies a delta in order.
func (l *LevelLadder) Apply(delta []esa.LevelPriceSize) {
	for _, e := range delta {
		l.Set(e.Level, e.Price, e.Size)
	}
}

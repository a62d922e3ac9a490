package tables

// pageBits sets the size of a paged list's pages: 256 entries.
const pageBits = 8

// paged is an append-only list kept in fixed-size pages, for the replay's
// per-line histories: a market's thousands of lines grow it without the
// copying (and garbage) of doubling one slice of large entries.
type paged[T any] struct {
	pages [][]T
	n     int
}

// push appends v.
func (p *paged[T]) push(v T) {
	k := p.n >> pageBits
	if k == len(p.pages) {
		p.pages = append(p.pages, make([]T, 0, 1<<pageBits))
	}
	p.pages[k] = append(p.pages[k], v)
	p.n++
}

// at returns the entry at index i.
func (p *paged[T]) at(i int) *T { return &p.pages[i>>pageBits][i&(1<<pageBits-1)] }

// len is the number of entries.
func (p *paged[T]) len() int { return p.n }

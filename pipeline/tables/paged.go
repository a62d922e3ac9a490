package tables

// pageBits sets the size of a paged list's pages: 256 entries.
const pageBits = 8

// paged is an append-only list kept in fixed-size pages, for the replay's
// per-line histories: a market's thousands of lines grow it without the
// copying (and garbage) of doubling one slice of large entries. Pages come
// from, and go back to, a free list when it has one.
type paged[T any] struct {
	pages [][]T
	n     int
	free  *pagePool[T]
}

// push appends v.
func (p *paged[T]) push(v T) {
	k := p.n >> pageBits
	if k == len(p.pages) {
		p.pages = append(p.pages, p.free.get())
	}
	p.pages[k] = append(p.pages[k], v)
	p.n++
}

// at returns the entry at index i.
func (p *paged[T]) at(i int) *T { return &p.pages[i>>pageBits][i&(1<<pageBits-1)] }

// len is the number of entries.
func (p *paged[T]) len() int { return p.n }

// release empties the list, giving its pages to its free list.
func (p *paged[T]) release() {
	for _, pg := range p.pages {
		p.free.put(pg)
	}
	p.pages, p.n = nil, 0
}

// pagePool is a free list of pages, at most maxFreePages of them. A nil
// pool allocates every page and keeps none.
type pagePool[T any] struct {
	pages [][]T
}

// maxFreePages bounds what a pool keeps between tapes: for the runner
// histories, 512 pages of 184-byte entries, some 24 MB.
const maxFreePages = 512

func (f *pagePool[T]) get() []T {
	if f != nil {
		if n := len(f.pages); n > 0 {
			pg := f.pages[n-1]
			f.pages = f.pages[:n-1]
			return pg[:0]
		}
	}
	return make([]T, 0, 1<<pageBits)
}

func (f *pagePool[T]) put(pg []T) {
	if f != nil && len(f.pages) < maxFreePages {
		f.pages = append(f.pages, pg)
	}
}

// Scratch is memory one Builder leaves to the next: the pages of the
// per-line histories that snapshots are built from, garbage once a
// market is finished. Reusing them saves a converter that replays
// thousands of tapes the cost of fresh memory (page faults, zeroing) for
// every one. Give each worker its own: a Scratch is not safe for
// concurrent use, and Builders sharing one must not run at the same time.
type Scratch struct {
	runners pagePool[runnerSnap]
	markets pagePool[marketSnap]
	deep    pagePool[DeepLevels]
}

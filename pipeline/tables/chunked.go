package tables

// Chunked is an append-only list of rows kept in chunks, so that a market
// with millions of ladder deltas grows without copying (and without the
// garbage of doubling one huge slice). The writer writes it chunk by chunk.
type Chunked[T any] struct {
	chunks [][]T
	n      int
}

const (
	firstChunk = 256
	maxChunk   = 16384
)

// Append adds one row.
func (c *Chunked[T]) Append(v T) {
	k := len(c.chunks)
	if k == 0 || len(c.chunks[k-1]) == cap(c.chunks[k-1]) {
		size := firstChunk
		if k > 0 {
			size = min(2*cap(c.chunks[k-1]), maxChunk)
		}
		c.chunks = append(c.chunks, make([]T, 0, size))
		k++
	}
	c.chunks[k-1] = append(c.chunks[k-1], v)
	c.n++
}

// At returns the row at index i (less than Len).
func (c *Chunked[T]) At(i int) *T {
	// The chunks hold firstChunk rows, then twice as many each time up to
	// maxChunk.
	k, size := 0, firstChunk
	for i >= size {
		i -= size
		k++
		size = min(2*size, maxChunk)
	}
	return &c.chunks[k][i]
}

// Len is the number of rows.
func (c *Chunked[T]) Len() int { return c.n }

// Chunks returns the rows in order, chunk by chunk; do not modify them.
func (c *Chunked[T]) Chunks() [][]T { return c.chunks }

// All returns the rows as one new slice, for tests and small tables.
func (c *Chunked[T]) All() []T {
	out := make([]T, 0, c.n)
	for _, ch := range c.chunks {
		out = append(out, ch...)
	}
	return out
}

// Each calls fn with a pointer to each row in order.
func (c *Chunked[T]) Each(fn func(*T)) {
	for _, ch := range c.chunks {
		for i := range ch {
			fn(&ch[i])
		}
	}
}

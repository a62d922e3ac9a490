package parquet

import (
	"io"
	"math/bits"

	pq "github.com/parquet-go/parquet-go"
)

// parquet-go writes an optional column held as a plain Go value (zero
// meaning null) a page of rows at a time, from a bitmap of the non-zero
// rows, where a pointer column costs a call per row. But its run scan
// (writeRowsFuncOfOptional, v0.32.0) has a flaw: after a run of nulls
// that ends at bit y of a 64-row word, it takes a following run of
// exactly y values that is then followed only by nulls to the end of
// the word for values to the end of the word, and writes those nulls as
// zeros. Row-group flushes and 64-row write chunks make the pattern
// common enough in real tables (a runner with two prices and then none).
//
// zeroNull writes such rows safely: in chunks of at most 64 rows (the
// writer's own chunk, so a chunk is one bitmap word), each checked
// against a replay of that scan (scanOptional); a chunk the scan would
// get wrong goes as explicit parquet values instead, through the same
// writer and column buffers, in order.
type zeroNull[W any] struct {
	pw    *pq.GenericWriter[W]
	codec *rowCodec[W]
	rows  []pq.Row
	cells []pq.Value
	words []uint64
}

// rowCodec describes a row type whose optional columns are plain values,
// zero meaning null.
type rowCodec[W any] struct {
	// columns is the number of zero-is-null columns. classify sets bit k
	// of present when the row's k-th one holds a value (is non-zero), and
	// reports whether the row cannot go the fast way at all (a zero that
	// is a value).
	columns  int
	classify func(*W) (present uint64, explicit bool)
	// explicit appends the row's values, in column order, to row.
	explicit func(row pq.Row, w *W) pq.Row
	// A nil classify writes every row as explicit values, to a schema
	// other than W's (see deepSnapshotCodec).
}

// newZeroNull returns a zeroNull writing to a new GenericWriter on out.
//
// GenericWriter sets up its column buffers on its first Write, dropping
// whatever explicit values were already in them; so the writer is primed
// with one throwaway row on io.Discard and then reset onto out.
func newZeroNull[W any](out io.Writer, opts []pq.WriterOption, codec *rowCodec[W]) (*zeroNull[W], error) {
	if codec.classify == nil {
		// No fast-path writes: nothing to prime the writer for.
		return &zeroNull[W]{pw: pq.NewGenericWriter[W](out, opts...), codec: codec}, nil
	}
	pw := pq.NewGenericWriter[W](io.Discard, opts...)
	var zero [1]W
	if _, err := pw.Write(zero[:]); err != nil {
		return nil, err
	}
	pw.Reset(out)
	return &zeroNull[W]{pw: pw, codec: codec, words: make([]uint64, codec.columns)}, nil
}

// Write writes rows, in order.
func (z *zeroNull[W]) Write(rows []W) error {
	if z.codec.classify == nil {
		return z.writeExplicit(rows)
	}
	for len(rows) > 0 {
		// The longest run, 64 rows at most, that may go the fast way, with
		// the bitmaps of its zero-is-null columns.
		clear(z.words)
		n := 0
		for n < len(rows) && n < 64 {
			p, explicit := z.codec.classify(&rows[n])
			if explicit {
				break
			}
			for p != 0 {
				k := bits.TrailingZeros64(p)
				z.words[k] |= 1 << uint(n)
				p &= p - 1
			}
			n++
		}
		if n > 0 {
			chunk := rows[:n]
			rows = rows[n:]
			var err error
			if z.safe(n) {
				_, err = z.pw.Write(chunk)
			} else {
				err = z.writeExplicit(chunk)
			}
			if err != nil {
				return err
			}
			continue
		}
		// rows[0] must go explicitly, and so may the rows after it.
		n = 1
		for n < len(rows) {
			if _, explicit := z.codec.classify(&rows[n]); !explicit {
				break
			}
			n++
		}
		if err := z.writeExplicit(rows[:n]); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// writeExplicit writes rows as explicit parquet values, in order.
func (z *zeroNull[W]) writeExplicit(rows []W) error {
	z.rows = z.rows[:0]
	z.cells = z.cells[:0]
	for i := range rows {
		start := len(z.cells)
		z.cells = z.codec.explicit(z.cells, &rows[i])
		z.rows = append(z.rows, z.cells[start:len(z.cells):len(z.cells)])
	}
	_, err := z.pw.WriteRows(z.rows)
	return err
}

// safe reports whether parquet-go's scan writes every zero-is-null
// column of a chunk of n rows (at most 64), whose bitmaps are in z.words,
// as it is.
func (z *zeroNull[W]) safe(n int) bool {
	for _, w := range z.words {
		if scanOptional(w, n) != w {
			return false
		}
	}
	return true
}

// scanOptional replays parquet-go v0.32.0's run scan over a one-word null
// bitmap of n rows (bit i set: row i holds a value) and returns the rows
// it writes as values. TestScanOptionalMatchesParquetGo checks it against
// the library itself, so an upgrade that changes the scan fails there.
func scanOptional(word uint64, n int) uint64 {
	var written uint64
	for i, steps := 0, 0; i < n && steps < 2*64; steps++ {
		x, y := i/64, i%64
		var j int
		if y != 0 {
			if b := word >> uint(y); b == 0 {
				x, y = x+1, 0
			} else {
				y += bits.TrailingZeros64(b)
				goto nulls
			}
		}
		if x == 0 && word == 0 {
			x++
		}
		if x == 0 {
			y = bits.TrailingZeros64(word) % 64
		}
	nulls:
		if j = x*64 + y; j > n {
			j = n
		}
		if i < j {
			i = j
		}
		if y != 0 {
			if b := word >> uint(y); b == (1<<uint64(y))-1 {
				x, y = x+1, 0
			} else {
				y += bits.TrailingZeros64(^b)
				goto values
			}
		}
		if x == 0 && word == ^uint64(0) {
			x++
		}
		if x == 0 {
			y = bits.TrailingZeros64(^word) % 64
		}
	values:
		if j = x*64 + y; j > n {
			j = n
		}
		if i < j {
			written |= rowMask(i, j)
			i = j
		}
	}
	return written
}

// rowMask has bits i to j-1 set.
func rowMask(i, j int) uint64 {
	if j-i >= 64 {
		return ^uint64(0)
	}
	return ((1 << uint(j-i)) - 1) << uint(i)
}

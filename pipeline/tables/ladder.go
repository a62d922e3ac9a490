package tables

import (
	"encoding/binary"
	"math"

	"github.com/tapedeck/tapedeck/engine/book"
)

// LadderDeltas is a market's ladder deltas, encoded as they are appended.
// They are most of the dataset's rows and all of them wait, with the rest
// of a batch, to be written; as 64-byte structs they were about a quarter
// of a conversion's memory, and memory a process touches for the first
// time costs a page fault per 4 KiB (on the project's VM some 14 µs of CPU,
// see docs/performance.md). Encoded they take 5 to 10 bytes each: a row
// repeats its predecessor's line and runner, its price is its tick and its
// size whole cents. Every row decodes to exactly what was appended: a value
// that does not fit the short forms (a price off the ladder, a size in
// fractions of a cent, a level or tick that contradicts its flag) is kept
// as is.
//
// The zero value is empty and ready to use.
type LadderDeltas struct {
	blocks []ladderBlock
	n      int
	prev   LadderDelta // the last row appended, which the next is encoded against
}

// ladderBlock is a run of encoded rows that decodes on its own: its first
// row is encoded against the zero LadderDelta.
type ladderBlock struct {
	data []byte
	n    int
}

// Blocks start small, for the many markets with few rows, and double up
// to maxLadderBlock bytes. Whole blocks are allocated at once (append never
// grows one), so encoding leaves no garbage behind.
const (
	firstLadderBlock = 1 << 10
	maxLadderBlock   = 64 << 10
	// maxLadderRow is the longest encoding of one row: two flag bytes, a
	// header of three varints, status, in-play flags and handicap, then
	// level and tick varints, the ladder, price and size.
	maxLadderRow = 2 + 3*binary.MaxVarintLen64 + 2 + 8 + 2*binary.MaxVarintLen64 + 1 + 8 + binary.MaxVarintLen64
)

// The flags of an encoded row's first byte: its ladder in the low four
// bits, then these.
const (
	ldHasLevel = 1 << 4
	ldHasTick  = 1 << 5
	ldHeader   = 1 << 6 // pt, seq, selection, handicap, status or in-play differ from the previous row
	ldExt      = 1 << 7 // a second flag byte follows
)

// The flags of the second byte, present only with ldExt.
const (
	ldRawPrice = 1 << iota // the price as 8 bytes, not its tick's price
	ldRawSize              // the size as 8 bytes, not whole cents
	ldAllInts              // level and tick stored whatever HasLevel and HasTick say
)

// The flags of a header's last byte.
const (
	ldInPlay   = 1 << iota
	ldHandicap // 8 bytes of handicap follow (else it is zero)
)

// Len is the number of rows.
func (l *LadderDeltas) Len() int { return l.n }

// Bytes is the memory the encoded rows hold.
func (l *LadderDeltas) Bytes() int {
	n := 0
	for _, b := range l.blocks {
		n += cap(b.data)
	}
	return n
}

// Append adds one row.
func (l *LadderDeltas) Append(d LadderDelta) {
	k := len(l.blocks)
	if k == 0 || cap(l.blocks[k-1].data)-len(l.blocks[k-1].data) < maxLadderRow {
		size := firstLadderBlock
		if k > 0 {
			size = min(2*cap(l.blocks[k-1].data), maxLadderBlock)
		}
		l.blocks = append(l.blocks, ladderBlock{data: make([]byte, 0, size)})
		k++
		l.prev = LadderDelta{}
	}
	b := &l.blocks[k-1]
	b.data = encodeLadderDelta(b.data, &l.prev, &d)
	b.n++
	l.n++
	l.prev = d
}

// encodeLadderDelta appends d, encoded against prev, to dst, which has
// room for maxLadderRow more bytes.
func encodeLadderDelta(dst []byte, prev, d *LadderDelta) []byte {
	f0 := byte(d.Ladder) & 0x0f
	var f1 byte
	if d.Ladder > 0x0f {
		f1 |= ldAllInts | ldRawPrice | ldRawSize
	}
	if d.HasLevel {
		f0 |= ldHasLevel
	} else if d.Level != 0 {
		f1 |= ldAllInts
	}
	if d.HasTick {
		f0 |= ldHasTick
	} else if d.Tick != 0 {
		f1 |= ldAllInts
	}
	header := d.Pt != prev.Pt || d.Seq != prev.Seq || d.SelectionID != prev.SelectionID ||
		math.Float64bits(d.Handicap) != math.Float64bits(prev.Handicap) || d.Status != prev.Status || d.InPlay != prev.InPlay
	if header {
		f0 |= ldHeader
	}
	if !d.HasTick || d.Tick < 0 || int(d.Tick) >= book.NumTicks ||
		math.Float64bits(book.PriceAt(int(d.Tick))) != math.Float64bits(d.Price) {
		f1 |= ldRawPrice
	}
	cents, ok := wholeCents(d.Size)
	if !ok {
		f1 |= ldRawSize
	}
	if f1 != 0 {
		f0 |= ldExt
		dst = append(dst, f0, f1)
	} else {
		dst = append(dst, f0)
	}
	if header {
		dst = binary.AppendVarint(dst, d.Pt-prev.Pt)
		dst = binary.AppendVarint(dst, d.Seq-prev.Seq)
		dst = binary.AppendVarint(dst, d.SelectionID-prev.SelectionID)
		var h byte
		if d.InPlay {
			h |= ldInPlay
		}
		if math.Float64bits(d.Handicap) != 0 {
			h |= ldHandicap
		}
		dst = append(dst, d.Status, h)
		if h&ldHandicap != 0 {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(d.Handicap))
		}
	}
	all := f1&ldAllInts != 0
	if all || d.HasLevel {
		dst = binary.AppendVarint(dst, int64(d.Level))
	}
	if all || d.HasTick {
		dst = binary.AppendVarint(dst, int64(d.Tick))
	}
	if all {
		// A ladder past the four bits of the first byte.
		dst = append(dst, byte(d.Ladder))
	}
	if f1&ldRawPrice != 0 {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(d.Price))
	}
	if f1&ldRawSize != 0 {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(d.Size))
	} else {
		dst = binary.AppendUvarint(dst, cents)
	}
	return dst
}

// wholeCents returns size in hundredths when that is exactly size: a
// division by 100 gives back the very same float64 (so not -0, which
// would come back as 0).
func wholeCents(size float64) (uint64, bool) {
	if math.Signbit(size) || !(size < 1<<50) {
		return 0, false
	}
	c := math.Round(size * 100)
	if math.Float64bits(c/100) != math.Float64bits(size) {
		return 0, false
	}
	return uint64(c), true
}

// MaxChunk is the most rows Chunks passes at once.
func (l *LadderDeltas) MaxChunk() int { return min(l.n, maxChunk) }

// Chunks decodes the rows into buf (grown as needed) and calls fn with
// them in order, in the chunks a Chunked would hold them in (256 rows,
// then twice as many each time up to 16384): parquet-go ends a page where
// a write call crosses the page size, so these chunk sizes are part of
// the files' bytes. fn must not keep the rows. Chunks returns buf for
// reuse, and fn's first error.
func (l *LadderDeltas) Chunks(buf []LadderDelta, fn func([]LadderDelta) error) ([]LadderDelta, error) {
	size := firstChunk
	buf = buf[:0]
	for _, b := range l.blocks {
		dec := ladderDecoder{p: b.data}
		for range b.n {
			if len(buf) == size {
				if err := fn(buf); err != nil {
					return buf, err
				}
				buf, size = buf[:0], min(2*size, maxChunk)
			}
			buf = append(buf, dec.next())
		}
	}
	if len(buf) > 0 {
		return buf, fn(buf)
	}
	return buf, nil
}

// All returns the rows as one new slice, for tests and small tables.
func (l *LadderDeltas) All() []LadderDelta {
	out := make([]LadderDelta, 0, l.n)
	for _, b := range l.blocks {
		dec := ladderDecoder{p: b.data}
		for range b.n {
			out = append(out, dec.next())
		}
	}
	return out
}

// ladderDecoder reads the rows of one block.
type ladderDecoder struct {
	p []byte
	d LadderDelta // the row last read
}

// next decodes the next row.
func (dec *ladderDecoder) next() LadderDelta {
	p, d := dec.p, &dec.d
	f0 := p[0]
	p = p[1:]
	var f1 byte
	if f0&ldExt != 0 {
		f1 = p[0]
		p = p[1:]
	}
	d.Ladder = Ladder(f0 & 0x0f)
	d.HasLevel, d.HasTick = f0&ldHasLevel != 0, f0&ldHasTick != 0
	if f0&ldHeader != 0 {
		d.Pt += varint(&p)
		d.Seq += varint(&p)
		d.SelectionID += varint(&p)
		h := p[1]
		d.Status, d.InPlay = p[0], h&ldInPlay != 0
		p = p[2:]
		d.Handicap = 0
		if h&ldHandicap != 0 {
			d.Handicap = math.Float64frombits(binary.LittleEndian.Uint64(p))
			p = p[8:]
		}
	}
	all := f1&ldAllInts != 0
	d.Level, d.Tick = 0, 0
	if all || d.HasLevel {
		d.Level = int32(varint(&p))
	}
	if all || d.HasTick {
		d.Tick = int32(varint(&p))
	}
	if all {
		d.Ladder = Ladder(p[0])
		p = p[1:]
	}
	if f1&ldRawPrice != 0 {
		d.Price = math.Float64frombits(binary.LittleEndian.Uint64(p))
		p = p[8:]
	} else {
		d.Price = book.PriceAt(int(d.Tick))
	}
	if f1&ldRawSize != 0 {
		d.Size = math.Float64frombits(binary.LittleEndian.Uint64(p))
		p = p[8:]
	} else {
		c, n := binary.Uvarint(p)
		d.Size = float64(c) / 100
		p = p[n:]
	}
	dec.p = p
	return *d
}

// varint reads one varint off the front of *p.
func varint(p *[]byte) int64 {
	v, n := binary.Varint(*p)
	*p = (*p)[n:]
	return v
}

package bzip2

import (
	"encoding/binary"
	"io"
)

const (
	inBufSize = 32 << 10
	// padBytes of zeros are appended after the end of the input so the
	// 8-byte refill always has something to load; reading into them is
	// detected by overrun.
	padBytes = 8
)

// bitReader reads bits most significant first. The next bits of the stream
// are kept left-aligned in bits; nbits of them are valid (the bits below may
// hold look-ahead copies of the following input, which the next refill ORs
// in again unchanged).
//
// buf[pos:end] holds the input not yet loaded into bits. Once the source is
// exhausted (eof), end also covers zero padding past realEnd.
type bitReader struct {
	bits  uint64
	nbits uint
	buf   []byte
	pos   int
	end   int

	r       io.Reader
	base    int64 // stream offset of buf[0]
	eof     bool  // the source is exhausted (or failed)
	realEnd int64 // stream offset of the end of the input; valid if eof
	rerr    error // a read error other than io.EOF
}

func (b *bitReader) init(r io.Reader) {
	buf := b.buf
	if b.r == nil || cap(buf) < inBufSize+padBytes {
		buf = make([]byte, inBufSize+padBytes)
	}
	*b = bitReader{buf: buf[:inBufSize+padBytes], r: r}
}

// initBytes makes b read p. p's capacity must exceed its length by at least
// padBytes; b may overwrite p and the bytes after it.
func (b *bitReader) initBytes(p []byte) {
	*b = bitReader{buf: p[:len(p)+padBytes], end: len(p), eof: true, realEnd: int64(len(p))}
}

// refill makes at least 56 bits valid.
func (b *bitReader) refill() {
	if b.pos+8 <= b.end {
		b.bits |= binary.BigEndian.Uint64(b.buf[b.pos:]) >> b.nbits
		b.pos += int(63-b.nbits) >> 3
		b.nbits |= 56
		return
	}
	b.refillSlow()
}

// refillSlow reads more input (or pads it with zeros at its end) and
// refills.
func (b *bitReader) refillSlow() {
	b.fill()
	b.bits |= binary.BigEndian.Uint64(b.buf[b.pos:]) >> b.nbits
	b.pos += int(63-b.nbits) >> 3
	b.nbits |= 56
}

// fill makes at least 8 bytes available at b.pos: real input or, past its
// end, zero padding.
func (b *bitReader) fill() {
	empty := 0
	for b.end-b.pos < 8 {
		if b.pos > 0 {
			// Move the (fewer than 8) unread bytes to the front.
			n := copy(b.buf, b.buf[b.pos:b.end])
			b.base += int64(b.pos)
			b.end = n
			b.pos = 0
		}
		if b.eof {
			if b.end+padBytes > len(b.buf) {
				// Only a small buffer from initBytes gets here.
				nb := make([]byte, b.end+2*padBytes)
				copy(nb, b.buf[:b.end])
				b.buf = nb
			}
			clear(b.buf[b.end : b.end+padBytes])
			b.end += padBytes
			return
		}
		n, err := b.r.Read(b.buf[b.end : len(b.buf)-padBytes])
		if n < 0 || n > len(b.buf)-padBytes-b.end {
			n, err = 0, io.ErrNoProgress
		}
		b.end += n
		if n > 0 {
			empty = 0
		}
		if err == nil && n == 0 {
			if empty++; empty >= 100 {
				err = io.ErrNoProgress
			}
		}
		if err != nil {
			if err != io.EOF {
				b.rerr = err
			}
			b.eof = true
			b.realEnd = b.base + int64(b.end)
		}
	}
}

// consumed is the number of bits read so far.
func (b *bitReader) consumed() int64 { return (b.base+int64(b.pos))*8 - int64(b.nbits) }

// overrun reports whether more bits were read than the input holds.
func (b *bitReader) overrun() bool { return b.eof && b.consumed() > b.realEnd*8 }

// nearEnd reports whether the input ends within the next maxCodeLen bits
// (a Huffman look-ahead may have seen past it). It reads ahead if it must
// to know, so the answer does not depend on how the source splits reads.
func (b *bitReader) nearEnd() bool {
	if !b.eof && b.end-b.pos < 8 {
		b.fill()
	}
	return b.eof && b.consumed()+maxCodeLen > b.realEnd*8
}

// endErr is the error for running out of input.
func (b *bitReader) endErr() error {
	if b.rerr != nil {
		return b.rerr
	}
	return errTruncated
}

// read returns the next n bits (1 <= n <= 32).
func (b *bitReader) read(n uint) uint32 {
	if b.nbits < n {
		b.refill()
	}
	v := uint32(b.bits >> (64 - n))
	b.bits <<= n
	b.nbits -= n
	return v
}

// alignByte drops the bits up to the next byte boundary.
func (b *bitReader) alignByte() {
	k := b.nbits & 7
	b.bits <<= k
	b.nbits -= k
}

// atEnd reports, at a byte boundary, whether the input has no more bytes.
func (b *bitReader) atEnd() bool {
	if !b.eof && (b.nbits > 0 || b.pos < b.end) {
		return false
	}
	if !b.eof {
		b.fill()
	}
	return b.eof && b.consumed() >= b.realEnd*8
}

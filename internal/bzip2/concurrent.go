package bzip2

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"sync"
)

// NewReaderConcurrency is NewReader decoding up to n blocks at once, each on
// its own goroutine; n <= 1 means NewReader. The output and the errors are
// the same as NewReader's. It helps streams of several blocks (bzip2 -9
// makes a block per ~900 kB of input); memory grows by about 12 MB per
// block in flight.
//
// Blocks are found by scanning for their bit-aligned magic number; each
// decoded block must end exactly where the next one was found. Anything
// unexpected (a magic number occurring by chance inside a block, damaged or
// truncated input) makes the Reader fall back to sequential decoding from
// the last block it had verified, so it reports exactly what NewReader
// would.
func NewReaderConcurrency(r io.Reader, n int) *Reader {
	z := new(Reader)
	z.concurrency = n
	z.Reset(r)
	return z
}

const (
	// maxBlockScan bounds how far ahead of a block's start its end is
	// looked for (a block of 900,000 symbols of 20 bits is 2.25 MB).
	maxBlockScan = 2400 << 10
	readChunk    = 64 << 10
)

var outPool = sync.Pool{New: func() any { return []byte(nil) }}

// parItem is a block or a stream end found ahead of the reader.
type parItem struct {
	magicPos int64 // bit offset of its magic number
	stream   streamState

	// A block: its data is [start, end) in bits; done is closed when a
	// goroutine has decoded it.
	block      bool
	start, end int64
	done       chan struct{}
	out        []byte
	n          int
	wantCRC    uint32
	consumed   int64 // bits the decoder read from start
	err        error

	// A stream end: its stored CRC, and the level of the stream that
	// follows (0 at the end of the input).
	streamCRC uint32
	nextLevel int
	// fallback: decode sequentially from magicPos in state stream.
	fallback bool
}

// streamState is what the sequential decoder needs to resume at a magic.
type streamState struct {
	blockSize int
}

type parallel struct {
	n     int
	r     io.Reader
	win   []byte // input from offset base on
	base  int64
	eof   bool
	rerr  error
	items []*parItem // found, not yet consumed
	pos   int64      // bit offset of the next magic to look at
	state streamState
	done  bool // no more items to find
	busy  int  // blocks being decoded
}

// more reads input until the window reaches byte offset end, or the input
// ends.
func (p *parallel) more(end int64) {
	for !p.eof && p.base+int64(len(p.win)) < end {
		if cap(p.win)-len(p.win) < readChunk/2 {
			// Drop what no item needs any more, then grow.
			keep := p.pos / 8
			if len(p.items) > 0 {
				keep = p.items[0].magicPos / 8
			}
			live := p.win[keep-p.base:]
			nw := make([]byte, len(live), max(2*len(live), readChunk))
			copy(nw, live)
			p.win = nw
			p.base = keep
		}
		k, err := p.r.Read(p.win[len(p.win):cap(p.win)])
		p.win = p.win[:len(p.win)+k]
		if err != nil {
			p.eof = true
			if err != io.EOF {
				p.rerr = err
			}
		}
	}
}

// bits returns the n (<= 57) bits at bit offset pos, and whether the input
// holds them.
func (p *parallel) bits(pos int64, n uint) (uint64, bool) {
	end := (pos + int64(n) + 7) / 8
	p.more(end)
	if end-p.base > int64(len(p.win)) {
		return 0, false
	}
	var b [8]byte
	copy(b[:], p.win[pos/8-p.base:end-p.base])
	v := binary.BigEndian.Uint64(b[:])
	return v << (pos % 8) >> (64 - n), true
}

// magicPrefilter flags the 16-bit values that bytes 1 and 2 of a block or
// end-of-stream magic number take at each of the 8 bit alignments.
var magicPrefilter [1 << 16 / 64]uint64

func init() {
	for _, m := range []uint64{blockMagic, finalMagic} {
		for s := 0; s < 8; s++ {
			// The magic starting at bit s of byte 0 covers bytes 0..6.
			v := m << (16 - s) // 64-bit window of bytes 0..7
			k := uint16(v >> 40)
			magicPrefilter[k/64] |= 1 << (k % 64)
		}
	}
}

// findMagic returns the bit offset of the first block or end-of-stream
// magic at or after bit from, or -1 if none starts before bit limit (or
// the input ends).
func (p *parallel) findMagic(from, limit int64) int64 {
	i := from / 8 // candidate start byte
	for {
		p.more(i + 8)
		w := p.win[i-p.base:]
		if len(w) < 8 {
			return -1
		}
		// Look for bytes 1..2 of a magic, then check the 8 alignments.
		j := 0
		for ; j+8 <= len(w); j++ {
			k := uint16(w[j+1])<<8 | uint16(w[j+2])
			if magicPrefilter[k/64]&(1<<(k%64)) == 0 {
				continue
			}
			v := binary.BigEndian.Uint64(w[j:])
			for s := 0; s < 8; s++ {
				bit := (i+int64(j))*8 + int64(s)
				if bit < from {
					continue
				}
				if bit >= limit {
					return -1
				}
				if m := v << s >> 16; m == blockMagic || m == finalMagic {
					return bit
				}
			}
		}
		i += int64(j)
		if (i-1)*8 >= limit {
			return -1
		}
		if p.eof {
			return -1
		}
		p.more(i + readChunk)
	}
}

// next finds the next item.
func (p *parallel) next() *parItem {
	it := &parItem{magicPos: p.pos, stream: p.state}
	fail := func() *parItem {
		it.fallback = true
		p.done = true
		return it
	}
	m, ok := p.bits(p.pos, 48)
	if !ok {
		return fail()
	}
	switch m {
	case blockMagic:
		start := p.pos + 48
		end := p.findMagic(start+1, start+maxBlockScan)
		if end < 0 {
			return fail()
		}
		b := p.win[start/8-p.base : (end+7)/8-p.base]
		buf := make([]byte, len(b), len(b)+padBytes)
		copy(buf, b)
		it.block, it.start, it.end = true, start, end
		it.done = make(chan struct{})
		p.busy++
		go it.decode(buf, p.state.blockSize)
		p.pos = end
		return it
	case finalMagic:
		crc, ok := p.bits(p.pos+48, 32)
		if !ok {
			return fail()
		}
		it.streamCRC = uint32(crc)
		// The next stream starts at a byte boundary, or the input ends.
		next := (p.pos + 48 + 32 + 7) / 8
		p.more(next + 1)
		if next-p.base >= int64(len(p.win)) && p.eof {
			if p.rerr != nil {
				return fail()
			}
			p.done = true
			return it
		}
		h, ok := p.bits(next*8, 32)
		level := int(h & 0xff)
		if !ok || h>>8 != 'B'<<16|'Z'<<8|'h' || level < '1' || level > '9' {
			return fail()
		}
		it.nextLevel = level - '0'
		p.state.blockSize = it.nextLevel * 100000
		p.pos = next*8 + 32
		return it
	}
	return fail()
}

func (it *parItem) decode(data []byte, blockSize int) {
	defer close(it.done)
	d := decoderPool.Get().(*blockDecoder)
	defer decoderPool.Put(d)
	var br bitReader
	br.initBytes(data)
	skip := uint(it.start % 8)
	if skip > 0 {
		br.read(skip)
	}
	it.n, it.wantCRC, it.err = d.decode(&br, blockSize)
	it.consumed = br.consumed() - int64(skip)
	if it.err == nil {
		// Keep the output; give the decoder another buffer.
		it.out = d.out
		d.out = outPool.Get().([]byte)
		if len(d.out) < len(it.out) {
			d.out = make([]byte, len(it.out))
		}
	}
}

// parStart sets up concurrent decoding: it parses the first stream header.
func (z *Reader) parStart(r io.Reader) {
	p := &parallel{n: z.concurrency, r: r}
	z.par = p
	h, ok := p.bits(0, 32)
	level := int(h & 0xff)
	if !ok || h>>8 != 'B'<<16|'Z'<<8|'h' || level < '1' || level > '9' {
		z.sequentialFrom(&parItem{magicPos: 0, fallback: true}, false)
		return
	}
	p.state.blockSize = (level - '0') * 100000
	p.pos = 32
}

// parNext moves to the next block. It returns io.EOF at the end; after a
// fallback to sequential decoding, it returns errFallback.
func (z *Reader) parNext() error {
	p := z.par
	for {
		// Keep up to n blocks in flight.
		for !p.done && p.busy < p.n && len(p.items) < 4*p.n {
			it := p.next()
			p.items = append(p.items, it)
		}
		if len(p.items) == 0 {
			return io.EOF
		}
		it := p.items[0]
		p.items = p.items[1:]
		switch {
		case it.fallback:
			z.sequentialFrom(it, true)
			return errFallback
		case it.block:
			<-it.done
			p.busy--
			if it.err != nil || it.start+it.consumed != it.end {
				if it.out != nil {
					outPool.Put(it.out)
				}
				z.sequentialFrom(it, true)
				return errFallback
			}
			if z.parOut != nil {
				outPool.Put(z.parOut)
			}
			z.parOut = it.out
			z.in = it.out[:it.n]
			z.inPos = 0
			z.same = 0
			z.pending = 0
			z.crc = 0xFFFFFFFF
			z.wantCRC = it.wantCRC
			z.inBlock = true
			return nil
		default: // stream end
			if it.streamCRC != z.streamCRC {
				z.sequentialFrom(it, true)
				return errFallback
			}
			z.streamCRC = 0
			if it.nextLevel == 0 {
				return io.EOF
			}
			z.blockSize = it.nextLevel * 100000
		}
	}
}

// sequentialFrom switches to sequential decoding at it.magicPos.
func (z *Reader) sequentialFrom(it *parItem, inStream bool) {
	p := z.par
	z.par = nil
	// Outstanding blocks finish on their own; their buffers are dropped.
	from := it.magicPos / 8
	var rest io.Reader = bytes.NewReader(p.win[from-p.base:])
	switch {
	case p.rerr != nil:
		rest = io.MultiReader(rest, &errReader{p.rerr})
	case !p.eof:
		rest = io.MultiReader(rest, p.r)
	}
	z.br.init(rest)
	if s := uint(it.magicPos % 8); s > 0 {
		z.br.read(s)
	}
	z.inStream = inStream
	if inStream {
		z.blockSize = it.stream.blockSize
	}
}

// errFallback tells Read that decoding went sequential.
var errFallback = errors.New("bzip2: fall back to sequential decoding")

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

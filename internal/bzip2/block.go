package bzip2

import (
	"encoding/binary"
)

const (
	blockMagic = 0x314159265359
	finalMagic = 0x177245385090
	// maxSelectors is how many selectors libbzip2 keeps; more are read but
	// can never be used (a block has at most 900,001 symbols).
	maxSelectors = 18002
)

// blockDecoder holds the buffers for decoding one block. They are sized
// for the largest block seen and reused.
type blockDecoder struct {
	// runs holds the BWT output (the "L" column) as runs of one byte:
	// length<<8 | byte. Runs come straight from the MTF/RLE2 decoding;
	// it grows as needed.
	runs []uint32
	// tt is the inverse-BWT vector: tt[j] = next<<8 | byte.
	tt []uint32
	// out receives the block's bytes before the final run-length
	// decoding (RLE1).
	out []byte

	nruns     int // entries used in runs
	counts    [256]uint32
	selectors [maxSelectors]uint8
	tables    [maxGroups]huffTable
	lens      [maxAlpha]uint8

	origPtr int
	nstarts int // sampled rows for multiChain (0: too small a block)

	// For the multi-chain traversal.
	startLF [maxStarts]uint32
	segs    []segment
	scratch []byte
}

// ensure sizes the buffers for a block of n bytes (buffers only grow, and
// are sized by the blocks actually seen, not the stream's block size, so
// small files stay cheap).
func (d *blockDecoder) ensure(n int) {
	if len(d.tt) < n+1 {
		d.tt = make([]uint32, n+1)
	}
	if len(d.out) < n {
		d.out = make([]byte, n)
	}
	// Each multi-chain lane gets twice its share of the block.
	if n >= multiChainMin && len(d.scratch) < 2*n+lanes {
		d.scratch = make([]byte, 2*n+lanes)
	}
}

// growRuns enlarges d.runs, up to the most a block can need.
func (d *blockDecoder) growRuns(blockSize int) []uint32 {
	n := min(max(2*len(d.runs), 1<<14), blockSize+1)
	if n <= len(d.runs) {
		return d.runs // full size already
	}
	r := make([]uint32, n)
	copy(r, d.runs)
	d.runs = r
	return r
}

// decode reads one block, whose magic has been consumed, and leaves its
// pre-RLE1 bytes in d.out. It returns their count and the block's stored
// CRC.
func (d *blockDecoder) decode(br *bitReader, blockSize int) (n int, wantCRC uint32, err error) {
	n, wantCRC, err = d.decodeEntropy(br, blockSize)
	if err != nil {
		return 0, 0, err
	}
	d.ensure(n)
	d.buildTT(n)
	d.traverse(n, d.origPtr)
	return n, wantCRC, nil
}

// decodeEntropy reads the block header and its Huffman-coded symbols,
// leaving the BWT output in d.runs and d.counts.
func (d *blockDecoder) decodeEntropy(br *bitReader, blockSize int) (n int, wantCRC uint32, err error) {
	wantCRC = br.read(32)
	if br.read(1) != 0 {
		return 0, 0, corruptError("randomized blocks are not supported")
	}
	origPtr := int(br.read(24))
	if origPtr >= blockSize {
		return 0, 0, corruptError("origPtr out of range")
	}

	// Which byte values occur: a 16-bit map of 16-value ranges, then a
	// 16-bit map for each range used.
	var mtf [256]byte
	numInUse := 0
	ranges := br.read(16)
	for i := 0; i < 16; i++ {
		if ranges&(0x8000>>i) != 0 {
			m := br.read(16)
			for j := 0; j < 16; j++ {
				if m&(0x8000>>j) != 0 {
					mtf[numInUse] = byte(i*16 + j)
					numInUse++
				}
			}
		}
	}
	if numInUse == 0 {
		return 0, 0, corruptError("no symbols in use")
	}
	alphaSize := numInUse + 2

	nGroups := int(br.read(3))
	if nGroups < 2 || nGroups > maxGroups {
		return 0, 0, corruptError("bad number of Huffman tables")
	}
	nSelectors := int(br.read(15))
	if nSelectors < 1 {
		return 0, 0, corruptError("no selectors")
	}

	// Selectors: MTF-coded table numbers, each in unary.
	var selMTF [maxGroups]uint8
	for i := range selMTF {
		selMTF[i] = uint8(i)
	}
	for i := 0; i < nSelectors; i++ {
		if br.nbits < maxGroups+1 {
			br.refill()
		}
		j := uint(0)
		for br.bits&(1<<63) != 0 {
			br.bits <<= 1
			br.nbits--
			j++
			if j >= uint(nGroups) {
				return 0, 0, corruptError("bad selector")
			}
		}
		br.bits <<= 1
		br.nbits--
		v := selMTF[j]
		copy(selMTF[1:j+1], selMTF[:j])
		selMTF[0] = v
		if i < maxSelectors {
			d.selectors[i] = v
		}
	}
	if nSelectors > maxSelectors {
		nSelectors = maxSelectors
	}

	// Code lengths: a 5-bit start, then per symbol a delta in unary-ish
	// steps: 0 = done, 10 = +1, 11 = -1.
	lens := d.lens[:alphaSize]
	for g := 0; g < nGroups; g++ {
		l := br.read(5)
		for s := range lens {
			for {
				if l < 1 || l > maxCodeLen {
					return 0, 0, corruptError("bad Huffman code length")
				}
				if br.nbits < 2 {
					br.refill()
				}
				if br.bits&(1<<63) == 0 {
					br.bits <<= 1
					br.nbits--
					break
				}
				l += 1 - uint32(br.bits>>61&2) // 10 → +1, 11 → -1
				br.bits <<= 2
				br.nbits -= 2
			}
			lens[s] = uint8(l)
		}
		if err := d.tables[g].build(lens); err != nil {
			return 0, 0, err
		}
	}
	if br.overrun() {
		return 0, 0, br.endErr()
	}

	n, err = d.decodeSymbols(br, &mtf, alphaSize, nGroups, nSelectors, blockSize)
	if err != nil {
		return 0, 0, err
	}
	if origPtr >= n {
		return 0, 0, corruptError("origPtr out of range")
	}
	d.origPtr = origPtr
	return n, wantCRC, nil
}

// decodeSymbols decodes the Huffman-coded MTF/RLE2 symbols into d.runs and
// d.counts. It returns the block length.
func (d *blockDecoder) decodeSymbols(br *bitReader, mtf *[256]byte, alphaSize, nGroups, nSelectors, blockSize int) (int, error) {
	clear(d.counts[:])
	counts := &d.counts
	runs := d.runs
	nr := 0 // entries in runs

	eob := uint(alphaSize - 1)
	total := 0 // bytes in the runs emitted so far
	cur := uint32(0)
	curByte := mtf[0]
	run := uint32(0) // RUNA/RUNB accumulator
	runShift := uint(0)

	bits, nbits := br.bits, br.nbits
	buf, pos, end := br.buf, br.pos, br.end

	for gsel := 0; ; gsel++ {
		if gsel >= nSelectors {
			br.bits, br.nbits, br.pos = bits, nbits, pos
			return 0, corruptError("ran out of selectors")
		}
		sel := d.selectors[gsel]
		if int(sel) >= nGroups {
			br.bits, br.nbits, br.pos = bits, nbits, pos
			return 0, corruptError("bad selector")
		}
		t := &d.tables[sel]
		for k := 0; k < 50; k++ {
			if nbits < maxCodeLen {
				if pos+8 <= end {
					bits |= binary.BigEndian.Uint64(buf[pos:]) >> nbits
					pos += int(63-nbits) >> 3
					nbits |= 56
				} else {
					br.bits, br.nbits, br.pos = bits, nbits, pos
					br.refillSlow()
					if br.overrun() {
						return 0, br.endErr()
					}
					bits, nbits = br.bits, br.nbits
					buf, pos, end = br.buf, br.pos, br.end
				}
			}
			e := t.fast[bits>>(64-fastBits)]
			sym, l := uint(e&511), uint(e>>9)
			if l == 0 {
				sym, l = t.slow(bits)
				if l == 0 {
					br.bits, br.nbits, br.pos = bits, nbits, pos
					return 0, corruptError("invalid Huffman code")
				}
			}
			bits <<= l
			nbits -= l

			if sym <= 1 {
				// RUNA (1) / RUNB (2) digit of a bijective base-2 run
				// length of the front byte.
				run += uint32(sym+1) << runShift
				runShift++
				if runShift > 24 {
					br.bits, br.nbits, br.pos = bits, nbits, pos
					return 0, corruptError("run too long")
				}
				continue
			}
			if run > 0 {
				cur += run
				run, runShift = 0, 0
				if cur > uint32(blockSize-total) {
					br.bits, br.nbits, br.pos = bits, nbits, pos
					return 0, corruptError("block too long")
				}
			}
			if sym == eob {
				if cur > 0 {
					if nr >= len(runs) {
						if runs = d.growRuns(blockSize); nr >= len(runs) {
							br.bits, br.nbits, br.pos = bits, nbits, pos
							return 0, corruptError("block too long")
						}
					}
					runs[nr] = cur<<8 | uint32(curByte)
					nr++
					counts[curByte] += cur
					total += int(cur)
				}
				br.bits, br.nbits, br.pos = bits, nbits, pos
				if br.overrun() {
					return 0, br.endErr()
				}
				d.nruns = nr
				return total, nil
			}
			// A byte from the MTF list: it always differs from the
			// front byte, so it ends the current run.
			if cur > 0 {
				if nr >= len(runs) {
					if runs = d.growRuns(blockSize); nr >= len(runs) {
						br.bits, br.nbits, br.pos = bits, nbits, pos
						return 0, corruptError("block too long")
					}
				}
				runs[nr] = cur<<8 | uint32(curByte)
				nr++
				counts[curByte] += cur
				total += int(cur)
			}
			if total >= blockSize {
				br.bits, br.nbits, br.pos = bits, nbits, pos
				return 0, corruptError("block too long")
			}
			idx := sym - 1
			if idx < 8 {
				w := binary.LittleEndian.Uint64(mtf[:8])
				curByte = byte(w >> (idx * 8))
				mask := ^uint64(0) >> (56 - idx*8)
				w = w&^mask | (w<<8|uint64(curByte))&mask
				binary.LittleEndian.PutUint64(mtf[:8], w)
			} else {
				curByte = mtf[idx&255]
				copy(mtf[1:idx+1], mtf[:idx])
				mtf[0] = curByte
			}
			cur = 1
		}
	}
}

// buildTT makes the inverse-BWT vector of the n bytes described by d.runs
// and d.counts, and samples start rows for multiChain.
func (d *blockDecoder) buildTT(n int) {
	// cftab[c]: the first row of the sorted matrix starting with c.
	var cftab [256]uint32
	sum := uint32(0)
	for c, k := range d.counts {
		cftab[c] = sum
		sum += k
	}

	// Build tt: row j = LF(i) gets i<<8 | L[i], so following tt from a
	// row yields the text forwards. Rows of the L column come as runs.
	//
	// For the multi-chain traversal, also note LF of every step-th row.
	step, nstarts := 0, 0
	if n >= multiChainMin {
		nstarts = maxStarts
		step = n / nstarts
	}
	lfs := d.startLF[:nstarts]
	next, k := 0, 0 // next sampled row, its index in lfs
	if step == 0 {
		next = n
	}
	// limit[c]: the end of c's rows. A run far enough from it is
	// written 8 entries at a time; entries past the run are rewritten by
	// c's later runs.
	var limit [256]uint32
	for c := range limit {
		limit[c] = cftab[c] + d.counts[c]
	}
	tt := d.tt[:n]
	i := uint32(0)
	runs := d.runs[:d.nruns]
	for _, r := range runs {
		c := r & 0xff
		l := r >> 8
		j := cftab[c]
		cftab[c] = j + l
		v := i<<8 | c
		if j+l+7 < limit[c] {
			for dst := tt[j : j+l+7]; ; {
				dst = dst[:8]
				dst[0] = v
				dst[1] = v + 1<<8
				dst[2] = v + 2<<8
				dst[3] = v + 3<<8
				dst[4] = v + 4<<8
				dst[5] = v + 5<<8
				dst[6] = v + 6<<8
				dst[7] = v + 7<<8
				if l <= 8 {
					break
				}
				l -= 8
				v += 8 << 8
				dst = dst[8:cap(dst)]
			}
			l = r >> 8
		} else {
			dst := tt[j : j+l]
			for k := range dst {
				dst[k] = v
				v += 1 << 8
			}
		}
		for next < int(i+l) {
			lfs[k] = j + uint32(next) - i
			k++
			next += step
			if k == nstarts {
				next = n
			}
		}
		i += l
	}

	d.nstarts = nstarts
}

// traverse follows tt to write the block's bytes to d.out.
func (d *blockDecoder) traverse(n, origPtr int) {
	if d.nstarts > 0 && d.multiChain(n, origPtr) {
		return
	}
	d.singleChain(n, origPtr)
}

func (d *blockDecoder) singleChain(n, origPtr int) {
	tt := d.tt[:n]
	out := d.out[:n]
	x := tt[origPtr]
	for k := range out {
		out[k] = byte(x)
		x = tt[x>>8]
	}
}

const (
	// multiChainMin is the smallest block for which the traversal runs
	// several chains at once; below it tt fits in the L2 cache anyway.
	multiChainMin = 1 << 16
	// maxStarts is how many segments a large block is cut into.
	maxStarts = 1024
	// lanes is how many chains run side by side.
	lanes = 16
	flag  = 1 << 31
)

type segment struct {
	lf         uint32 // LF of the start row: tt[lf] points at it
	row        uint32 // the row the segment starts at
	lane       int32
	begin, end int32  // where its bytes are in the lane's buffer
	next       uint32 // the row of the segment that follows it
}

// multiChain inverts the BWT with several pointer chases in flight at once.
//
// Following tt from one row is a chain of dependent loads, and for a large
// block most of them miss the L2 cache; running independent chains side by
// side overlaps those misses. The text positions of rows are unknown, so
// chains start at sampled rows, each stops where another segment starts
// (the tt entries pointing at a start row are flagged in bit 31), and the
// segments are put in order by following which start each one ran into,
// beginning at the text's first row.
//
// It reports false, leaving d.out to the plain traversal, if the segments do
// not link up into the whole block (as for periodic blocks, whose tt has
// several cycles) or a lane's buffer would overflow.
func (d *blockDecoder) multiChain(n, origPtr int) bool {
	tt := d.tt[:n+1]
	tt[n] = uint32(n) << 8 // a row that leads to itself, for idle lanes
	lfs := d.startLF[:d.nstarts]

	// Segments sorted by start row: the sampled rows are increasing; the
	// text's first row (the one after origPtr) goes in its place.
	segs := d.segs[:0]
	first := tt[origPtr] >> 8
	added := false
	for _, p := range lfs {
		row := tt[p] >> 8
		if !added && row >= first {
			added = true
			if row != first {
				segs = append(segs, segment{lf: uint32(origPtr), row: first})
			}
		}
		segs = append(segs, segment{lf: p, row: row})
	}
	if !added {
		segs = append(segs, segment{lf: uint32(origPtr), row: first})
	}
	d.segs = segs
	for i := range segs {
		tt[segs[i].lf] |= flag
	}
	defer func() {
		for i := range segs {
			tt[segs[i].lf] &^= flag
		}
	}()

	// Lane l writes its segments one after another to
	// scratch[l*c:(l+1)*c]. All lanes advance one byte per step, so they
	// share the position k.
	c := len(d.scratch) / lanes
	if c > n {
		c = n
	}
	scratch := d.scratch[:lanes*c]
	var cur [lanes]int // the segment each lane runs; -1 when idle
	var xs [lanes]uint32
	nextSeg, active := 0, 0
	// x>>8 is a lane's current row and byte(x) the byte to output.
	for l := range xs {
		if nextSeg < len(segs) {
			s := &segs[nextSeg]
			s.lane, s.begin = int32(l), 0
			cur[l] = nextSeg
			xs[l] = tt[s.lf] &^ flag
			nextSeg++
			active++
		} else {
			cur[l] = -1
			xs[l] = uint32(n) << 8
		}
	}
	k := 0
	for active > 0 {
		x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15 := xs[0], xs[1], xs[2], xs[3], xs[4], xs[5], xs[6], xs[7], xs[8], xs[9], xs[10], xs[11], xs[12], xs[13], xs[14], xs[15]
		for {
			if uint(k) >= uint(c) {
				return false
			}
			o := scratch[k:]
			_ = o[15*c]
			o[0] = byte(x0)
			o[1*c] = byte(x1)
			o[2*c] = byte(x2)
			o[3*c] = byte(x3)
			o[4*c] = byte(x4)
			o[5*c] = byte(x5)
			o[6*c] = byte(x6)
			o[7*c] = byte(x7)
			o[8*c] = byte(x8)
			o[9*c] = byte(x9)
			o[10*c] = byte(x10)
			o[11*c] = byte(x11)
			o[12*c] = byte(x12)
			o[13*c] = byte(x13)
			o[14*c] = byte(x14)
			o[15*c] = byte(x15)
			x0 = tt[x0>>8]
			x1 = tt[x1>>8]
			x2 = tt[x2>>8]
			x3 = tt[x3>>8]
			x4 = tt[x4>>8]
			x5 = tt[x5>>8]
			x6 = tt[x6>>8]
			x7 = tt[x7>>8]
			x8 = tt[x8>>8]
			x9 = tt[x9>>8]
			x10 = tt[x10>>8]
			x11 = tt[x11>>8]
			x12 = tt[x12>>8]
			x13 = tt[x13>>8]
			x14 = tt[x14>>8]
			x15 = tt[x15>>8]
			k++
			if int32(x0|x1|x2|x3|x4|x5|x6|x7|x8|x9|x10|x11|x12|x13|x14|x15) < 0 {
				break
			}
		}
		// Some lanes ran into the start of another segment.
		xs = [lanes]uint32{x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15}
		for l, x := range xs {
			if x&flag == 0 {
				continue
			}
			s := &segs[cur[l]]
			s.end = int32(k)
			s.next = (x &^ flag) >> 8
			if nextSeg < len(segs) {
				s := &segs[nextSeg]
				s.lane, s.begin = int32(l), int32(k)
				cur[l] = nextSeg
				xs[l] = tt[s.lf] &^ flag
				nextSeg++
			} else {
				cur[l] = -1
				xs[l] = uint32(n) << 8
				active--
			}
		}
	}

	// Link the segments in text order.
	out := d.out[:n]
	total := 0
	row := first
	for range segs {
		i := d.findSeg(row)
		if i < 0 {
			return false
		}
		s := &segs[i]
		if s.end <= s.begin || int(s.end-s.begin) > n-total {
			return false
		}
		base := int(s.lane) * c
		total += copy(out[total:], scratch[base+int(s.begin):base+int(s.end)])
		row = s.next
		if row == first {
			break
		}
	}
	return total == n && row == first
}

// findSeg returns the index in d.segs of the segment starting at row, or -1.
func (d *blockDecoder) findSeg(row uint32) int {
	segs := d.segs
	lo, hi := 0, len(segs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if segs[m].row < row {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(segs) && segs[lo].row == row {
		return lo
	}
	return -1
}

package bzip2

const (
	maxCodeLen = 20  // longest Huffman code bzip2 allows
	maxAlpha   = 258 // RUNA, RUNB, up to 255 MTF indexes, EOB
	maxGroups  = 6
	// fastBits is the width of the primary decoding table. Codes up to
	// this long decode with one lookup; longer ones take the slow path.
	fastBits = 10
)

// huffTable decodes one of a block's Huffman codes. bzip2's codes are
// canonical: shorter codes come first, and codes of one length are
// assigned in increasing symbol order.
type huffTable struct {
	// fast is indexed by the next fastBits bits. An entry holds the symbol
	// in its low 9 bits and the code length above them; length 0 means
	// the code is longer than fastBits (or invalid).
	fast [1 << fastBits]uint16

	// For the slow path: codes of length l, left-aligned to maxCodeLen
	// bits, are below limit[l]; the first of them is first[l] and its
	// symbol is perm[index[l]].
	limit [maxCodeLen + 1]uint32
	first [maxCodeLen + 1]uint32
	index [maxCodeLen + 1]uint16
	perm  [maxAlpha]uint16
}

// build makes the decoding tables for the code lengths in lens (each in
// 1..20). It rejects over-subscribed codes; incomplete ones are allowed
// (as libbzip2 allows them), the unused codes decoding as errors.
func (t *huffTable) build(lens []uint8) error {
	var count [maxCodeLen + 1]uint16
	for _, l := range lens {
		count[l]++
	}
	left := 1
	for l := 1; l <= maxCodeLen; l++ {
		left = left<<1 - int(count[l])
		if left < 0 {
			return corruptError("over-subscribed Huffman code")
		}
	}
	var offs [maxCodeLen + 2]uint16
	for l := 1; l <= maxCodeLen; l++ {
		offs[l+1] = offs[l] + count[l]
	}
	code := uint32(0)
	for l := 1; l <= maxCodeLen; l++ {
		t.first[l] = code
		t.index[l] = offs[l]
		code += uint32(count[l])
		t.limit[l] = code << (maxCodeLen - l)
		code <<= 1
	}
	next := offs
	for s, l := range lens {
		t.perm[next[l]] = uint16(s)
		next[l]++
	}

	clear(t.fast[:])
	code = 0
	for l := 1; l <= fastBits; l++ {
		for i := offs[l]; i < offs[l+1]; i++ {
			c := t.first[l] + uint32(i-offs[l])
			e := t.perm[i] | uint16(l)<<9
			lo := c << (fastBits - l)
			hi := lo + 1<<(fastBits-l)
			for j := lo; j < hi; j++ {
				t.fast[j] = e
			}
		}
	}
	return nil
}

// slow decodes a code longer than fastBits from the left-aligned bits v.
// It returns the symbol and code length, or length 0 for an invalid code.
func (t *huffTable) slow(v uint64) (sym uint, n uint) {
	c := uint32(v >> (64 - maxCodeLen))
	for l := uint(fastBits + 1); l <= maxCodeLen; l++ {
		if c < t.limit[l] {
			idx := uint32(t.index[l]) + c>>(maxCodeLen-l) - t.first[l]
			if idx >= maxAlpha {
				return 0, 0
			}
			return uint(t.perm[idx]), l
		}
	}
	return 0, 0
}

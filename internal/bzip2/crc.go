package bzip2

import "encoding/binary"

// bzip2 uses the CRC-32 polynomial 0x04C11DB7 processed most significant bit
// first (the "non-reflected" form, as in POSIX cksum), with the register
// preset to all ones and inverted at the end.

var crcTab [8][256]uint32

func init() {
	const poly = 0x04C11DB7
	for i := range crcTab[0] {
		c := uint32(i) << 24
		for j := 0; j < 8; j++ {
			if c&0x80000000 != 0 {
				c = c<<1 ^ poly
			} else {
				c <<= 1
			}
		}
		crcTab[0][i] = c
	}
	for k := 1; k < 8; k++ {
		for i := range crcTab[k] {
			c := crcTab[k-1][i]
			crcTab[k][i] = c<<8 ^ crcTab[0][c>>24]
		}
	}
}

// crcUpdate feeds p into the raw (not inverted) CRC register crc.
// Start with 0xFFFFFFFF and invert the result to get bzip2's CRC.
func crcUpdate(crc uint32, p []byte) uint32 {
	t := &crcTab
	for len(p) >= 8 {
		crc ^= binary.BigEndian.Uint32(p)
		crc = t[7][crc>>24] ^ t[6][byte(crc>>16)] ^ t[5][byte(crc>>8)] ^ t[4][byte(crc)] ^
			t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]]
		p = p[8:]
	}
	for _, b := range p {
		crc = crc<<8 ^ t[0][byte(crc>>24)^b]
	}
	return crc
}

package esa

import "math"

// This file holds the fast path for runner changes, where nearly all of a
// market stream's bytes are. It handles the compact form every recorder and
// Betfair itself writes (no whitespace, plain decimals, known keys) in one
// function with the scan position in a register, and gives up, having
// changed nothing that matters, on anything else: the careful path in
// decode_market.go then decodes the same bytes and reports any error.

// Runner-change keys packed little-endian into a word, so that a key is
// matched with one integer comparison instead of string compares.
const (
	kAtb   = 'a' | 't'<<8 | 'b'<<16
	kAtl   = 'a' | 't'<<8 | 'l'<<16
	kTrd   = 't' | 'r'<<8 | 'd'<<16
	kSpb   = 's' | 'p'<<8 | 'b'<<16
	kSpl   = 's' | 'p'<<8 | 'l'<<16
	kSpn   = 's' | 'p'<<8 | 'n'<<16
	kSpf   = 's' | 'p'<<8 | 'f'<<16
	kLtp   = 'l' | 't'<<8 | 'p'<<16
	kTv    = 't' | 'v'<<8
	kID    = 'i' | 'd'<<8
	kHc    = 'h' | 'c'<<8
	kBatb  = 'b' | 'a'<<8 | 't'<<16 | 'b'<<24
	kBatl  = 'b' | 'a'<<8 | 't'<<16 | 'l'<<24
	kBdatb = 'b' | 'd'<<8 | 'a'<<16 | 't'<<24 | 'b'<<32
	kBdatl = 'b' | 'd'<<8 | 'a'<<16 | 't'<<24 | 'l'<<32
)

// fastRunnerChange decodes a compact runner-change object at d.i into rc
// (already reset) and reports whether it could. On false, d.i is unchanged
// and rc may be partly filled; Fields then names every ladder touched, so
// resetRunnerChange clears it again.
func (d *Decoder) fastRunnerChange(rc *RunnerChange) bool {
	b := d.b
	i := d.i
	if i+1 >= len(b) || b[i] != '{' {
		return false
	}
	i++
	if b[i] == '}' {
		d.i = i + 1
		return true
	}
	for {
		// The key: at most 8 plain bytes, packed into w.
		if i >= len(b) || b[i] != '"' {
			return false
		}
		i++
		var w uint64
		n := 0
		for {
			if i >= len(b) || n > 8 {
				return false
			}
			c := b[i]
			if c == '"' {
				break
			}
			if c == '\\' || c >= 0x80 {
				return false
			}
			w |= uint64(c) << (8 * n)
			n++
			i++
		}
		if n > 8 || i+2 >= len(b) || b[i+1] != ':' {
			return false
		}
		i += 2
		ok := false
		switch w {
		case kAtb:
			rc.Fields |= FieldAtb
			rc.Atb, i, ok = fastPriceSizes(b, i, rc.Atb[:0])
		case kAtl:
			rc.Fields |= FieldAtl
			rc.Atl, i, ok = fastPriceSizes(b, i, rc.Atl[:0])
		case kID:
			rc.ID, i, ok = fastInt(b, i)
		case kBatb:
			rc.Fields |= FieldBatb
			rc.Batb, i, ok = fastLevels(b, i, rc.Batb[:0])
		case kBatl:
			rc.Fields |= FieldBatl
			rc.Batl, i, ok = fastLevels(b, i, rc.Batl[:0])
		case kTrd:
			rc.Fields |= FieldTrd
			rc.Trd, i, ok = fastPriceSizes(b, i, rc.Trd[:0])
		case kLtp:
			rc.Fields |= FieldLtp
			rc.Ltp, i, ok = fastFloat(b, i)
		case kTv:
			rc.Fields |= FieldTv
			rc.Tv, i, ok = fastFloat(b, i)
		case kSpn:
			rc.Fields |= FieldSpn
			rc.Spn, rc.SpnRaw, i, ok = fastProjected(b, i)
		case kSpf:
			rc.Fields |= FieldSpf
			rc.Spf, rc.SpfRaw, i, ok = fastProjected(b, i)
		case kBdatb:
			rc.Fields |= FieldBdatb
			rc.Bdatb, i, ok = fastLevels(b, i, rc.Bdatb[:0])
		case kBdatl:
			rc.Fields |= FieldBdatl
			rc.Bdatl, i, ok = fastLevels(b, i, rc.Bdatl[:0])
		case kSpb:
			rc.Fields |= FieldSpb
			rc.Spb, i, ok = fastPriceSizes(b, i, rc.Spb[:0])
		case kSpl:
			rc.Fields |= FieldSpl
			rc.Spl, i, ok = fastPriceSizes(b, i, rc.Spl[:0])
		case kHc:
			rc.Fields |= FieldHc
			rc.Hc, i, ok = fastFloat(b, i)
		}
		if !ok || i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			d.i = i + 1
			return true
		default:
			return false
		}
	}
}

// fastInt parses a plain integer of at most 18 digits at b[i:].
func fastInt(b []byte, i int) (int64, int, bool) {
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	start := i
	var v int64
	for i < len(b) && b[i]-'0' <= 9 {
		v = v*10 + int64(b[i]-'0')
		i++
	}
	n := i - start
	if n == 0 || n > 18 || (n > 1 && b[start] == '0') {
		return 0, i, false
	}
	if i < len(b) {
		if c := b[i]; c == '.' || c == 'e' || c == 'E' {
			return 0, i, false
		}
	}
	if neg {
		v = -v
	}
	return v, i, true
}

// fastProjected parses spn or spf: a plain decimal, "NaN" or "Infinity".
func fastProjected(b []byte, i int) (float64, []byte, int, bool) {
	if i < len(b) && b[i] == '"' {
		switch {
		case i+5 <= len(b) && string(b[i:i+5]) == `"NaN"`:
			return math.NaN(), b[i+1 : i+4 : i+4], i + 5, true
		case i+10 <= len(b) && string(b[i:i+10]) == `"Infinity"`:
			return math.Inf(1), b[i+1 : i+9 : i+9], i + 10, true
		}
		return 0, nil, i, false
	}
	f, end, ok := fastFloat(b, i)
	if !ok {
		return 0, nil, i, false
	}
	return f, b[i:end:end], end, true
}

// fastPriceSizes parses a compact [[price,size],...] ladder at b[i:].
func fastPriceSizes(b []byte, i int, dst []PriceSize) ([]PriceSize, int, bool) {
	if i+1 >= len(b) || b[i] != '[' {
		return dst, i, false
	}
	i++
	if b[i] == ']' {
		return dst, i + 1, true
	}
	for i < len(b) && b[i] == '[' {
		p, j, ok := fastFloat(b, i+1)
		if !ok || j >= len(b) || b[j] != ',' {
			break
		}
		s, k, ok := fastFloat(b, j+1)
		if !ok || k+1 >= len(b) || b[k] != ']' {
			break
		}
		dst = append(dst, PriceSize{Price: p, Size: s})
		switch b[k+1] {
		case ',':
			i = k + 2
			continue
		case ']':
			return dst, k + 2, true
		}
		break
	}
	return dst, i, false
}

// fastLevels parses a compact [[level,price,size],...] ladder at b[i:];
// levels are single digits, as Betfair's ladders are at most 10 deep.
func fastLevels(b []byte, i int, dst []LevelPriceSize) ([]LevelPriceSize, int, bool) {
	if i+1 >= len(b) || b[i] != '[' {
		return dst, i, false
	}
	i++
	if b[i] == ']' {
		return dst, i + 1, true
	}
	for i+2 < len(b) && b[i] == '[' {
		lv := b[i+1] - '0'
		if lv > 9 || b[i+2] != ',' {
			break
		}
		p, j, ok := fastFloat(b, i+3)
		if !ok || j >= len(b) || b[j] != ',' {
			break
		}
		s, k, ok := fastFloat(b, j+1)
		if !ok || k+1 >= len(b) || b[k] != ']' {
			break
		}
		dst = append(dst, LevelPriceSize{Level: int(lv), Price: p, Size: s})
		switch b[k+1] {
		case ',':
			i = k + 2
			continue
		case ']':
			return dst, k + 2, true
		}
		break
	}
	return dst, i, false
}

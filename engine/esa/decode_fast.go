package esa

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// This file holds the fast path. Nearly every line of a market stream is in
// the compact form Betfair and every recorder write: no whitespace, plain
// decimals, plain strings, known keys. The fast path decodes exactly that,
// passing the scan position from function to function in a register and
// matching keys as packed words, and gives up on anything else. Giving up
// is always safe: the careful path (decode.go, decode_market.go) then
// decodes the whole line again from the start and reports any error, so
// the fast path never has to produce one.

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

// Other keys the fast path knows.
const (
	kOp  = 'o' | 'p'<<8
	kClk = 'c' | 'l'<<8 | 'k'<<16
	kPt  = 'p' | 't'<<8
	kCt  = 'c' | 't'<<8
	kCon = 'c' | 'o'<<8 | 'n'<<16
	kMc  = 'm' | 'c'<<8
	kRc  = 'r' | 'c'<<8
	kImg = 'i' | 'm'<<8 | 'g'<<16
)

// keyLong marks a key of more than 8 bytes in what fastKey returns.
const keyLong = 1<<64 - 1

// fastKey reads the member name at b[i] (its opening quote) and the ':'
// after it. Names up to 8 bytes come back packed little-endian in w; longer
// ones as keyLong with next at the opening quote, for the caller to
// compare. A name holding an escape or non-ASCII byte packs to a word no
// known key has, which sends the caller to the careful path.
func fastKey(b []byte, i int) (w uint64, next int, ok bool) {
	if i+10 > len(b) || b[i] != '"' {
		return 0, i, false
	}
	w = binary.LittleEndian.Uint64(b[i+1:])
	// Find the first '"' among the 8 bytes (the classic has-zero-byte
	// trick on w XOR '"'; the lowest flagged byte is always exact).
	x := w ^ 0x2222222222222222
	t := (x - 0x0101010101010101) &^ x & 0x8080808080808080
	if t == 0 {
		return keyLong, i, true
	}
	n := bits.TrailingZeros64(t) >> 3
	if b[i+1+n+1] != ':' {
		return 0, i, false
	}
	return w & (1<<(8*n) - 1), i + n + 3, true
}

// SWAR ("SIMD within a register") helpers: eight bytes of the line are
// loaded into one word, first byte lowest, and tested at once.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// zeroBytes flags (high bit) the bytes of x that are zero. Only the lowest
// flag is exact (a borrow can flag a byte above a zero one), which is all
// the callers use.
func zeroBytes(x uint64) uint64 { return (x - ones) &^ x & highs }

// leadingDigits returns how many of the bytes of w, from the lowest, are
// ASCII digits (8 when all are), and the value of those digits.
func leadingDigits(w uint64) (n int, v uint64) {
	x := w - 0x30*ones
	// A byte is not a digit when x >= 10 there (bytes below '0' wrap to
	// >= 0xd0); carries only ever flag bytes above a non-digit.
	t := ((x + 0x76*ones) | x) & highs
	n = bits.TrailingZeros64(t) >> 3
	if n == 0 {
		return 0, 0
	}
	// Shift the n digits to the top: the bytes below become leading zeros.
	x <<= 64 - 8*uint(n)
	// Combine pairs, then quads, then the two halves (as simdjson does).
	x = x*10 + x>>8
	x = ((x&0x000000FF000000FF)*(100+1000000<<32) + (x>>16&0x000000FF000000FF)*(1+10000<<32)) >> 32
	return n, x
}

// pow10u holds the powers of ten up to 10^8 as integers.
var pow10u = [...]uint64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// fastInt parses a plain integer of at most 18 digits at b[i:].
func fastInt(b []byte, i int) (int64, int, bool) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	if j+9 > len(b) {
		return fastIntLoop(b, i)
	}
	n, v := leadingDigits(binary.LittleEndian.Uint64(b[j:]))
	if n == 8 && b[j+8]-'0' <= 9 {
		if j+16 > len(b) {
			return fastIntLoop(b, i)
		}
		n2, v2 := leadingDigits(binary.LittleEndian.Uint64(b[j+8:]))
		if n2 == 8 {
			return fastIntLoop(b, i)
		}
		v = v*pow10u[n2] + v2
		n += n2
	}
	if n == 0 || (n > 1 && b[j] == '0') {
		return 0, i, false
	}
	end := j + n
	if end < len(b) {
		if c := b[end]; c == '.' || c == 'e' || c == 'E' {
			return 0, i, false
		}
	}
	if j != i {
		return -int64(v), end, true
	}
	return int64(v), end, true
}

// fastStr reads a plain string at b[i] (its opening quote): the contents
// must hold no escape and no byte >= 0x80.
func fastStr(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	j := i + 1
	for ; j+8 <= len(b); j += 8 {
		w := binary.LittleEndian.Uint64(b[j:])
		t := zeroBytes(w^('"'*ones)) | zeroBytes(w^('\\'*ones)) | w&highs
		if t != 0 {
			j += bits.TrailingZeros64(t) >> 3
			if b[j] == '"' {
				return b[i+1 : j : j], j + 1, true
			}
			return nil, i, false
		}
	}
	for ; j < len(b); j++ {
		c := b[j]
		if c == '"' {
			return b[i+1 : j : j], j + 1, true
		}
		if c == '\\' || c >= 0x80 {
			break
		}
	}
	return nil, i, false
}

// fastBool reads true or false at b[i].
func fastBool(b []byte, i int) (v bool, next int, ok bool) {
	if i+4 <= len(b) && string(b[i:i+4]) == "true" {
		return true, i + 4, true
	}
	if i+5 <= len(b) && string(b[i:i+5]) == "false" {
		return false, i + 5, true
	}
	return false, i, false
}

// fastMessage decodes a compact mcm line (or a heartbeat, or the top of
// any line with only the keys below) into m, which has been reset.
func (d *Decoder) fastMessage(m *Message) bool {
	b := d.b
	if len(b) < 2 || b[0] != '{' {
		return false
	}
	i := 1
	afterValue := false // i is just past a value, at ',' or '}'
	// Nearly every line starts {"op":"mcm","clk":"...","pt":...,"mc":[
	// and that envelope is matched as a whole rather than key by key.
	if len(b) > 40 && string(b[:19]) == `{"op":"mcm","clk":"` {
		if clk, j, ok := fastStr(b, 18); ok && hasKey(b, j, `,"pt":`) {
			if pt, k, ok := fastInt(b, j+6); ok && hasKey(b, k, `,"mc":[`) {
				m.Op, m.Clk, m.Pt = OpMCM, clk, pt
				if i, ok = d.fastMarketChanges(m, b, k+6); !ok {
					return false
				}
				afterValue = true
			}
		}
	}
	for {
		if afterValue {
			if i >= len(b) {
				return false
			}
			if b[i] == '}' {
				// Only whitespace may follow ("\n", "\r\n").
				for i++; i < len(b); i++ {
					if c := b[i]; c != '\n' && c != '\r' && c != ' ' && c != '\t' {
						return false
					}
				}
				d.i = i
				return true
			}
			if b[i] != ',' {
				return false
			}
			i++
		}
		afterValue = true
		w, next, ok := fastKey(b, i)
		if !ok {
			return false
		}
		i = next
		switch w {
		case kOp:
			var s []byte
			s, i, ok = fastStr(b, i)
			m.Op = parseOp(s)
			if m.Op != OpMCM && m.Op != OpOCM {
				return false
			}
		case kClk:
			m.Clk, i, ok = fastStr(b, i)
		case kPt:
			m.Pt, i, ok = fastInt(b, i)
		case kID:
			m.ID, i, ok = fastInt(b, i)
			m.HasID = true
		case kCt:
			var s []byte
			s, i, ok = fastStr(b, i)
			m.Ct = parseChangeType(s)
		case kCon:
			m.Con, i, ok = fastBool(b, i)
		case kMc:
			i, ok = d.fastMarketChanges(m, b, i)
		case keyLong:
			switch {
			case hasKey(b, i, `"initialClk":`):
				m.InitialClk, i, ok = fastStr(b, i+len(`"initialClk":`))
			case hasKey(b, i, `"heartbeatMs":`):
				m.HeartbeatMs, i, ok = fastInt(b, i+len(`"heartbeatMs":`))
			case hasKey(b, i, `"conflateMs":`):
				m.ConflateMs, i, ok = fastInt(b, i+len(`"conflateMs":`))
			default:
				return false
			}
		default:
			return false
		}
		if !ok {
			return false
		}
	}
}

// hasKey reports whether b[i:] starts with the quoted key and colon k.
func hasKey(b []byte, i int, k string) bool {
	return i+len(k) <= len(b) && string(b[i:i+len(k)]) == k
}

// fastMarketChanges decodes a compact "mc" array at b[i].
func (d *Decoder) fastMarketChanges(m *Message, b []byte, i int) (int, bool) {
	m.MC = m.MC[:0]
	if i+1 >= len(b) || b[i] != '[' {
		return i, false
	}
	i++
	if b[i] == ']' {
		return i + 1, true
	}
	for n := 0; ; n++ {
		if n < cap(m.MC) {
			m.MC = m.MC[:n+1]
			mc := &m.MC[n]
			*mc = MarketChange{RC: mc.RC[:0]}
		} else {
			m.MC = append(m.MC, MarketChange{})
		}
		var ok bool
		if i, ok = d.fastMarketChange(&m.MC[n], b, i); !ok || i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i++
		case ']':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// fastMarketChange decodes one compact element of "mc" at b[i]. A market
// definition sends the line to the careful path: definitions are rare and
// allocate anyway.
func (d *Decoder) fastMarketChange(mc *MarketChange, b []byte, i int) (int, bool) {
	start := i
	if i+1 >= len(b) || b[i] != '{' {
		return i, false
	}
	i++
	if b[i] == '}' {
		return i, false // no id: the careful path reports it
	}
	// Most elements start {"id":"...","rc":[ : matched as a whole.
	if hasKey(b, i, `"id":"`) {
		if id, j, ok := fastStr(b, i+5); ok && hasKey(b, j, `,"rc":[`) {
			mc.ID = id
			if i, ok = fastRunnerChanges(mc, b, j+6); !ok || i >= len(b) {
				return i, false
			}
			switch b[i] {
			case ',':
				i++
			case '}':
				if len(mc.ID) == 0 {
					return i, false
				}
				mc.Raw = b[start : i+1 : i+1]
				return i + 1, true
			default:
				return i, false
			}
		}
	}
	for {
		w, next, ok := fastKey(b, i)
		if !ok {
			return i, false
		}
		i = next
		switch w {
		case kID:
			mc.ID, i, ok = fastStr(b, i)
		case kRc:
			i, ok = fastRunnerChanges(mc, b, i)
		case kCon:
			mc.Con, i, ok = fastBool(b, i)
		case kImg:
			mc.Img, i, ok = fastBool(b, i)
		case kTv:
			mc.Tv, i, ok = fastFloat(b, i)
			mc.HasTv = true
		default:
			return i, false
		}
		if !ok || i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			if len(mc.ID) == 0 {
				return i, false // the careful path reports it
			}
			mc.Raw = b[start : i+1 : i+1]
			return i + 1, true
		default:
			return i, false
		}
	}
}

// fastRunnerChanges decodes a compact "rc" array at b[i], reusing mc.RC's
// elements and their ladders.
func fastRunnerChanges(mc *MarketChange, b []byte, i int) (int, bool) {
	mc.RC = mc.RC[:0]
	if i+1 >= len(b) || b[i] != '[' {
		return i, false
	}
	i++
	if b[i] == ']' {
		return i + 1, true
	}
	for n := 0; ; n++ {
		if n < cap(mc.RC) {
			mc.RC = mc.RC[:n+1]
			resetRunnerChange(&mc.RC[n])
		} else {
			mc.RC = append(mc.RC, RunnerChange{})
		}
		var ok bool
		if i, ok = fastRunnerChange(&mc.RC[n], b, i); !ok || i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i++
		case ']':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// fastRunnerChange decodes a compact runner-change object at b[i] into rc
// (already reset). On failure rc may be partly filled; Fields then names
// every ladder touched, so resetRunnerChange clears it again.
func fastRunnerChange(rc *RunnerChange, b []byte, i int) (int, bool) {
	if i+1 >= len(b) || b[i] != '{' {
		return i, false
	}
	i++
	if b[i] == '}' {
		return i + 1, true
	}
	for {
		w, next, ok := fastKey(b, i)
		if !ok {
			return i, false
		}
		i = next
		ok = false
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
			return i, false
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// fastIntLoop is fastInt a byte at a time, for the end of a line.
func fastIntLoop(b []byte, i int) (int64, int, bool) {
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

package esa

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// This file holds the byte-level scanner the Decoder is built on: whitespace,
// object and array punctuation, strings, numbers and skipping of values the
// decoder does not keep. Every function reads d.b from d.i and leaves d.i
// just past what it consumed. None of them allocates on the success path.

// ws skips JSON whitespace.
func (d *Decoder) ws() {
	b, i := d.b, d.i
	for i < len(b) {
		c := b[i]
		if c > ' ' || (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
			break
		}
		i++
	}
	d.i = i
}

// peek skips whitespace and returns the next byte, or 0 at the end of input.
// The common case, no whitespace, costs one comparison.
func (d *Decoder) peek() byte {
	if i := d.i; i < len(d.b) && d.b[i] > ' ' {
		return d.b[i]
	}
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// null consumes a JSON null if one comes next, reporting whether it did.
// Known keys holding null are treated as absent, as encoding/json does.
func (d *Decoder) null() bool {
	if d.peek() != 'n' {
		return false
	}
	if d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// objStart consumes '{' and reports whether the object has a first member
// (false when it was "{}", whose '}' is then consumed too).
func (d *Decoder) objStart() (bool, error) {
	if d.peek() != '{' {
		return false, d.errf("expected '{'")
	}
	d.i++
	if d.peek() == '}' {
		d.i++
		return false, nil
	}
	return true, nil
}

// objNext consumes the ',' or '}' after a member, reporting whether another
// member follows.
func (d *Decoder) objNext() (bool, error) {
	if i := d.i; i < len(d.b) {
		switch d.b[i] {
		case ',':
			d.i = i + 1
			return true, nil
		case '}':
			d.i = i + 1
			return false, nil
		}
	}
	switch d.peek() {
	case ',':
		d.i++
		return true, nil
	case '}':
		d.i++
		return false, nil
	}
	return false, d.errf("expected ',' or '}'")
}

// arrStart consumes '[' and reports whether the array has a first element.
func (d *Decoder) arrStart() (bool, error) {
	if d.peek() != '[' {
		return false, d.errf("expected '['")
	}
	d.i++
	if d.peek() == ']' {
		d.i++
		return false, nil
	}
	return true, nil
}

// arrNext consumes the ',' or ']' after an element, reporting whether another
// element follows.
func (d *Decoder) arrNext() (bool, error) {
	if i := d.i; i < len(d.b) {
		switch d.b[i] {
		case ',':
			d.i = i + 1
			return true, nil
		case ']':
			d.i = i + 1
			return false, nil
		}
	}
	switch d.peek() {
	case ',':
		d.i++
		return true, nil
	case ']':
		d.i++
		return false, nil
	}
	return false, d.errf("expected ',' or ']'")
}

// key reads a member name and the ':' after it. The result aliases the line
// or, for a name with escapes, the decoder's key scratch buffer.
func (d *Decoder) key() ([]byte, error) {
	// Fast path: a short plain name followed directly by ':'.
	b, i := d.b, d.i
	if i < len(b) && b[i] == '"' {
		for j := i + 1; j < len(b); j++ {
			c := b[j]
			if c == '"' {
				if j+1 < len(b) && b[j+1] == ':' {
					d.i = j + 2
					return b[i+1 : j], nil
				}
				break
			}
			if c == '\\' || c >= utf8.RuneSelf {
				break
			}
		}
	}
	if d.peek() != '"' {
		return nil, d.errf("expected string key")
	}
	raw, plain, err := d.rawString()
	if err != nil {
		return nil, err
	}
	if !plain {
		d.keyBuf = unescape(d.keyBuf[:0], raw)
		raw = d.keyBuf
	}
	if d.peek() != ':' {
		return nil, d.errf("expected ':'")
	}
	d.i++
	return raw, nil
}

// rawString consumes a string (d.i at its opening quote) and returns its
// contents without the quotes. plain is false when the contents hold an
// escape or a byte >= 0x80, in which case they need unescape before use.
func (d *Decoder) rawString() (raw []byte, plain bool, err error) {
	b := d.b
	start := d.i + 1
	plain = true
	for i := start; i < len(b); i++ {
		c := b[i]
		if c == '"' {
			d.i = i + 1
			return b[start:i], plain, nil
		}
		if c == '\\' {
			plain = false
			i++ // the escaped byte cannot end the string
		} else if c >= utf8.RuneSelf {
			plain = false
		}
	}
	d.i = len(b)
	return nil, false, d.errAt(start-1, "unterminated string")
}

// str reads a string value whose bytes are kept in the Message: the result
// aliases the line when it has no escapes, else the decoder's string scratch
// buffer (valid until the next Decode, like the line).
func (d *Decoder) str() ([]byte, error) {
	if d.peek() != '"' {
		return nil, d.errf("expected string")
	}
	raw, plain, err := d.rawString()
	if err != nil || plain {
		return raw, err
	}
	n := len(d.strBuf)
	d.strBuf = unescape(d.strBuf, raw)
	// Full slice expression: a later append must not write through it.
	return d.strBuf[n:len(d.strBuf):len(d.strBuf)], nil
}

// tmpStr reads a string value that is only looked at, not kept: the result
// is valid until the next tmpStr call.
func (d *Decoder) tmpStr() ([]byte, error) {
	if d.peek() != '"' {
		return nil, d.errf("expected string")
	}
	raw, plain, err := d.rawString()
	if err != nil || plain {
		return raw, err
	}
	d.tmpBuf = unescape(d.tmpBuf[:0], raw)
	return d.tmpBuf, nil
}

// goString reads a string value into a Go string, interned so that the
// statuses, dates and names repeated in every market definition share one
// allocation.
func (d *Decoder) goString() (string, error) {
	b, err := d.tmpStr()
	if err != nil {
		return "", err
	}
	return d.internBytes(b), nil
}

// maxIntern bounds the intern table; it is emptied when full, so unique
// strings such as bet ids cannot make it grow without limit.
const maxIntern = 1 << 14

func (d *Decoder) internBytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	if d.intern == nil || len(d.intern) >= maxIntern {
		d.intern = make(map[string]string, 256)
	}
	s := string(b)
	d.intern[s] = s
	return s
}

// unescape appends the decoded contents of a JSON string to dst, replacing
// invalid UTF-8 and unpaired surrogates with U+FFFD as encoding/json does.
func unescape(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c == '\\' {
			if i+1 >= len(s) {
				return utf8.AppendRune(dst, utf8.RuneError)
			}
			switch s[i+1] {
			case '"', '\\', '/':
				dst = append(dst, s[i+1])
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r, ok := hex4(s, i+2)
				if !ok {
					dst = utf8.AppendRune(dst, utf8.RuneError)
					i += 2
					continue
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if r2, ok := hex4(s, i+2); ok && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							dst = utf8.AppendRune(dst, dec)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default:
				dst = utf8.AppendRune(dst, utf8.RuneError)
			}
			i += 2
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

// hex4 decodes the four hex digits at s[i:i+4].
func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// boolean reads true or false.
func (d *Decoder) boolean() (bool, error) {
	switch d.peek() {
	case 't':
		if d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "true" {
			d.i += 4
			return true, nil
		}
	case 'f':
		if d.i+5 <= len(d.b) && string(d.b[d.i:d.i+5]) == "false" {
			d.i += 5
			return false, nil
		}
	}
	return false, d.errf("expected true or false")
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// numberEnd returns the end of the number token starting at i: the bytes a
// JSON number can hold. The token is validated by whoever parses it.
func numberEnd(b []byte, i int) int {
	for i < len(b) {
		c := b[i]
		if (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E' {
			i++
			continue
		}
		break
	}
	return i
}

// float reads a number. Decimals with a mantissa below 2^53 and a power of
// ten up to 22 (every price and size Betfair sends) are exact with one
// multiply or divide, because both operands are exact float64s and IEEE
// rounds the single operation correctly (Clinger's fast path); anything
// else goes to strconv.ParseFloat, so the result always equals it.
func (d *Decoder) float() (float64, error) {
	if d.peek() == '"' {
		return 0, d.errf("expected number")
	}
	if f, end, ok := fastFloat(d.b, d.i); ok && !numberByte(d.b, end) {
		d.i = end
		return f, nil
	}
	return d.floatSlow(d.i)
}

// numberByte reports whether b[i] could continue a number (fastFloat stops
// before an exponent, which the careful path must then read).
func numberByte(b []byte, i int) bool {
	if i >= len(b) {
		return false
	}
	c := b[i]
	return c == 'e' || c == 'E' || c == '.' || c == '-' || c == '+' || c-'0' <= 9
}

// fastFloat parses the plain decimal at b[i:] like fastFloatPlain, but
// eight bytes at a time when the number (without its sign) has at most 7
// bytes, as nearly all prices and sizes do: the '.' is found, squeezed out,
// and the digits converted with one multiply chain.
func fastFloat(b []byte, i int) (f float64, end int, ok bool) {
	j := i
	if j+9 > len(b) {
		return fastFloatPlain(b, i)
	}
	neg := b[j] == '-'
	if neg {
		j++
	}
	w := binary.LittleEndian.Uint64(b[j:])
	x := w - 0x30*ones
	t := bits.TrailingZeros64(((x+0x76*ones)|x)&highs) >> 3 // first non-digit
	if uint(t-1) >= 7 || (t > 1 && w&0xff == '0') {         // none, 8+ digits, leading zero
		return fastFloatPlain(b, i)
	}
	if (w>>(8*uint(t)))&0xff != '.' {
		f = float64(int64(swarDigits(x, t)))
		if neg {
			f = -f
		}
		return f, j + t, true
	}
	// Turn the '.' into a '0' and find the end of the fraction.
	x = (w ^ 0x1e<<(8*uint(t))) - 0x30*ones
	t2 := bits.TrailingZeros64(((x+0x76*ones)|x)&highs) >> 3
	if t2 == t+1 || t2 >= 8 { // no fraction digit, or the number goes on
		return fastFloatPlain(b, i)
	}
	// Squeeze out the '.': the fraction digits move down one byte.
	low := uint64(1)<<(8*uint(t)) - 1
	x = x&low | x>>8&^low
	f = float64(int64(swarDigits(x, t2-1))) / pow10f16[(t2-t-1)&15]
	if neg {
		f = -f
	}
	return f, j + t2, true
}

// swarDigits converts the n (1..7) lowest bytes of x, digit values 0..9 with
// the most significant lowest, to their value.
func swarDigits(x uint64, n int) uint64 {
	x <<= 64 - 8*uint(n)
	x = x*10 + x>>8
	return ((x&0x000000FF000000FF)*(100+1000000<<32) + (x>>16&0x000000FF000000FF)*(1+10000<<32)) >> 32
}

// fastFloatPlain parses the plain decimal at b[i:] (optional '-', digits,
// optional fraction, no exponent) of at most 15 digits, whose mantissa is
// therefore exact in a float64: one division by an exact power of ten then
// gives the correctly rounded result (Clinger's fast path). Anything else
// goes to fastFloatLoop. Unlike fastFloatLoop it does not look at the byte
// after the number: every caller checks that it is the delimiter it
// expects (so "1.5e3" stops at 'e' and the caller gives up). Prices and
// sizes are short, so a plain loop beats eight-bytes-at-a-time here.
func fastFloatPlain(b []byte, i int) (f float64, end int, ok bool) {
	if i >= len(b) {
		return 0, i, false
	}
	j := i
	neg := b[j] == '-'
	if neg {
		j++
	}
	start := j
	var v uint64
	for j < len(b) {
		c := b[j] - '0'
		if c > 9 {
			break
		}
		v = v*10 + uint64(c)
		j++
	}
	n := j - start
	if uint(n-1) >= 15 || (n > 1 && b[start] == '0') { // n == 0 or n > 15
		return fastFloatLoop(b, i)
	}
	if j >= len(b) || b[j] != '.' {
		f = float64(int64(v))
		if neg {
			f = -f
		}
		return f, j, true
	}
	j++
	fs := j
	for j < len(b) {
		c := b[j] - '0'
		if c > 9 {
			break
		}
		v = v*10 + uint64(c)
		j++
	}
	frac := j - fs
	if frac == 0 || n+frac > 15 {
		return fastFloatLoop(b, i)
	}
	f = float64(int64(v)) / pow10f16[frac&15]
	if neg {
		f = -f
	}
	return f, j, true
}

// pow10f16 holds the powers of ten below 10^16, indexed without a bounds
// check.
var pow10f16 = [16]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// fastFloatLoop parses the plain decimal at b[i:] (optional '-', digits,
// optional fraction, no exponent) when Clinger's fast path gives the exact
// result: at most 19 digits, a mantissa of at most 2^53 and at most 22
// fraction digits. ok is false for anything else, including a number that
// is not valid JSON; the caller then takes the careful path.
func fastFloatLoop(b []byte, i int) (f float64, end int, ok bool) {
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	start := i
	var mant uint64
	for i < len(b) && b[i]-'0' <= 9 {
		mant = mant*10 + uint64(b[i]-'0')
		i++
	}
	nd := i - start
	if nd == 0 || (nd > 1 && b[start] == '0') {
		return 0, 0, false
	}
	frac := 0
	if i < len(b) && b[i] == '.' {
		i++
		fs := i
		for i < len(b) && b[i]-'0' <= 9 {
			mant = mant*10 + uint64(b[i]-'0')
			i++
		}
		frac = i - fs
		if frac == 0 {
			return 0, 0, false
		}
		nd += frac
	}
	if nd > 19 || mant > 1<<53 || frac > 22 {
		return 0, 0, false
	}
	if i < len(b) {
		if c := b[i]; c == 'e' || c == 'E' || c == '.' || c == '-' || c == '+' {
			return 0, 0, false
		}
	}
	f = float64(mant)
	if frac > 0 {
		f /= pow10[frac]
	}
	if neg {
		f = -f
	}
	return f, i, true
}

// floatSlow parses the number token at start with strconv.ParseFloat.
func (d *Decoder) floatSlow(start int) (float64, error) {
	end := numberEnd(d.b, start)
	if end == start {
		return 0, d.errf("expected number")
	}
	tok := d.b[start:end]
	if !validJSONNumber(tok) {
		return 0, d.errAt(start, "invalid number")
	}
	// ParseFloat does not keep its argument (errors clone it), so the
	// token can be handed over without copying.
	f, err := strconv.ParseFloat(unsafe.String(&tok[0], len(tok)), 64)
	if err != nil {
		return 0, d.errAt(start, "number out of range")
	}
	d.i = end
	return f, nil
}

// validJSONNumber reports whether tok is a number by JSON's grammar, which
// is stricter than strconv's (no leading zeros, digits after '.', ...).
func validJSONNumber(tok []byte) bool {
	i := 0
	if i < len(tok) && tok[i] == '-' {
		i++
	}
	if i >= len(tok) {
		return false
	}
	if tok[i] == '0' {
		i++
	} else if tok[i] >= '1' && tok[i] <= '9' {
		for i < len(tok) && tok[i] >= '0' && tok[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(tok) && tok[i] == '.' {
		i++
		s := i
		for i < len(tok) && tok[i] >= '0' && tok[i] <= '9' {
			i++
		}
		if i == s {
			return false
		}
	}
	if i < len(tok) && (tok[i] == 'e' || tok[i] == 'E') {
		i++
		if i < len(tok) && (tok[i] == '+' || tok[i] == '-') {
			i++
		}
		s := i
		for i < len(tok) && tok[i] >= '0' && tok[i] <= '9' {
			i++
		}
		if i == s {
			return false
		}
	}
	return i == len(tok)
}

// int64 reads an integer number; a fraction or exponent is an error, as it
// is for encoding/json decoding into an integer.
func (d *Decoder) int64() (int64, error) {
	// Fast path: up to 18 digits (no overflow possible), no leading zero,
	// followed by neither fraction nor exponent.
	b, i := d.b, d.i
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
	if n := i - start; n > 0 && n <= 18 && (n == 1 || b[start] != '0') &&
		(i >= len(b) || (b[i] != '.' && b[i] != 'e' && b[i] != 'E' && b[i] != '-' && b[i] != '+')) {
		d.i = i
		if neg {
			v = -v
		}
		return v, nil
	}
	return d.int64Slow()
}

// int64Slow is int64 for whitespace first, long numbers and errors.
func (d *Decoder) int64Slow() (int64, error) {
	if d.peek() == '"' {
		return 0, d.errf("expected integer")
	}
	b := d.b
	start := d.i
	end := numberEnd(b, start)
	tok := b[start:end]
	if !validJSONNumber(tok) {
		if end == start {
			return 0, d.errf("expected integer")
		}
		return 0, d.errAt(start, "invalid number")
	}
	v, ok := parseInt(tok)
	if !ok {
		return 0, d.errAt(start, "expected integer in int64 range")
	}
	d.i = end
	return v, nil
}

// idInt reads an id that Betfair sends as a number or, in some files, as a
// string of digits ("id": "42153").
func (d *Decoder) idInt() (int64, error) {
	if d.peek() != '"' {
		return d.int64()
	}
	start := d.i
	s, err := d.tmpStr()
	if err != nil {
		return 0, err
	}
	v, ok := parseInt(s)
	if !ok {
		return 0, d.errAt(start, "expected integer or string of digits")
	}
	return v, nil
}

// parseInt parses an optionally signed decimal integer that fits int64, the
// same strings strconv.ParseInt(s, 10, 64) accepts.
func parseInt(s []byte) (int64, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, false
	}
	var u uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// skip consumes one value of any type without keeping it, checking that it
// is well-formed JSON. It is iterative, with the open brackets on a stack
// the decoder keeps, so deep nesting costs neither recursion nor
// allocation once the stack has grown.
func (d *Decoder) skip() error {
	stack := d.stack[:0]
	defer func() { d.stack = stack[:0] }()
	for {
		// A value is expected here.
		switch d.peek() {
		case '{':
			d.i++
			if d.peek() == '}' {
				d.i++
				break
			}
			stack = append(stack, '{')
			if err := d.skipKey(); err != nil {
				return err
			}
			continue
		case '[':
			d.i++
			if d.peek() == ']' {
				d.i++
				break
			}
			stack = append(stack, '[')
			continue
		case '"':
			if _, _, err := d.rawString(); err != nil {
				return err
			}
		case 't', 'f':
			if _, err := d.boolean(); err != nil {
				return err
			}
		case 'n':
			if !d.null() {
				return d.errf("expected value")
			}
		default:
			start := d.i
			end := numberEnd(d.b, start)
			if end == start || !validJSONNumber(d.b[start:end]) {
				return d.errf("expected value")
			}
			d.i = end
		}
		// After a value: close brackets until a ',' asks for another.
		for {
			if len(stack) == 0 {
				return nil
			}
			top := stack[len(stack)-1]
			c := d.peek()
			if c == ',' {
				d.i++
				if top == '{' {
					if err := d.skipKey(); err != nil {
						return err
					}
				}
				break
			}
			if (top == '{' && c == '}') || (top == '[' && c == ']') {
				d.i++
				stack = stack[:len(stack)-1]
				continue
			}
			if top == '{' {
				return d.errf("expected ',' or '}'")
			}
			return d.errf("expected ',' or ']'")
		}
	}
}

// skipKey consumes a member name and its ':'.
func (d *Decoder) skipKey() error {
	if d.peek() != '"' {
		return d.errf("expected string key")
	}
	if _, _, err := d.rawString(); err != nil {
		return err
	}
	if d.peek() != ':' {
		return d.errf("expected ':'")
	}
	d.i++
	return nil
}

// skipBalanced skips a value like skip, but an object or array only by
// counting brackets outside strings, without checking what is inside: the
// cheap way for DecodeShallow, which routes the bytes and leaves decoding
// them to whoever reads them.
func (d *Decoder) skipBalanced() error {
	if c := d.peek(); c != '{' && c != '[' {
		return d.skip()
	}
	b := d.b
	start := d.i
	depth := 0
	for i := start; i < len(b); i++ {
		switch b[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				d.i = i + 1
				return nil
			}
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		}
	}
	d.i = len(b)
	return d.errAt(start, "unterminated object or array")
}

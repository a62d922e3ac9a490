package book

import (
	"bytes"
	"unicode/utf8"
)

// Helpers for the few places that need raw JSON: the market-level fields of
// a definition are written to a book exactly as Betfair sent them (so an
// absent key stays null and a value keeps its text), which needs a scanner
// over the definition's top-level members, not a decoder.

// eachMember calls fn with the key (without quotes, escapes left as sent)
// and the raw value of every top-level member of the JSON object obj. It
// stops quietly at malformed input: obj comes from a decoder that already
// validated it.
func eachMember(obj []byte, fn func(key, val []byte)) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return
	}
	i++
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return
		}
		ks := i + 1
		i = skipString(obj, i)
		if i < 0 {
			return
		}
		key := obj[ks : i-1]
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != ':' {
			return
		}
		i = skipSpace(obj, i+1)
		vs := i
		i = skipValue(obj, i)
		if i < 0 {
			return
		}
		fn(key, obj[vs:i])
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != ',' {
			return
		}
		i++
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"',
// or -1.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				if i < 0 {
					return -1
				}
				i--
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	default:
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\n', '\r', '\t':
				return i
			}
			i++
		}
		return i
	}
}

// appendCompact appends the JSON value raw with the whitespace outside
// strings removed, so that a pretty-printed message still makes a one-line
// book, and each byte that is not UTF-8 replaced by \ufffd as encoding/json
// does, so that every reader (Python's json.loads among them) takes the
// line. Stream lines are compact and valid, and take the fast path.
func appendCompact(dst, raw []byte) []byte {
	if !utf8.Valid(raw) {
		return appendCompact(dst, validUTF8(raw))
	}
	if bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') < 0 && bytes.IndexByte(raw, '\t') < 0 {
		return append(dst, raw...)
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case ' ', '\n', '\r', '\t':
			continue
		case '"':
			j := skipString(raw, i)
			if j < 0 {
				j = len(raw)
			}
			dst = append(dst, raw[i:j]...)
			i = j - 1
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// validUTF8 returns raw with each byte that does not start a valid UTF-8
// sequence replaced by the escape \ufffd. Such bytes can only be inside
// strings: the decoder refuses them anywhere else.
func validUTF8(raw []byte) []byte {
	out := make([]byte, 0, len(raw)+16)
	for i := 0; i < len(raw); {
		r, size := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && size == 1 {
			out = append(out, `\ufffd`...)
		} else {
			out = append(out, raw[i:i+size]...)
		}
		i += size
	}
	return out
}

package esa

// Betfair's ids have fixed forms: a market id is digits, a dot and digits
// ("1.197931750"); event, event type and selection ids are digits. Anything
// that names a file or an object key after an id checks it against these
// first: a stream from a private exchange, or a hostile tape served by
// `trade serve`, can send any string.

// maxIDLen bounds an id: Betfair's are a dozen characters.
const maxIDLen = 32

// ValidMarketID reports whether id has the form of a Betfair market id.
func ValidMarketID[T ~string | ~[]byte](id T) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	dot := -1
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && dot < 0:
			dot = i
		default:
			return false
		}
	}
	return dot > 0 && dot < len(id)-1
}

// ValidNumericID reports whether id has the form of a Betfair event, event
// type or selection id: digits only.
func ValidNumericID[T ~string | ~[]byte](id T) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

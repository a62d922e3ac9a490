package engine

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Betfair's limits on the three references an order request carries.
const (
	// MaxStrategyRef is the length limit of customerStrategyRef.
	MaxStrategyRef = 15
	// MaxOrderRef is the length limit of customerOrderRef.
	MaxOrderRef = 32
	// MaxRequestRef is the length limit of a request's customerRef.
	MaxRequestRef = 32
)

// refChar reports whether c is in Betfair's character set for references:
// letters, digits and : - . _ + * ; ~.
func refChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte(":-._+*;~", c) >= 0
}

// CheckRef returns an error naming what (customerOrderRef, say) when ref
// is longer than max or holds a character outside Betfair's set. An empty
// reference is valid: Betfair treats it as none.
func CheckRef(what, ref string, max int) error {
	if len(ref) > max {
		return fmt.Errorf("%s %q is %d characters, over Betfair's limit of %d", what, ref, len(ref), max)
	}
	for i := 0; i < len(ref); i++ {
		if !refChar(ref[i]) {
			return fmt.Errorf("%s %q: character %q at %d is not allowed (letters, digits and :-._+*;~ only)", what, ref, ref[i], i)
		}
	}
	return nil
}

// StrategyRef derives a strategy's customerStrategyRef from its name: the
// name itself when it fits (at most 15 characters of Betfair's set), else
// its first characters with every character outside the set replaced by
// '_'. A name that had to be changed and is still longer than 15 keeps 10
// characters and gains '~' and 4 hex digits of the name's hash, so two long
// names sharing a prefix still get different references.
func StrategyRef(name string) string {
	b := []byte(name)
	changed := false
	for i, c := range b {
		if !refChar(c) {
			b[i] = '_'
			changed = true
		}
	}
	if len(b) <= MaxStrategyRef {
		return string(b)
	}
	if !changed {
		// flumine's rule: the first 15 characters; backtest results keep it.
		return string(b[:MaxStrategyRef])
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("%s~%04x", b[:10], h.Sum32()&0xffff)
}

// StrategyRefs derives the references of several strategies run by one
// process and fails when two of them would share one: orders are told
// apart, and adopted after a restart, by this reference.
func StrategyRefs(names []string) (map[string]string, error) {
	refs := make(map[string]string, len(names))
	owner := make(map[string]string, len(names))
	for _, n := range names {
		r := StrategyRef(n)
		if o, ok := owner[r]; ok && o != n {
			return nil, fmt.Errorf("strategies %q and %q would share the customerStrategyRef %q: rename one", o, n, r)
		}
		owner[r], refs[n] = n, r
	}
	return refs, nil
}

// OrderRef is an order's customerOrderRef: its strategy's reference, '-',
// and the order's number in its market. It fits in 32 characters.
func OrderRef(strategyRef string, id int) string {
	return strategyRef + "-" + strconv.Itoa(id)
}

// ParseOrderRef splits a customerOrderRef made by OrderRef into the
// strategy reference and the order number; ok is false for a reference
// made by anything else.
func ParseOrderRef(ref string) (strategyRef string, id int, ok bool) {
	i := strings.LastIndexByte(ref, '-')
	if i <= 0 || i == len(ref)-1 {
		return "", 0, false
	}
	n, err := strconv.Atoi(ref[i+1:])
	if err != nil || n < 0 || ref[i+1] == '+' {
		return "", 0, false
	}
	return ref[:i], n, true
}

// RequestRef is a request's customerRef: the run's session token, '.', and
// the request's sequence number, both base 36. A retried request reuses
// its reference, so Betfair refuses a second copy within 60 s with
// DUPLICATE_TRANSACTION; a new request gets a new one. session must be at
// most 16 characters of letters and digits.
func RequestRef(session string, seq uint64) string {
	return session + "." + strconv.FormatUint(seq, 36)
}

package engine

import "github.com/tapedeck/tapedeck/engine/book"

// Observer sees every market book a replay applies, just before the
// strategy's hooks see it (the CLOSED book included), with the replay's
// clock (epoch ms). It exists so that a driver can keep what the strategy
// saw, such as the price series of the strategy report, without a second
// pass over the tapes. One Observer serves one replay unit and is called
// from that unit's goroutine only; it must not change the book.
type Observer interface {
	Book(b *book.Market, now int64)
}

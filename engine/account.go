package engine

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// RunLimits are the controls of a whole Live run, over every market and
// strategy it trades, checked after a strategy's own Limits and before
// anything is sent. They gate only what adds exposure: a placement, a
// replace (Betfair counts it as a new bet) and an update to a persistence
// that keeps a bet past the off. A cancel always goes. A placement they
// refuse is an order with status VIOLATION and the reason, as for a
// strategy's limits; a refused replace or update is not sent, and the
// call returns false.
type RunLimits struct {
	// MaxTransactionsPerHour limits the placements and replaces sent in
	// one clock hour (UTC), every market and strategy together, whether
	// the exchange then accepts them or not: Betfair counts both and
	// charges above 5,000 an hour. 0: no limit.
	MaxTransactionsPerHour int
	// MaxInstructionsPerSecond limits the instructions that add exposure
	// in one clock second. 0: no limit.
	MaxInstructionsPerSecond int
	// DailyLossLimit stops new exposure for the rest of the UTC day once
	// the day's realised net profit (markets settled since 00:00 UTC,
	// adopted orders included, after commission) is this much below
	// zero. 0: no limit.
	DailyLossLimit float64
	// Now is the wall clock the hours, seconds and days are counted by;
	// time.Now when nil.
	Now func() time.Time
}

// runControls holds a Live run's counters for RunLimits, whether a
// stream is down, and whether the run is halted. Everything but drops is
// read and written on the loop's goroutine only.
type runControls struct {
	lim RunLimits
	log *slog.Logger

	second, hour, day int64 // the windows counted in (Unix seconds, hours, days)
	inSecond, inHour  int
	dayNet            float64

	// marketUp and orderUp say whether each subscription has sent its
	// first message since the last disconnect, and its last one was not
	// flagged stale (status 503), taken in the order the loop handles the
	// lines; drops counts disconnects as the stream's goroutine sees them
	// (at once), dropsSeen those the loop has reached.
	marketUp, orderUp bool
	drops             atomic.Int64
	dropsSeen         int64

	// halted, when set, is why nothing new may be sent for the rest of
	// the run (the kill switch, the stop).
	halted string
}

// newRunControls starts a run's controls. The order stream counts as up
// at the start, since the run has just read the exchange's orders
// (listCurrentOrders); the market stream is up with its first message.
func newRunControls(lim RunLimits, log *slog.Logger) *runControls {
	if lim.Now == nil {
		lim.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &runControls{lim: lim, log: log, orderUp: true}
}

// admit returns why n instructions that add exposure may not be sent, or
// "" when they may, and then counts them; transactions says they count in
// Betfair's hourly transactions (placements and replaces).
func (c *runControls) admit(n int, transactions bool) string {
	switch {
	case c.halted != "":
		return "halted: " + c.halted
	case c.drops.Load() > c.dropsSeen:
		return "the stream is down: no new exposure until it is back"
	case !c.marketUp:
		return "the market stream is down: no new exposure until its data is back"
	case !c.orderUp:
		return "the order stream is down: no new exposure until its data is back"
	}
	now := c.lim.Now().Unix()
	c.roll(now)
	if l := c.lim.DailyLossLimit; l > 0 && c.dayNet <= -l {
		return fmt.Sprintf("today's realised net %.2f reached the daily loss limit %g", c.dayNet, l)
	}
	if l := c.lim.MaxTransactionsPerHour; l > 0 && transactions && c.inHour+n > l {
		return fmt.Sprintf("transactions this hour %d reached the limit %d", c.inHour, l)
	}
	if l := c.lim.MaxInstructionsPerSecond; l > 0 && c.inSecond+n > l {
		return fmt.Sprintf("instructions this second %d reached the limit %d", c.inSecond, l)
	}
	if transactions {
		c.inHour += n
	}
	c.inSecond += n
	return ""
}

// roll starts new windows when the clock has left the current ones.
func (c *runControls) roll(now int64) {
	if now != c.second {
		c.second, c.inSecond = now, 0
	}
	if h := now / 3600; h != c.hour {
		c.hour, c.inHour = h, 0
	}
	if d := now / 86400; d != c.day {
		c.day, c.dayNet = d, 0
	}
}

// settled adds a market's realised net profit (one strategy instance's)
// to the day's.
func (c *runControls) settled(net float64) {
	c.roll(c.lim.Now().Unix())
	c.dayNet = Round2(c.dayNet + net)
	if l := c.lim.DailyLossLimit; l > 0 && c.dayNet <= -l {
		c.log.Warn("daily loss limit reached: no new exposure today", "net", c.dayNet, "limit", l)
	}
}

// disconnected is called on the stream's goroutine when its connection
// ends: from then on nothing new goes until the loop has the data back.
func (c *runControls) disconnected() { c.drops.Add(1) }

// line takes the stream's state from the next line the loop handles: a
// disconnect (down), or a subscription's message (market's or order's),
// which brings it up again unless Betfair flags its data stale (status
// 503: delayed, not to be traded on) until a message without the flag.
func (c *runControls) line(down, market bool, status int) {
	switch {
	case down:
		c.dropsSeen++
		c.marketUp, c.orderUp = false, false
	case market:
		c.marketUp = status != 503
	default:
		c.orderUp = status != 503
	}
}

// halt stops new exposure for the rest of the run.
func (c *runControls) halt(reason string) {
	if c.halted == "" {
		c.halted = reason
		c.log.Warn("halted: no new exposure for the rest of the run", "reason", reason)
	}
}

// admit asks the run's controls, when the unit has any (a Live run), to
// let n instructions that add exposure go; see runControls.admit.
func (u *unit) admit(n int, transactions bool) string {
	if u.bet == nil || u.bet.run == nil {
		return ""
	}
	return u.bet.run.admit(n, transactions)
}

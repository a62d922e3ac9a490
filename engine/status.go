package engine

import "time"

// RunStatus is a paper or live run's state at one moment, over every
// strategy instance and market: what a status line and metrics show. It is
// taken on the loop's goroutine, so it is consistent.
type RunStatus struct {
	// Markets are the markets seen; Open those not closed yet.
	Markets, Open int
	// Orders are the orders the controls let through (sent, or simulated);
	// Violations those the controls stopped.
	Orders, Violations int
	// Live are orders still live (pending, executable, a request on its
	// way, or an unknown outcome).
	Live int
	// Matched, Cancelled and Failed count orders with something matched,
	// something cancelled, or refused by the exchange (an error code).
	Matched, Cancelled, Failed int
	// Fills counts the fills of every order; SizeMatched is their size.
	Fills       int
	SizeMatched float64
	// Exposure is the sum of every unsettled order's worst case (its
	// matched part and its live remainder), not netted across runners:
	// an upper bound of what Betfair reports.
	Exposure float64
	// Profit is the settled orders' profit before commission.
	Profit float64
}

// Monitor asks a paper or live run for its RunStatus every Every (a second
// when zero) and once more at the end; OnStatus runs on the loop's
// goroutine, so it must be quick (hand the status over, do not print to a
// slow terminal while holding it up).
type Monitor struct {
	OnStatus func(RunStatus)
	Every    time.Duration
}

// tick returns the channel the live loop waits on for the next status;
// nil (never ready) without OnStatus.
func (m Monitor) tick() (<-chan time.Time, func()) {
	if m.OnStatus == nil {
		return nil, func() {}
	}
	t := time.NewTicker(m.every())
	return t.C, t.Stop
}

func (m Monitor) every() time.Duration {
	if m.Every <= 0 {
		return time.Second
	}
	return m.Every
}

// report hands the driver's status to OnStatus, if set.
func (m Monitor) report(d *streamDriver) {
	if m.OnStatus != nil {
		m.OnStatus(d.status())
	}
}

// status totals every loop's orders and markets.
func (d *streamDriver) status() RunStatus {
	var s RunStatus
	for _, u := range d.list {
		for _, sts := range u.list {
			if len(sts) > 0 {
				s.Markets++
				if !sts[0].closed {
					s.Open++
				}
			}
			for _, st := range sts {
				for _, o := range st.orders {
					o.addTo(&s)
				}
			}
		}
	}
	s.SizeMatched, s.Exposure, s.Profit = Round2(s.SizeMatched), Round2(s.Exposure), Round2(s.Profit)
	return s
}

// addTo counts one order in s.
func (ord *Order) addTo(s *RunStatus) {
	o := &ord.s
	if o.Status == Violation {
		s.Violations++
		return
	}
	s.Orders++
	if o.Status.Live() {
		s.Live++
	}
	if o.SizeMatched > 0 {
		s.Matched++
	}
	if o.SizeCancelled > 0 {
		s.Cancelled++
	}
	if o.ErrorCode != "" {
		s.Failed++
	}
	s.Fills += len(o.Matched)
	s.SizeMatched += o.SizeMatched
	if o.Settled {
		s.Profit += o.Profit
	} else {
		s.Exposure += ord.openExposure()
	}
}

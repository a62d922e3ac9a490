package tradecli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/internal/cli"
)

// LatencyBuckets are the request and tick-to-trade histograms' upper
// bounds in seconds: tick-to-trade is under a millisecond, a Betting API
// call tens of milliseconds, a slow one seconds.
var LatencyBuckets = []float64{0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// monitor holds a trading run's latest status and account funds, and
// shows them: a status line on a terminal, slog lines otherwise (the one
// log rule of cli.NewLogger), Prometheus metrics at --metrics-addr. The
// loop hands it statuses (engine.Monitor), the betting client its calls,
// a poller the funds; each is stored, never waited on.
type monitor struct {
	out   io.Writer
	term  bool
	log   *slog.Logger
	every time.Duration

	status atomic.Pointer[engine.RunStatus]
	funds  atomic.Pointer[betting.AccountFunds]

	reg      *prometheus.Registry
	requests *prometheus.HistogramVec
	errs     *prometheus.CounterVec
	wire     prometheus.Histogram

	mu sync.Mutex // the terminal line
}

func newMonitor(out io.Writer, log *slog.Logger, every time.Duration) *monitor {
	f, ok := out.(*os.File)
	m := &monitor{out: out, term: ok && cli.IsTerminal(f), log: log, every: every, reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tapedeck_trade_request_seconds",
			Help: "Betting and Accounts API calls by method: time from sending to the answer.", Buckets: LatencyBuckets}, []string{"method"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tapedeck_trade_request_errors_total",
			Help: "Betting and Accounts API calls that failed, by method and code (Betfair's code, OUTCOME_UNKNOWN, REQUEST_FAILED, ...)."}, []string{"method", "code"}),
		wire: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tapedeck_trade_tick_to_trade_seconds",
			Help: "From a market change read off the stream to the order request it caused written to the Betting API.", Buckets: LatencyBuckets}),
	}
	st := func(v func(s *engine.RunStatus) float64) func() float64 {
		return func() float64 {
			if s := m.status.Load(); s != nil {
				return v(s)
			}
			return 0
		}
	}
	fu := func(v func(f *betting.AccountFunds) float64) func() float64 {
		return func() float64 {
			if f := m.funds.Load(); f != nil {
				return v(f)
			}
			return 0
		}
	}
	counter := func(name, help string, v func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, v)
	}
	gauge := func(name, help string, v func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, v)
	}
	m.reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
		m.requests, m.errs, m.wire,
		gauge("tapedeck_trade_markets", "Markets seen.", st(func(s *engine.RunStatus) float64 { return float64(s.Markets) })),
		gauge("tapedeck_trade_markets_open", "Markets seen and not closed.", st(func(s *engine.RunStatus) float64 { return float64(s.Open) })),
		counter("tapedeck_trade_orders_total", "Orders placed (let through by the controls).", st(func(s *engine.RunStatus) float64 { return float64(s.Orders) })),
		counter("tapedeck_trade_orders_matched_total", "Orders with something matched.", st(func(s *engine.RunStatus) float64 { return float64(s.Matched) })),
		counter("tapedeck_trade_orders_cancelled_total", "Orders with something cancelled.", st(func(s *engine.RunStatus) float64 { return float64(s.Cancelled) })),
		counter("tapedeck_trade_orders_failed_total", "Orders the exchange refused.", st(func(s *engine.RunStatus) float64 { return float64(s.Failed) })),
		counter("tapedeck_trade_violations_total", "Orders the controls stopped before sending.", st(func(s *engine.RunStatus) float64 { return float64(s.Violations) })),
		gauge("tapedeck_trade_orders_live", "Orders live (pending, executable, a request on its way, outcome unknown).", st(func(s *engine.RunStatus) float64 { return float64(s.Live) })),
		counter("tapedeck_trade_fills_total", "Fills of all orders.", st(func(s *engine.RunStatus) float64 { return float64(s.Fills) })),
		counter("tapedeck_trade_matched_size_total", "Size matched over all orders.", st(func(s *engine.RunStatus) float64 { return s.SizeMatched })),
		gauge("tapedeck_trade_exposure", "Worst case of the unsettled orders, summed (not netted across runners).", st(func(s *engine.RunStatus) float64 { return s.Exposure })),
		gauge("tapedeck_trade_profit", "Settled orders' profit before commission.", st(func(s *engine.RunStatus) float64 { return s.Profit })),
		gauge("tapedeck_account_balance", "Available to bet, from getAccountFunds (trade live).", fu(func(f *betting.AccountFunds) float64 { return f.AvailableToBetBalance })),
		gauge("tapedeck_account_exposure", "The account's exposure as Betfair reports it (negative), from getAccountFunds (trade live).", fu(func(f *betting.AccountFunds) float64 { return f.Exposure })),
	)
	return m
}

// handler serves the metrics for a Prometheus scrape; a failed collection
// is an HTTP 500 with its cause, so it shows in Prometheus.
func (m *monitor) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
}

// onStatus is the engine's Monitor hook: it only stores.
func (m *monitor) onStatus(s engine.RunStatus) { m.status.Store(&s) }

// request is the betting client's Observe hook.
func (m *monitor) request(method string, took time.Duration, err error) {
	m.requests.WithLabelValues(method).Observe(took.Seconds())
	if err != nil {
		m.errs.WithLabelValues(method, betting.ErrorCode(err)).Inc()
	}
}

// onWire is the betting executor's OnWire hook.
func (m *monitor) onWire(d time.Duration) { m.wire.Observe(d.Seconds()) }

// pollFunds asks getAccountFunds now and every period until ctx ends; a
// failure is logged and the last funds kept.
func (m *monitor) pollFunds(ctx context.Context, bc *betting.Client, period time.Duration) {
	poll := func() {
		f, err := bc.GetAccountFunds(ctx)
		switch {
		case err == nil:
			m.funds.Store(f)
		case ctx.Err() == nil:
			m.log.Warn("getAccountFunds failed; the balance shown is the last known", "err", err)
		}
	}
	poll()
	every(ctx, period, poll)
}

// print shows the status until ctx ends: redrawn each second on a
// terminal, logged every m.every otherwise.
func (m *monitor) print(ctx context.Context) {
	period := m.every
	if m.term {
		period = time.Second
	}
	every(ctx, period, func() { m.show(false) })
}

// every calls f every period until ctx ends; never with a period of 0.
func every(ctx context.Context, period time.Duration, f func()) {
	if period <= 0 {
		return
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// final shows the last status, the one the run ended with; on a terminal
// it ends the status line, so the summary starts on its own line.
func (m *monitor) final() { m.show(true) }

func (m *monitor) show(final bool) {
	s := m.status.Load()
	if s == nil {
		return
	}
	f := m.funds.Load()
	if !m.term {
		args := []any{"final", final, "markets", s.Markets, "open", s.Open, "orders", s.Orders, "live", s.Live, "matched", s.Matched,
			"fills", s.Fills, "exposure", s.Exposure, "profit", s.Profit}
		if f != nil {
			args = append(args, "balance", f.AvailableToBetBalance, "account_exposure", f.Exposure)
		}
		m.log.Info("status", args...)
		return
	}
	line := statusLine(s, f)
	m.mu.Lock()
	defer m.mu.Unlock()
	end := ""
	if final {
		end = "\n"
	}
	// \r and erase-line redraw the line in place.
	fmt.Fprintf(m.out, "\r\x1b[K%s%s", line, end)
}

// statusLine is the terminal's one line.
func statusLine(s *engine.RunStatus, f *betting.AccountFunds) string {
	line := fmt.Sprintf("markets %d (%d open) | orders %d: %d live, %d matched | exposure %.2f | P&L %+.2f",
		s.Markets, s.Open, s.Orders, s.Live, s.Matched, s.Exposure, s.Profit)
	if f != nil {
		line += fmt.Sprintf(" | balance %.2f (exposure %.2f)", f.AvailableToBetBalance, -f.Exposure)
	}
	return line
}

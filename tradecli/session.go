package tradecli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/internal/login"
)

// StreamOptions are what trade paper and trade live share: the account and
// the endpoints (exactly as record run), the market filter, when the run
// stops, the log, the metrics and the status line.
type StreamOptions struct {
	Login login.Flags
	// MarketIDs, EventTypeIDs, MarketTypes and Countries filter the
	// market subscription; with MarketIDs the run ends once all of them
	// have closed.
	MarketIDs, EventTypeIDs, MarketTypes, Countries []string
	// Until (HH:MM, local time) and Duration end the run, whichever
	// comes first.
	Until    string
	Duration time.Duration
	LogLevel string
	// MetricsAddr serves Prometheus metrics at /metrics.
	MetricsAddr string
	// StatusEvery is how often the status is logged when standard error
	// is not a terminal (a terminal's status line is redrawn each second).
	StatusEvery time.Duration
	// FundsEvery is how often getAccountFunds is asked (trade live).
	FundsEvery time.Duration
	KeepAlive  time.Duration
}

func (o *StreamOptions) add(f *pflag.FlagSet, verb string, funds bool) {
	o.Login.Add(f, verb)
	f.StringSliceVar(&o.MarketIDs, "market-ids", nil, "markets to subscribe to; the run ends once all have closed")
	f.StringSliceVar(&o.EventTypeIDs, "event-type-ids", nil, "event types to subscribe to (7 horse racing, 4339 greyhounds)")
	f.StringSliceVar(&o.MarketTypes, "market-types", nil, "market types to subscribe to (WIN, PLACE, ...)")
	f.StringSliceVar(&o.Countries, "countries", nil, "country codes to subscribe to (GB, IE, ...)")
	f.StringVar(&o.Until, "until", "", "stop at this local time, HH:MM")
	f.DurationVar(&o.Duration, "duration", 0, "stop after this long (0: until a signal, --until or the markets close)")
	f.StringVar(&o.LogLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&o.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics on this address (e.g. 127.0.0.1:9465) at /metrics")
	f.DurationVar(&o.StatusEvery, "status-every", time.Minute, "how often the status is logged when standard error is not a terminal")
	if funds {
		f.DurationVar(&o.FundsEvery, "funds-every", 30*time.Second, "how often the account's balance and exposure are asked (getAccountFunds)")
	}
	f.DurationVar(&o.KeepAlive, "keep-alive", 30*time.Minute, "how often the session is kept alive")
}

// filter is the market subscription's filter.
func (o *StreamOptions) filter() *esa.MarketFilter {
	return &esa.MarketFilter{MarketIDs: o.MarketIDs, EventTypeIDs: o.EventTypeIDs, MarketTypes: o.MarketTypes, CountryCodes: o.Countries}
}

// session is a trading run's surroundings: its context (ended by SIGINT,
// SIGTERM, --until or --duration), its log, the logged-in account and the
// monitor (status line, metrics, funds).
type session struct {
	ctx  context.Context
	log  *slog.Logger
	acct login.Account
	bc   *betting.Client
	mon  *monitor

	stops []func()
	wg    sync.WaitGroup
	// bg ends the session's own goroutines (keep-alive, funds, status).
	bg context.Context
}

// openSession resolves the account as record run does, logs in and
// starts the monitor; what is the command's name in errors.
func (o *StreamOptions) openSession(cmd *cobra.Command, what string) (*session, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.LogLevel)); err != nil {
		return nil, &cli.UsageError{Err: fmt.Errorf("--log-level: %w", err)}
	}
	s := &session{log: cli.NewLogger(cmd.ErrOrStderr(), level)}
	if os.Getenv("GOGC") == "" {
		// A run keeps every subscribed market's book alive for hours
		// (about 55 KiB a market) and makes little garbage at a
		// stream's rate: collecting at 1.5x the live heap rather than
		// 2x keeps 1,000 markets well under 150 MiB for a little CPU
		// (docs/performance.md).
		debug.SetGCPercent(50)
	}
	deadline, err := cli.Deadline(time.Now(), o.Until, o.Duration)
	if err != nil {
		return nil, err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	s.stops = append(s.stops, stop)
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		s.stops = append(s.stops, cancel)
		s.log.Info(what+" until", "deadline", deadline.Format(time.RFC3339))
	}
	s.ctx = ctx
	bg, cancel := context.WithCancel(context.Background())
	s.bg = bg
	s.stops = append(s.stops, func() { cancel(); s.wg.Wait() })
	if s.acct, err = o.Login.Resolve(ctx); err != nil {
		s.close()
		return nil, err
	}
	s.mon = newMonitor(cmd.ErrOrStderr(), s.log, o.StatusEvery)
	cfg := s.acct.Config(s.log)
	cfg.Observe = s.mon.request
	if s.bc, err = login.NewClient(cfg); err != nil {
		s.close()
		return nil, err
	}
	if err := s.bc.Login(ctx); err != nil {
		s.close()
		var le *betting.LoginError
		if errors.As(err, &le) || esa.IsCertError(err) {
			return nil, &cli.UsageError{Err: err}
		}
		return nil, err
	}
	// Logged in: log out at the end (a local exchange needs no logout).
	if !s.acct.Local {
		s.stops = append(s.stops, func() {
			lctx, lcancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer lcancel()
			if err := s.bc.Logout(lctx); err != nil {
				s.log.Warn("logout failed", "err", err)
			}
		})
	}
	s.goRun(func(ctx context.Context) { s.bc.KeepAliveLoop(ctx, o.KeepAlive) })
	if o.MetricsAddr != "" {
		stopMetrics, err := cli.ServeMetrics(o.MetricsAddr, s.mon.handler(), s.log)
		if err != nil {
			s.close()
			return nil, err
		}
		s.stops = append(s.stops, stopMetrics)
	}
	s.goRun(s.mon.print)
	if o.FundsEvery > 0 {
		s.goRun(func(ctx context.Context) { s.mon.pollFunds(ctx, s.bc, o.FundsEvery) })
	}
	return s, nil
}

// goRun runs f on its own goroutine until the session closes.
func (s *session) goRun(f func(context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f(s.bg)
	}()
}

// close stops what the session started, last first, and shows the
// final status; a second call does nothing.
func (s *session) close() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
	s.stops = nil
	if s.mon != nil {
		s.mon.final()
		s.mon = nil
	}
}

// stream is the stream client's configuration for the account: the
// endpoint, the CA, the application key and the session.
func (s *session) stream(o *StreamOptions, orders bool) esa.ClientConfig {
	c := esa.ClientConfig{Addr: s.acct.Endpoints.Stream, CAFile: s.acct.CA, AppKey: s.acct.AppKey, Session: s.bc.SessionToken, Relogin: s.bc.Login,
		Market: &esa.MarketSubscription{MarketFilter: o.filter(), MarketDataFilter: &esa.MarketDataFilter{Fields: esa.AllMarketDataFields}},
		Logger: s.log}
	if orders {
		c.Order = &esa.OrderSubscription{}
	}
	return c
}

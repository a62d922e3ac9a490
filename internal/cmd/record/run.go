package record

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/feed"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/internal/login"
	"github.com/tapedeck/tapedeck/recorder"
)

// runFlags are record run's flags.
type runFlags struct {
	login login.Flags
	dest  destFlags

	marketIDs, eventTypeIDs, eventIDs, countryCodes, marketTypes, venues, bettingTypes, raceTypes []string
	bspMarket, turnInPlay                                                                         string
	fields                                                                                        []string
	ladderLevels                                                                                  int
	conflateMs, heartbeatMs                                                                       int64
	perConnection                                                                                 int
	orders                                                                                        bool
	relist                                                                                        time.Duration

	sync, closeGrace, expiry, duration, keepAlive time.Duration
	until, metricsAddr, logLevel                  string
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Record the stream into per-market tapes until --until, --duration or SIGTERM",
		Long: `record run logs in, subscribes to the markets the filter flags select (every
market Betfair offers the account when none is given) and appends each market
change, byte for byte, to its market's tape in --spool. A tape closes
--close-grace after its market definition says CLOSED, or after
--market-expiry without a change; it is then compressed and uploaded with its
<market_id>.json catalogue to --dest, and removed from the spool only once the
store has confirmed the object whole.

SIGTERM and SIGINT (and --until / --duration) write and fsync every open tape
and exit 0; the next run resumes appending to them. record flush uploads
whatever the spool holds.

Credentials come from the flags, else TAPEDECK_APP_KEY, TAPEDECK_USERNAME,
TAPEDECK_PASSWORD, TAPEDECK_CERT, TAPEDECK_KEY, else the --config JSON file
({"app_key":…, "username":…, "password":…, "cert":…, "key":…,
"jurisdiction":"com"}). They never appear in logs.

A login that fails for the network is retried with back-off until the run's
end; a refused one is exit 2.

Exit codes: 0 stopped as asked; 1 failure (spool unwritable, stream lost for
good), or a market the filter selected was never recorded (the last log
line names it); 2 bad flags, refused login, a server certificate that does
not verify, a spool another recorder holds, the stream refused the
subscription (SUBSCRIPTION_LIMIT_EXCEEDED, INVALID_APP_KEY, NOT_AUTHORIZED),
or MAX_CONNECTION_LIMIT_EXCEEDED five times in a row (the error says which
--markets-per-connection fits).`,
		Example: `  TAPEDECK_APP_KEY=… TAPEDECK_USERNAME=… TAPEDECK_PASSWORD=… \
    tapedeck record run --cert client.crt --key client.key --event-type-ids 7 --country-codes GB,IE \
      --dest s3://my-bucket/tapes --until 23:30
  tapedeck trade serve testdata/tapes/1.197931750 --info ex.json &
  tapedeck record run --exchange-info ex.json --dest ./tapes --duration 1m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(cmd.Context()) },
	}
	fl := cmd.Flags()
	f.login.Add(fl, "record from")
	f.dest.add(fl)
	fl.StringSliceVar(&f.marketIDs, "market-ids", nil, "market ids to record")
	fl.StringSliceVar(&f.eventTypeIDs, "event-type-ids", nil, "event type ids (7 horse racing, 4339 greyhounds, 1 soccer...)")
	fl.StringSliceVar(&f.eventIDs, "event-ids", nil, "event ids")
	fl.StringSliceVar(&f.countryCodes, "country-codes", nil, "country codes (GB, IE, AU...)")
	fl.StringSliceVar(&f.marketTypes, "market-types", nil, "market types (WIN, PLACE, MATCH_ODDS...)")
	fl.StringSliceVar(&f.venues, "venues", nil, "venues")
	fl.StringSliceVar(&f.bettingTypes, "betting-types", nil, "betting types (ODDS, LINE, ASIAN_HANDICAP_DOUBLE_LINE...)")
	fl.StringSliceVar(&f.raceTypes, "race-types", nil, "race types (Flat, Hurdle, Harness...)")
	fl.StringVar(&f.bspMarket, "bsp-market", "", "true or false: only markets with (without) BSP")
	fl.StringVar(&f.turnInPlay, "turn-in-play", "", "true or false: only markets that turn (do not turn) in play")
	fl.StringSliceVar(&f.fields, "fields", esa.AllMarketDataFields, "market data fields")
	fl.IntVar(&f.ladderLevels, "ladder-levels", 0, "levels of the best-offers ladders (EX_BEST_OFFERS only)")
	fl.Int64Var(&f.conflateMs, "conflate-ms", -1, "conflation in ms; -1 leaves it to the server (none)")
	fl.Int64Var(&f.heartbeatMs, "heartbeat-ms", 5000, "heartbeat interval in ms; the watchdog reconnects after twice this")
	fl.IntVar(&f.perConnection, "markets-per-connection", 200, "split the markets into subscriptions of this many, one connection each (--market-ids, or a filter's markets as listMarketCatalogue lists them)")
	fl.DurationVar(&f.relist, "relist", 5*time.Minute, "when a filter's markets are split over connections, list them again this often and subscribe to new ones (0: never)")
	fl.BoolVar(&f.orders, "orders", false, "also record the account's order stream")
	fl.DurationVar(&f.sync, "sync", recorder.DefaultSync, "how often tapes are written and fsynced")
	fl.DurationVar(&f.closeGrace, "close-grace", recorder.DefaultCloseGrace, "how long a tape stays open after its market closed")
	fl.DurationVar(&f.expiry, "market-expiry", recorder.DefaultMarketExpiry, "close a tape after this long without a change")
	fl.StringVar(&f.until, "until", "", "stop at this local time, HH:MM")
	fl.DurationVar(&f.duration, "duration", 0, "stop after this long")
	fl.DurationVar(&f.keepAlive, "keep-alive", 30*time.Minute, "how often the session is kept alive")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on this address (e.g. 127.0.0.1:9464) at /metrics")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}

func parseBool(name, v string) (*bool, error) {
	switch v {
	case "":
		return nil, nil
	case "true":
		b := true
		return &b, nil
	case "false":
		b := false
		return &b, nil
	}
	return nil, &cli.UsageError{Err: fmt.Errorf("--%s %q: want true or false", name, v)}
}

// hasFilter reports whether a filter flag other than --market-ids is set:
// then the markets it matches may number more than one subscription holds.
func (f *runFlags) hasFilter() bool {
	return len(f.eventTypeIDs)+len(f.eventIDs)+len(f.countryCodes)+len(f.marketTypes)+
		len(f.venues)+len(f.bettingTypes)+len(f.raceTypes) > 0 || f.bspMarket != "" || f.turnInPlay != ""
}

// listMarkets asks listMarketCatalogue for the ids of the markets the
// filter flags match. Race types have no catalogue filter; the stream
// subscription still carries them, so it records only the matching ones.
func (f *runFlags) listMarkets(ctx context.Context, bc *betting.Client) ([]string, error) {
	bsp, _ := parseBool("bsp-market", f.bspMarket)
	tip, _ := parseBool("turn-in-play", f.turnInPlay)
	cats, err := bc.ListMarketCatalogue(ctx, betting.CatalogueRequest{Filter: betting.MarketFilter{
		EventTypeIDs: f.eventTypeIDs, EventIDs: f.eventIDs, MarketCountries: f.countryCodes,
		MarketTypeCodes: f.marketTypes, Venues: f.venues, MarketBettingTypes: f.bettingTypes,
		BspOnly: bsp, TurnInPlayEnabled: tip,
	}, MaxResults: 1000})
	if err != nil {
		return nil, fmt.Errorf("listing the filter's markets: %w", err)
	}
	ids := make([]string, 0, len(cats))
	for _, c := range cats {
		ids = append(ids, c.MarketID)
	}
	return ids, nil
}

// subscription returns the market subscription the flags describe, without
// market ids: the feed gives each connection its share of them.
func (f *runFlags) subscription() (*esa.MarketSubscription, error) {
	bsp, err := parseBool("bsp-market", f.bspMarket)
	if err != nil {
		return nil, err
	}
	tip, err := parseBool("turn-in-play", f.turnInPlay)
	if err != nil {
		return nil, err
	}
	if f.perConnection <= 0 {
		return nil, &cli.UsageError{Err: errors.New("--markets-per-connection must be positive")}
	}
	s := &esa.MarketSubscription{
		Op: esa.OpMarketSubscription,
		MarketFilter: &esa.MarketFilter{
			EventTypeIDs: f.eventTypeIDs, EventIDs: f.eventIDs, CountryCodes: f.countryCodes,
			MarketTypes: f.marketTypes, Venues: f.venues, BettingTypes: f.bettingTypes, RaceTypes: f.raceTypes,
			BspMarket: bsp, TurnInPlayEnabled: tip,
		},
		MarketDataFilter:    &esa.MarketDataFilter{Fields: f.fields, LadderLevels: f.ladderLevels},
		HeartbeatMs:         f.heartbeatMs,
		SegmentationEnabled: true,
	}
	if f.conflateMs >= 0 {
		c := f.conflateMs
		s.ConflateMs = &c
	}
	return s, nil
}

// exitError makes the errors the user must act on exit with code 2: the
// stream's fatal refusals, a refused login, a server certificate that does
// not verify (the --ca or the address is wrong; systemd units stop
// restarting on 2) and a spool another recorder holds.
func exitError(err error) error {
	var cl *feed.ConnectionLimitError
	if errors.As(err, &cl) {
		if cl.PerConnection > 0 {
			return &cli.UsageError{Err: fmt.Errorf("%w: record with --markets-per-connection %d (Betfair takes up to 200 markets in one subscription), or stop the account's other stream clients", err, cl.PerConnection)}
		}
		return &cli.UsageError{Err: fmt.Errorf("%w: no connection was taken; stop the account's other stream clients", err)}
	}
	var st *esa.StatusError
	var le *betting.LoginError
	var lk *recorder.LockedError
	if (errors.As(err, &st) && st.Fatal()) || errors.As(err, &le) || errors.As(err, &lk) || esa.IsCertError(err) {
		return &cli.UsageError{Err: err}
	}
	return err
}

func (f *runFlags) run(parent context.Context) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return &cli.UsageError{Err: fmt.Errorf("--log-level: %w", err)}
	}
	log := cli.NewLogger(os.Stderr, level)
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	acct, err := f.login.Resolve(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	sub, err := f.subscription()
	if err != nil {
		return err
	}
	deadline, err := cli.Deadline(time.Now(), f.until, f.duration)
	if err != nil {
		return err
	}
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
		log.Info("recording until", "deadline", deadline.Format(time.RFC3339))
	}

	bc, err := acct.Client(log)
	if err != nil {
		return err
	}
	rcfg, err := f.dest.config(ctx, log)
	if err != nil {
		return err
	}
	rcfg.Sync, rcfg.CloseGrace, rcfg.MarketExpiry, rcfg.Orders = f.sync, f.closeGrace, f.expiry, f.orders
	rcfg.Catalogue = func(ctx context.Context, ids []string) (map[string][]byte, error) {
		cats, err := bc.ListMarketCatalogue(ctx, betting.CatalogueRequest{Filter: betting.MarketFilter{MarketIDs: ids}, MarketProjection: betting.AllProjections, MaxResults: len(ids)})
		if err != nil {
			return nil, err
		}
		out := make(map[string][]byte, len(cats))
		for _, c := range cats {
			out[c.MarketID] = c.Raw
		}
		return out, nil
	}
	rec, err := recorder.New(rcfg)
	if err != nil {
		return exitError(err)
	}
	fcfg := feed.Config{
		Addr: acct.Endpoints.Stream, CAFile: acct.CA, AppKey: acct.AppKey,
		Login: bc.Login, Session: bc.SessionToken,
		Subscription: *sub, MarketIDs: f.marketIDs, PerConnection: f.perConnection, Relist: f.relist,
		// Race types filter the stream but not listMarketCatalogue: then
		// a listed market may rightly never come.
		ListIsExact: len(f.raceTypes) == 0,
		WholeImages: true, Logger: log,
		Handler: func(line []byte, m *esa.Message) error { return rec.Handle(ctx, line, m) },
	}
	if len(f.marketIDs) == 0 && f.hasFilter() {
		fcfg.List = func(ctx context.Context) ([]string, error) { return f.listMarkets(ctx, bc) }
	}
	if f.orders {
		fcfg.Order = &esa.OrderSubscription{Op: esa.OpOrderSubscription, HeartbeatMs: f.heartbeatMs, SegmentationEnabled: true}
	}
	fd, err := feed.New(fcfg)
	if err != nil {
		rec.Shutdown()
		return &cli.UsageError{Err: err}
	}
	rec.Metrics().Reconnects = fd.Reconnects
	if f.metricsAddr != "" {
		stopMetrics, err := cli.ServeMetrics(f.metricsAddr, rec.Metrics(), log)
		if err != nil {
			rec.Shutdown()
			return err
		}
		defer stopMetrics()
	}

	// The feed and the recorder stop together: the feed's fatal error (a
	// refused login, a refused subscription) or a spool failure cancels
	// the other.
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	feedErr := make(chan error, 1)
	go func() {
		err := fd.Run(runCtx)
		var ue *feed.UnrecordedError
		if err != nil && !errors.As(err, &ue) {
			cancel(err)
		}
		feedErr <- err
	}()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		bc.KeepAliveLoop(runCtx, f.keepAlive)
	}()
	recErr := rec.Run(runCtx) // returns when runCtx ends, after Shutdown
	if recErr != nil {
		cancel(recErr)
	}
	cancel(nil)
	fErr := <-feedErr
	wg.Wait()
	lctx, lcancel := context.WithTimeout(context.Background(), 10*time.Second)
	if _, err := bc.SessionToken(lctx); err == nil {
		if err := bc.Logout(lctx); err != nil {
			log.Warn("logout failed", "err", err)
		}
	}
	lcancel()
	if recErr != nil {
		return recErr
	}
	var ue *feed.UnrecordedError
	if errors.As(fErr, &ue) {
		log.Error("recording stopped; some selected markets were never recorded", "spool", rcfg.Spool, "unrecorded", len(ue.Markets), "markets", ue.Markets)
		return fErr
	}
	if fErr != nil {
		return exitError(fErr)
	}
	log.Info("recording stopped; open tapes are synced in the spool", "spool", rcfg.Spool, "unrecorded", 0)
	return nil
}

package tradecli

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/exchange/ledger"
	"github.com/tapedeck/tapedeck/engine/sim"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/s3"
	"github.com/tapedeck/tapedeck/tape"
)

// ServeCommand is `trade serve`: tapes served as a local Betfair-compatible
// exchange.
func ServeCommand() *cobra.Command {
	var (
		cfg      exchange.Config
		info     string
		logLevel string
		s3       s3.Options
		bet      bool
		lcfg     ledger.Config
		model    string
	)
	cmd := &cobra.Command{
		Use:   "serve TAPES...",
		Short: "Serve tapes as a local Betfair-compatible exchange (stream API, login, listMarketCatalogue)",
		Long: `serve replays tapes over Betfair's Exchange Stream API protocol on a local TLS
socket, so that any stream client or recorder can be tested against real data
with no Betfair account. TAPES are files, directories, globs, archives or s3://, as
for convert. Changes are replayed in publish-time order across all tapes at
--speed (1 = real time, 0 = as fast as each client reads).

A subscription gets a SUB_IMAGE of its matching markets (rebuilt from the
tapes up to the replay position, segmented when the client enables
segmentation), then each market change exactly as recorded, heartbeats when
idle, and RESUB_DELTA when it resubscribes with its initialClk/clk. The same
certificate serves login (/api/login, /api/certlogin, /api/keepAlive,
/api/logout) and listMarketCatalogue (JSON-RPC /exchange/betting/json-rpc/v1
and REST /exchange/betting/rest/v1.0/listMarketCatalogue/), answered from
<market_id>.json catalogue files beside a tape, in ../catalogues/ from it, or
in --catalogues, else built from the market definition.

The certificate is generated at start (ECDSA, for 127.0.0.1, ::1 and
localhost) and written to --cert (default a temporary file); clients trust
it as their CA file. --info writes the addresses and the certificate path as
JSON for other programs to find.

--betting takes bets: placeOrders, cancelOrders (one market's, or all),
replaceOrders, updateOrders, listCurrentOrders, listClearedOrders,
listMarketBook, getAccountFunds and getAccountDetails, with Betfair's
validation and error codes, against a --balance in --currency (stakes
under that currency's minimum bet are INVALID_BET_SIZE). Bets are matched by the execution model of trade
backtest (--model): a request takes effect at the first replayed change of
its market more than its latency (plus the bet delay in play) after it
arrived, and is answered then; the order stream is made from the ledger.
--lockstep holds the replay after each market change until the client sends
a heartbeat request whose id is the number of order requests it has sent,
so a client trading against it gets the same orders every run.

Fault flags make the exchange misbehave on purpose, for tests. Counts are of
change messages sent by the whole exchange.

Exit codes: 0 after SIGINT or SIGTERM, 1 on a failure, 2 for bad flags.`,
		Example: `  tapedeck trade serve testdata/tapes/1.197931750 testdata/tapes/1.197931751 --speed 0 --info /tmp/exchange.json
  tapedeck trade serve ../shared/data/streams --speed 10 --drop-after 500 --drop-every`,
		Args: cli.RequireInputs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return &cli.UsageError{Err: fmt.Errorf("--log-level: %w", err)}
			}
			if cfg.Speed < 0 {
				return &cli.UsageError{Err: fmt.Errorf("--speed must be 0 or more, got %v", cfg.Speed)}
			}
			if cfg.Faults.StallAfter > 0 && cfg.Faults.StallFor <= 0 {
				return &cli.UsageError{Err: fmt.Errorf("--stall-after needs --stall-for")}
			}
			cfg.Tapes = args
			cfg.Logger = cli.NewLogger(os.Stderr, level)
			switch cfg.Faults.APIError {
			case "", "TIMEOUT", "TOO_MANY_REQUESTS", "INVALID_SESSION_INFORMATION":
			case "INVALID_SESSION":
				cfg.Faults.APIError = "INVALID_SESSION_INFORMATION"
			default:
				return &cli.UsageError{Err: fmt.Errorf("--api-error %q: TIMEOUT, TOO_MANY_REQUESTS or INVALID_SESSION_INFORMATION", cfg.Faults.APIError)}
			}
			if bet {
				m, err := sim.ParseModel(model)
				if err != nil {
					return &cli.UsageError{Err: fmt.Errorf("--model: %w", err)}
				}
				if lcfg.Balance <= 0 {
					return &cli.UsageError{Err: fmt.Errorf("--balance must be above 0, got %v", lcfg.Balance)}
				}
				if err := lcfg.Check(); err != nil {
					return &cli.UsageError{Err: fmt.Errorf("--currency: %w", err)}
				}
				lcfg.Model, lcfg.Log = m, cfg.Logger
				cfg.Betting = ledger.New(lcfg)
			} else if cmd.Flags().Changed("balance") || cmd.Flags().Changed("model") || cmd.Flags().Changed("currency") {
				return &cli.UsageError{Err: fmt.Errorf("--balance, --currency and --model need --betting")}
			}
			cfg.Sources = tape.Sources{Store: store.Options{S3: s3.WithLogger(cfg.Logger)}}
			ex, err := exchange.New(cfg)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			in := ex.Info()
			markets, changes := ex.Markets()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "trade serve: %d markets, %d market changes, speed %v\n", markets, changes, cfg.Speed)
			fmt.Fprintf(out, "stream    %s\nidentity  %s/api/login\nbetting   %s/exchange/betting/json-rpc/v1\nca        %s\n",
				in.Stream, in.Identity, in.Betting, in.CA)
			if info != "" {
				if err := ex.WriteInfo(info); err != nil {
					return err
				}
				defer os.Remove(info)
			}
			err = ex.Serve(ctx)
			st := ex.Stats()
			cfg.Logger.Info("trade serve stopped", "connections", st.Connections, "changes", st.Changes,
				"betting_requests", st.BettingRequests, "order_requests", st.OrderRequests)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", "127.0.0.1:0", "stream API listen address (port 0: a free one)")
	f.StringVar(&cfg.HTTPAddr, "http-addr", "127.0.0.1:0", "login and betting API listen address")
	f.Float64Var(&cfg.Speed, "speed", 1, "replay speed: 1 real time, 0 as fast as the client reads")
	f.StringVar(&info, "info", "", `write {"stream","identity","betting","ca"} as JSON to this file (removed at exit)`)
	f.StringVar(&cfg.CertFile, "cert", "", "write the generated certificate (PEM) here (default: a temporary file)")
	f.StringSliceVar(&cfg.Catalogues, "catalogues", nil, "directories of <market_id>.json catalogue files")
	f.StringVar(&cfg.AppKey, "app-key", "", "accept only this application key (default: any)")
	f.IntVar(&cfg.SegmentBytes, "segment-bytes", 256<<10, "split images larger than this into segments (for clients that enable segmentation)")
	f.IntVar(&cfg.MarketLimit, "market-limit", 0, "refuse subscriptions matching more markets than this with SUBSCRIPTION_LIMIT_EXCEEDED, as Betfair does above 200 (0: no limit)")
	f.IntVar(&cfg.MaxConnections, "max-connections", 0, "refuse stream connections beyond this many with MAX_CONNECTION_LIMIT_EXCEEDED, as Betfair does beyond 10 (0: no limit)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.IntVar(&cfg.Faults.DropAfter, "drop-after", 0, "fault: close the connection after N change messages (once; see --drop-every)")
	f.BoolVar(&cfg.Faults.DropEvery, "drop-every", false, "fault: with --drop-after, close after every N change messages")
	f.IntVar(&cfg.Faults.Status503After, "status-503-after", 0, "fault: send one status 503 change message after N change messages")
	f.IntVar(&cfg.Faults.StallAfter, "stall-after", 0, "fault: send nothing, heartbeats included, for --stall-for after N change messages (once)")
	f.DurationVar(&cfg.Faults.StallFor, "stall-for", 10*time.Second, "fault: how long --stall-after stalls")
	f.BoolVar(&cfg.Faults.RefuseLogin, "refuse-login", false, "fault: refuse every login and every stream session")
	f.BoolVar(&cfg.Faults.SubscriptionLimit, "subscription-limit", false, "fault: answer market subscriptions with SUBSCRIPTION_LIMIT_EXCEEDED")
	f.BoolVar(&bet, "betting", false, "take bets: the Betting API's order methods, matching and the order stream")
	f.Float64Var(&lcfg.Balance, "balance", 1000, "with --betting: the account's balance, for INSUFFICIENT_FUNDS")
	f.StringVar(&lcfg.Currency, "currency", "GBP", "with --betting: the account's currency (getAccountDetails), whose minimum bets placements are held to")
	f.StringVar(&model, "model", "flumine", "with --betting: execution model, flumine or queue (as trade backtest)")
	f.BoolVar(&cfg.Lockstep, "lockstep", false, "hold the replay after each market change until the client's heartbeat (a deterministic clock)")
	f.IntVar(&cfg.Faults.DropOrdersAfter, "drop-orders-after", 0, "fault (--betting): close a connection with an order subscription after N order change messages (once)")
	f.BoolVar(&cfg.Faults.StreamBeforeReply, "stream-before-reply", false, "fault (--betting): send each order change on the stream before the HTTP answer of the request that made it")
	f.IntVar(&cfg.Faults.DropReplyAfter, "drop-reply-after", 0, "fault (--betting): carry out the Nth order request and drop its answer (once)")
	f.StringVar(&cfg.Faults.APIError, "api-error", "", "fault (--betting): answer a betting request with TIMEOUT, TOO_MANY_REQUESTS or INVALID_SESSION_INFORMATION")
	f.IntVar(&cfg.Faults.APIErrorAfter, "api-error-after", 1, "fault: which betting request --api-error hits (once; see --api-error-every)")
	f.BoolVar(&cfg.Faults.APIErrorEvery, "api-error-every", false, "fault: --api-error hits every Nth betting request")
	f.BoolVar(&cfg.Faults.RefuseOrderResume, "refuse-order-resume", false, "fault: refuse an order subscription's clock (INVALID_CLOCK), forcing a fresh image")
	f.BoolVar(&cfg.Strict, "strict", false, "refuse to start on a bad line or unreadable tape instead of skipping it")
	s3.AddFlags(f)
	return cmd
}

// Package tradecli holds the trade subcommands (backtest, strategies,
// serve) and their result writers, so that cmd/trade and a user's own
// strategy binary (see examples/favourite) are built from the same code.
// Library code for strategies stays in engine/ and engine/strategies, which
// import neither cobra nor internal/cli.
package tradecli

import (
	"fmt"
	"os"
	"sort"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/cli"
)

// Main runs the trade command with the built-in strategies and the given
// ones registered, and exits. It is the one call a user's own main package
// makes (see examples/favourite).
func Main(own ...strategies.Info) {
	reg := strategies.Builtins()
	for _, in := range own {
		if err := reg.Register(in); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(cli.ExitUsage)
		}
	}
	os.Exit(cli.Run(NewCommand(reg)))
}

// NewCommand returns the trade command with every subcommand, running the
// strategies of reg.
func NewCommand(reg *strategies.Registry) *cobra.Command {
	root := cli.Configure(&cobra.Command{
		Use:   "trade",
		Short: "Run Go strategies over tapes, on paper or live, and serve tapes as a local exchange",
		Long: `trade runs one Go strategy with the same engine in three modes: a backtest
over tapes, paper trading and live trading; and serves tapes as a local
Betfair-compatible exchange for testing clients.

Working today: trade backtest, trade paper (on a local exchange's stream),
trade report, trade strategies and trade serve. Live trading is coming.`,
		Example: `  tapedeck trade serve testdata/tapes/1.197931750 testdata/tapes/1.197931751 --info exchange.json
  tapedeck trade backtest --strategy passive-back ./tapes -o results
  tapedeck trade strategies`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &cli.UsageError{Err: fmt.Errorf("unknown command %q; backtest, paper, report, strategies and serve work today, live is coming", args[0])}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "trade: backtest, paper, report, strategies and serve work today (trade COMMAND --help); live trading is coming.")
			return nil
		},
	})
	root.AddCommand(ServeCommand(), BacktestCommand(reg), PaperCommand(reg), LiveCommand(reg), ReportCommand(), ListCommand(reg))
	return root
}

// ListCommand is `trade strategies`: the registered strategies, their
// descriptions and parameters.
func ListCommand(reg *strategies.Registry) *cobra.Command {
	return &cobra.Command{
		Use:     "strategies",
		Short:   "List the strategies trade backtest can run",
		Example: "  tapedeck trade strategies",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			for _, in := range reg.List() {
				fmt.Fprintf(w, "%-16s %s\n", in.Name, in.Description)
				for _, k := range sortedKeys(in.Params) {
					fmt.Fprintf(w, "%-16s   --param %s=…  %s\n", "", k, in.Params[k])
				}
			}
			return nil
		},
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// strategyOf looks up the strategy a trade command was given and checks its
// --param values by making one instance; every error is a usage error
// (exit 2) naming what to fix.
func strategyOf(reg *strategies.Registry, name string, kvs []string) (strategies.Info, strategies.Params, error) {
	if name == "" {
		return strategies.Info{}, nil, &cli.UsageError{Err: fmt.Errorf("--strategy is required (trade strategies lists them)")}
	}
	info, ok := reg.Lookup(name)
	if !ok {
		return info, nil, &cli.UsageError{Err: fmt.Errorf("unknown strategy %q (trade strategies lists them)", name)}
	}
	params, err := strategies.ParseParams(kvs)
	if err != nil {
		return info, nil, &cli.UsageError{Err: err}
	}
	if err := info.CheckParams(params); err != nil {
		return info, nil, &cli.UsageError{Err: err}
	}
	if _, err := info.New(params); err != nil {
		return info, nil, &cli.UsageError{Err: fmt.Errorf("strategy %s: %w", name, err)}
	}
	return info, params, nil
}

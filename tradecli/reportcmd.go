package tradecli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/tradecli/report"
)

// ReportCommand is `trade report`: the HTML strategy report of a results
// directory.
func ReportCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report DIR -o FILE",
		Short: "Write the HTML strategy report of a results directory",
		Long: `report writes one self-contained HTML file (no network needed to open it)
from a results directory of trade backtest: the run's summary, profit over
time and its drawdown, profit and volume by market type, venue, country,
event type, price band, side and time to the off, fill statistics, and a
view of each market with the strategy's orders and fills drawn on the
runner's prices (docs/report.md).

Price charts, venues and fill times need a run made with --report, which
records prices.parquet, market_info.parquet and fills.parquet; without them
the report shows the rest.`,
		Example: `  tapedeck trade backtest --strategy passive-back testdata/tapes -o results --report results/report.html
  tapedeck trade report results -o report.html`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return &cli.UsageError{Err: fmt.Errorf("-o FILE is required")}
			}
			if err := report.WriteFile(args[0], out); err != nil {
				return err
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), out)
			return err
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "the HTML file to write")
	return cmd
}

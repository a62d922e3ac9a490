package record

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/recorder"
)

func newFlushCmd() *cobra.Command {
	var d destFlags
	var logLevel string
	cmd := &cobra.Command{
		Use:   "flush",
		Short: "Close and upload every tape the spool holds",
		Long: `record flush closes every tape a stopped recorder left open in --spool and
uploads it, with the tapes already waiting, to --dest; each leaves the spool
only once the store has confirmed it whole. Run it after record run has
stopped (not beside a running one on the same spool).

Exit codes: 0 the spool is empty; 1 some tapes could not be uploaded (they
stay in the spool; run flush again), or --spool does not exist; 2 bad
flags, or a recorder is running on the spool.`,
		Example: "  tapedeck record flush --spool /var/lib/tapedeck/spool --dest s3://my-bucket/tapes",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return &cli.UsageError{Err: fmt.Errorf("--log-level: %w", err)}
			}
			log := cli.NewLogger(os.Stderr, level)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// A spool that is not there is a typo or a missing mount, not
			// an empty spool: say so rather than create it and report
			// success. And with nothing to flush, nothing is created.
			waiting, err := recorder.SpoolTapes(d.spool)
			if err != nil {
				return fmt.Errorf("record flush: %w", err)
			}
			if waiting == 0 {
				log.Info("flushed", "uploaded", 0, "dest", d.dest)
				fmt.Fprintf(cmd.OutOrStdout(), "uploaded 0 tapes to %s (the spool %s holds none)\n", d.dest, d.spool)
				return nil
			}
			cfg, err := d.config(ctx, log)
			if err != nil {
				return err
			}
			rec, err := recorder.New(cfg)
			if err != nil {
				return exitError(err)
			}
			defer rec.Shutdown()
			if err := rec.CloseAll(); err != nil {
				return err
			}
			n, err := rec.UploadClosed(ctx)
			log.Info("flushed", "uploaded", n, "dest", d.dest)
			if err != nil {
				return fmt.Errorf("record flush: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "uploaded %d tapes to %s\n", n, d.dest)
			return nil
		},
	}
	d.add(cmd.Flags())
	cmd.Flags().IntVar(&d.attempts, "attempts", 8, "tries per tape before giving up (it stays in the spool)")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}

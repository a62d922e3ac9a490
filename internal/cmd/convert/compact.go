package convert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/pipeline/parquet"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/s3"
)

func newCompactCmd() *cobra.Command {
	var (
		small, target, rowGroup int64
		s3opts                  s3.Options
	)
	cmd := &cobra.Command{
		Use:   "compact DEST",
		Short: "Merge the small files of a Parquet dataset's partitions into few",
		Long: `compact rewrites, in every partition of a dataset convert parquet wrote, the
files smaller than --small (of batches whose inputs lie in that partition
alone) into files of at most about --target, markets in id order, row groups
of about --row-group; the files table then names the new files. Sizes are
in MiB.

It is safe to stop at any point: the new files are staged under
DEST/_compact/ and a manifest written before any old file goes; the next
compact or convert parquet run finishes (or, before the manifest, undoes)
what was cut short. A reader never sees a row twice, but may miss a
partition's rows while its old files are replaced. No convert parquet run
may write to DEST meanwhile (in a local directory, compact checks).`,
		Example: `  tapedeck convert compact dataset/
  tapedeck convert compact s3://bucket/dataset --s3-endpoint http://127.0.0.1:7070`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if small <= 0 || target <= 0 || rowGroup <= 0 {
				return &cli.UsageError{Err: errors.New("--small, --target and --row-group must be positive")}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := cli.NewLogger(os.Stderr, slog.LevelInfo)
			st, prefix, err := store.Open(ctx, args[0], store.Options{S3: s3opts.WithLogger(log)})
			if err != nil {
				return err
			}
			release, err := claimAlone(st, prefix, log)
			if err != nil {
				return err
			}
			defer release()
			return compact(ctx, cmd.OutOrStdout(), st, prefix, args[0], parquet.CompactOptions{Small: small << 20,
				Target: target << 20, RowGroup: rowGroup << 20, Log: log})
		},
	}
	fl := cmd.Flags()
	fl.Int64Var(&small, "small", parquet.CompactSmall>>20, "files under this size (MiB) are merged")
	fl.Int64Var(&target, "target", parquet.CompactTarget>>20, "largest merged file (MiB), about")
	fl.Int64Var(&rowGroup, "row-group", parquet.CompactRowGroup>>20, "row group size (MiB, compressed), about")
	s3opts.AddFlags(fl)
	return cmd
}

// compact compacts the dataset at dest (store st, prefix) and prints the
// summary line to out; the caller holds the dataset alone.
func compact(ctx context.Context, out io.Writer, st store.Store, prefix, dest string, opts parquet.CompactOptions) error {
	start := time.Now()
	opts.Version, opts.Run = cli.Version(), strconv.FormatInt(start.UnixMilli(), 36)
	res, err := parquet.Compact(ctx, st, prefix, opts)
	for _, k := range res.Kept {
		opts.Log.Info("left as it is", "batch", k)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d partitions compacted: %d files replaced by %d in %s in %s\n",
		res.Partitions, res.Removed, res.Written, dest, time.Since(start).Round(time.Millisecond))
	return nil
}

package record

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/pflag"

	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/recorder"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/s3"
)

// destFlags say where tapes go and how.
type destFlags struct {
	spool, dest, layout, ordersLayout, compress string
	attempts                                    int
	s3                                          s3.Options
	// backoffScale multiplies the upload back-off and rescan period
	// (hidden: tests shorten an outage's minutes to seconds).
	backoffScale float64
}

func (d *destFlags) add(f *pflag.FlagSet) {
	f.StringVar(&d.spool, "spool", "./spool", "directory holding open tapes and tapes awaiting upload")
	f.StringVar(&d.dest, "dest", "./tapes", "where closed tapes go: a directory or s3://bucket/prefix")
	f.StringVar(&d.layout, "layout", recorder.DefaultLayout, "key of a market tape under --dest; placeholders {event_type_id} {event_id} {market_id} {market_type} {country_code} {yyyy} {mm} {dd} (market time, UTC)")
	f.StringVar(&d.ordersLayout, "orders-layout", recorder.DefaultOrdersLayout, "key of an order tape under --dest")
	f.StringVar(&d.compress, "compress", "zstd", "compression of uploaded tapes: zstd, gzip or none (the key's suffix follows)")
	d.s3.AddFlags(f)
	f.Float64Var(&d.backoffScale, "upload-backoff-scale", 1, "multiply the upload back-off (1 s doubling to 2 min) and the minute between scans of the spool (tests)")
	f.MarkHidden("upload-backoff-scale")
}

func (d *destFlags) config(ctx context.Context, log *slog.Logger) (recorder.Config, error) {
	if err := recorder.CheckLayout(d.layout); err != nil {
		return recorder.Config{}, &cli.UsageError{Err: err}
	}
	switch d.compress {
	case "zstd", "gzip", "none":
	default:
		return recorder.Config{}, &cli.UsageError{Err: fmt.Errorf("--compress %q: want zstd, gzip or none", d.compress)}
	}
	d.s3.Logger = log // the AWS SDK's lines too, at the user's level
	st, prefix, err := store.Open(ctx, d.dest, store.Options{S3: d.s3})
	if err != nil {
		return recorder.Config{}, &cli.UsageError{Err: fmt.Errorf("--dest: %w", err)}
	}
	if d.backoffScale <= 0 || d.backoffScale > 1 {
		return recorder.Config{}, &cli.UsageError{Err: fmt.Errorf("--upload-backoff-scale %v: want more than 0, at most 1", d.backoffScale)}
	}
	scale := func(v time.Duration) time.Duration { return time.Duration(float64(v) * d.backoffScale) }
	return recorder.Config{
		Spool: d.spool, Store: st, Prefix: prefix,
		Layout: d.layout, OrdersLayout: d.ordersLayout, Compress: d.compress,
		Attempts: d.attempts, Logger: log,
		MinBackoff: scale(time.Second), MaxBackoff: scale(2 * time.Minute), Rescan: scale(time.Minute),
	}, nil
}

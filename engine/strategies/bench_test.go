package strategies_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/sim"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tape"
)

// benchReplay runs passive-back over inputs b.N times and reports updates
// and markets per second of wall time.
func benchReplay(b *testing.B, inputs []string, workers int) {
	info, _ := strategies.Builtins().Lookup("passive-back")
	var updates, markets int64
	b.ResetTimer()
	for range b.N {
		res, err := engine.Replay(context.Background(), inputs, engine.Config{
			NewStrategy:  func() (engine.Strategy, error) { return info.New(nil) },
			NewExecution: sim.NewExecution(sim.Flumine),
			Workers:      workers,
			Commission:   0.05,
			Cache:        book.Options{CalculateMarketTv: true, CumulativeRunnerTv: true},
		})
		if err != nil {
			b.Fatal(err)
		}
		updates += res.Updates
		markets += int64(len(res.Markets))
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(updates)/s, "updates/s")
	b.ReportMetric(float64(markets)/s, "markets/s")
}

// BenchmarkPassiveBackTar is passive-back over Betfair's greyhound tar (32
// bz2 members), as flumine reads it in testdata/golden/flumine/timings.txt.
func BenchmarkPassiveBackTar(b *testing.B) {
	tar := testenv.Shared(b, "data/historic/pro-greyhounds-2022-03-01.tar")
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) { benchReplay(b, []string{tar}, w) })
	}
}

// BenchmarkPassiveBackZstd is the same markets as zstd tapes.
// TAPEDECK_BENCH_TAPES names a directory of such tapes made beforehand,
// to profile the replay without the conversion.
func BenchmarkPassiveBackZstd(b *testing.B) {
	if dir := os.Getenv("TAPEDECK_BENCH_TAPES"); dir != "" {
		benchReplay(b, []string{dir}, 1)
		return
	}
	tar := testenv.Shared(b, "data/historic/pro-greyhounds-2022-03-01.tar")
	dir := b.TempDir()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		b.Fatal(err)
	}
	err = tape.Walk(context.Background(), []string{tar}, func(ctx context.Context, t *tape.Tape) error {
		lr, err := t.Lines()
		if err != nil {
			return err
		}
		defer lr.Close()
		var raw []byte
		for lr.Next() {
			raw = append(append(raw, lr.Bytes()...), '\n')
		}
		name := strings.TrimSuffix(filepath.Base(t.Name), ".bz2") + ".zst"
		return os.WriteFile(filepath.Join(dir, name), enc.EncodeAll(raw, nil), 0o644)
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) { benchReplay(b, []string{dir}, w) })
	}
}

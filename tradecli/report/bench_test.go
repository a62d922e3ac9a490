package report_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tradecli"
)

// BenchmarkBacktestReport runs trade backtest on the shared greyhound
// archive without and with --report: the budget is 10% more time
// with it. One worker, so that a shared machine's other load matters less;
// compare the sub-benchmarks' ns/op (scripts/bench.sh does not run this).
func BenchmarkBacktestReport(b *testing.B) {
	tar := testenv.Shared(b, "data/historic/pro-greyhounds-2022-03-01.tar")
	for _, withReport := range []bool{false, true} {
		name := "plain"
		if withReport {
			name = "report"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			args := []string{"backtest", "--strategy", "passive-back", "--workers", "1", "-o", dir, tar}
			if withReport {
				args = append(args, "--report", filepath.Join(dir, "report.html"))
			}
			for b.Loop() {
				cmd := tradecli.NewCommand(strategies.Builtins())
				cmd.SetOut(&bytes.Buffer{})
				cmd.SetArgs(args)
				if err := cmd.Execute(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

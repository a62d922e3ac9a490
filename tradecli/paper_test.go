package tradecli_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tradecli"
	"github.com/tapedeck/tapedeck/tradecli/tradeclitest"
)

// TestPaperCommandEqualsBacktest runs trade paper against a local exchange
// replaying the shared streams and finds the very tables trade backtest
// writes for the same tapes.
func TestPaperCommandEqualsBacktest(t *testing.T) {
	inputs := []string{testenv.Shared(t, "data/streams/1.197931750"), testenv.Shared(t, "data/streams/1.197931751")}
	out := tradeclitest.PaperEqualsBacktest(t, strategies.Builtins(), []string{"--strategy", "passive-back"}, inputs, "1.197931750,1.197931751")
	if !strings.Contains(out, "orders          12 (10 matched") || !strings.Contains(out, "net             37.33") {
		t.Errorf("summary:\n%s", out)
	}
}

func TestPaperCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", "x", "--exchange-info", "e.json"}, "--strategy is required"},
		{[]string{"--strategy", "nope", "-o", "x", "--exchange-info", "e.json"}, "unknown strategy"},
		{[]string{"--strategy", "passive-back", "--exchange-info", "e.json"}, "-o DIR"},
		{[]string{"--strategy", "passive-back", "-o", "x"}, "--exchange-info FILE is required"},
		{[]string{"--strategy", "passive-back", "-o", "x", "--exchange-info", filepath.Join(t.TempDir(), "none.json"), "--exchange-info-wait", "0s"}, "waited 0s"},
	} {
		cmd := tradecli.PaperCommand(strategies.Builtins())
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		cmd.SetArgs(tc.args)
		if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want %q", tc.args, err, tc.want)
		}
	}
}

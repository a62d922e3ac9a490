package tradecli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/cli"
)

// TestStrategiesRegistered: the root command has backtest and strategies,
// and strategies lists both built-ins.
func TestStrategiesRegistered(t *testing.T) {
	root := NewCommand(strategies.Builtins())
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"strategies"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"lowest-layer", "passive-back"} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("trade strategies lacks %s:\n%s", name, out.String())
		}
	}
	if c, _, err := root.Find([]string{"backtest"}); err != nil || c.Name() != "backtest" {
		t.Errorf("no backtest command: %v", err)
	}
}

// TestUnknownParam: trade backtest refuses a --param the strategy does not
// have with exit 2, naming the strategy's parameters, before reading input.
func TestUnknownParam(t *testing.T) {
	root := NewCommand(strategies.Builtins())
	var stderr bytes.Buffer
	code := cli.RunArgs(root, []string{"backtest", "--strategy", "passive-back", "--param", "foo=1", "-o", t.TempDir(), "no-such-input"}, &stderr)
	if code != cli.ExitUsage {
		t.Errorf("exit %d, want %d", code, cli.ExitUsage)
	}
	if want := "no parameter foo; it has stake, within"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q lacks %q", stderr.String(), want)
	}
}

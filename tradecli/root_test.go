package tradecli

import (
	"bytes"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"strings"
	"testing"
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

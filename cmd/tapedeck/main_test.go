package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/internal/cmd/convert"
	"github.com/tapedeck/tapedeck/internal/cmd/record"
	"github.com/tapedeck/tapedeck/tradecli"
)

// roots returns the four binaries' command trees, each freshly built.
func roots() map[string]func() *cobra.Command {
	return map[string]func() *cobra.Command{
		"tapedeck": newRootCmd,
		"record":   record.NewCommand,
		"convert":  convert.NewCommand,
		"trade":    func() *cobra.Command { return tradecli.NewCommand(strategies.Builtins()) },
	}
}

// walk calls fn for every command of the tree under c that tapedeck wrote
// (cobra's own help and completion commands excluded).
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	if c.Name() == "help" || c.Name() == "completion" {
		return
	}
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

var (
	envAssign = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=\S*\s+`)
	varName   = regexp.MustCompile(`^[A-Za-z_]*$`)
)

// TestHelp walks every command of the four binaries and checks what a user
// reading --help meets: an example that runs the command through the
// tapedeck binary, and flags whose usage line names one placeholder and at
// most one default.
func TestHelp(t *testing.T) {
	for bin, mk := range roots() {
		walk(mk(), func(c *cobra.Command) {
			path := c.CommandPath()
			t.Run(strings.ReplaceAll(bin+"/"+path, " ", "_"), func(t *testing.T) {
				want := "tapedeck " + strings.TrimPrefix(strings.TrimPrefix(path, "tapedeck"), " ")
				if !strings.Contains(c.Example, strings.TrimSpace(want)) {
					t.Errorf("%s: no example running %q:\n%s", path, want, c.Example)
				}
				// Each logical example line (continuations joined, leading
				// VAR=value settings dropped) is a tapedeck command.
				for _, line := range strings.Split(strings.ReplaceAll(c.Example, "\\\n", " "), "\n") {
					line = strings.TrimSpace(line)
					for envAssign.MatchString(line) {
						line = envAssign.ReplaceAllString(line, "")
					}
					if line != "" && !strings.HasPrefix(line, "tapedeck ") {
						t.Errorf("%s: example line does not start with tapedeck: %q", path, line)
					}
				}
				c.Flags().VisitAll(func(f *pflag.Flag) {
					name, usage := pflag.UnquoteUsage(f)
					if !varName.MatchString(name) || strings.Contains(usage, "`") {
						t.Errorf("%s --%s: garbled placeholder %q in %q", path, f.Name, name, f.Usage)
					}
					fs := pflag.NewFlagSet("", pflag.ContinueOnError)
					fs.AddFlag(f)
					if line := fs.FlagUsages(); strings.Count(line, "(default") > 1 {
						t.Errorf("%s --%s: more than one default: %s", path, f.Name, line)
					}
				})
			})
		})
	}
}

// TestHelpRenders runs --help on every command through the same path the
// binaries take and checks that it succeeds and shows the examples.
func TestHelpRenders(t *testing.T) {
	var paths [][]string
	walk(newRootCmd(), func(c *cobra.Command) {
		paths = append(paths, strings.Fields(c.CommandPath())[1:])
	})
	for _, p := range paths {
		var stdout, stderr bytes.Buffer
		root := newRootCmd()
		root.SetOut(&stdout)
		if code := cli.RunArgs(root, append(p, "--help"), &stderr); code != cli.ExitOK {
			t.Errorf("tapedeck %s --help: exit %d: %s", strings.Join(p, " "), code, stderr.String())
		}
		if !strings.Contains(stdout.String(), "Examples:\n") {
			t.Errorf("tapedeck %s --help shows no example:\n%s", strings.Join(p, " "), stdout.String())
		}
	}
}

// TestUsageErrors: mistakes on the command line exit 2 and point to the
// --help of the command that was mistyped, not the root's.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		wantHelp string
	}{
		{[]string{"frobnicate"}, cli.ExitUsage, "Run 'tapedeck --help'"},
		{[]string{"convrt"}, cli.ExitUsage, "Run 'tapedeck --help'"},
		{[]string{"convert", "frobnicate"}, cli.ExitUsage, "Run 'tapedeck convert --help'"},
		{[]string{"record", "frobnicate"}, cli.ExitUsage, "Run 'tapedeck record --help'"},
		{[]string{"trade", "frobnicate"}, cli.ExitUsage, "Run 'tapedeck trade --help'"},
		{[]string{"record", "run", "extra"}, cli.ExitUsage, "Run 'tapedeck record run --help'"},
		{[]string{"convert", "books", "--no-such-flag", "x"}, cli.ExitUsage, "Run 'tapedeck convert books --help'"},
		{[]string{"convert", "stats"}, cli.ExitUsage, "Run 'tapedeck convert stats --help'"},
		{[]string{"trade", "strategies", "extra"}, cli.ExitUsage, "Run 'tapedeck trade strategies --help'"},
		{[]string{"convert"}, cli.ExitOK, ""},
		{[]string{}, cli.ExitOK, ""},
	} {
		var stdout, stderr bytes.Buffer
		root := newRootCmd()
		root.SetOut(&stdout)
		code := cli.RunArgs(root, tc.args, &stderr)
		if code != tc.code {
			t.Errorf("tapedeck %s: exit %d, want %d (%s)", strings.Join(tc.args, " "), code, tc.code, stderr.String())
		}
		if tc.wantHelp != "" && !strings.Contains(stderr.String(), tc.wantHelp) {
			t.Errorf("tapedeck %s: stderr %q does not say %q", strings.Join(tc.args, " "), stderr.String(), tc.wantHelp)
		}
	}
}

// TestSubcommandsAreTheThinBinaries: tapedeck holds exactly the commands of
// record, convert and trade, so neither drifts from the other.
func TestSubcommandsAreTheThinBinaries(t *testing.T) {
	all := map[string]bool{}
	walk(newRootCmd(), func(c *cobra.Command) { all[c.CommandPath()] = true })
	for _, bin := range []string{"record", "convert", "trade"} {
		walk(roots()[bin](), func(c *cobra.Command) {
			if !all["tapedeck "+c.CommandPath()] {
				t.Errorf("%s is missing from tapedeck", c.CommandPath())
			}
			delete(all, "tapedeck "+c.CommandPath())
		})
	}
	delete(all, "tapedeck")
	for p := range all {
		t.Errorf("%s is in tapedeck but in none of the thin binaries", p)
	}
}

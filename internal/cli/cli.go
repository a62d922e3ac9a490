// Package cli holds what the three tapedeck commands share: the version
// string, logging set-up and exit codes.
package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command, documented in the README.
const (
	ExitOK      = 0 // the work is done
	ExitFailure = 1 // the work failed, or bad input under --strict
	ExitUsage   = 2 // wrong flags or arguments, or a setting the user must fix
)

// UsageError marks an error the user fixes by changing the command line; the
// command exits with ExitUsage for it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var u *UsageError
	if errors.As(err, &u) {
		return ExitUsage
	}
	return ExitFailure
}

// version is the release version scripts/build.sh stamps in at link time
// (-ldflags "-X github.com/tapedeck/tapedeck/internal/cli.version=v1.2.3").
// It is a variable only because the linker can set nothing else; nothing
// assigns it at run time.
var version string

// Version reports the version the binary was built as: the one
// scripts/build.sh stamped in, else the module version ("devel" for a plain
// `go build` inside the work tree) with the VCS revision when the build
// recorded one.
func Version() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += "+" + s.Value[:12]
		}
	}
	return v
}

// IsTerminal reports whether f is a character device, which is how the
// commands decide between human output (progress, text logs) and quiet,
// machine-readable output for cron and pipes.
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// NewLogger returns the logger every command uses, by one rule: text when
// w is a terminal, JSON otherwise (a pipe, a file, cron, systemd, a
// container), so that collected logs are structured and a person watching
// reads plain lines.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if f, ok := w.(*os.File); ok && IsTerminal(f) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// Run executes a root command with the process's arguments, prints any
// error once on standard error and returns the exit code for os.Exit.
func Run(root *cobra.Command) int {
	return RunArgs(root, os.Args[1:], os.Stderr)
}

// RunArgs is Run with explicit arguments and error stream, for tests. An
// error is printed as "<command path>: <error>"; a usage error adds the
// one line pointing to the --help of the command that failed (not the
// root's), as git and restic do.
func RunArgs(root *cobra.Command, args []string, stderr io.Writer) int {
	prepare(root)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err != nil {
		if cmd == nil {
			cmd = root
		}
		fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), err)
		var u *UsageError
		if errors.As(err, &u) {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
	return ExitCode(err)
}

// prepare makes argument mistakes usage errors everywhere in the tree. Left
// to cobra, an unknown subcommand is a plain error (exit 1) under a root and
// silently prints help (exit 0) under a nested group such as `tapedeck
// convert`; here a group with no arguments prints its help and a group
// given an unknown word exits ExitUsage, and every Args check's error is a
// UsageError.
func prepare(c *cobra.Command) {
	if c.HasSubCommands() && !c.Runnable() {
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		c.Args = unknownCommand
		c.DisableFlagsInUseLine = true // a group takes a command, not flags of its own
	}
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				var u *UsageError
				if errors.As(err, &u) {
					return err
				}
				return &UsageError{Err: err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		prepare(sub)
	}
}

// unknownCommand is the Args check of a command group: any argument is a
// subcommand that does not exist.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return &UsageError{Err: errors.New(msg)}
}

// Configure applies the settings every tapedeck command shares to its root:
// errors are printed once by Run, usage is not dumped after a runtime error,
// and flag mistakes become UsageErrors (exit code 2).
func Configure(root *cobra.Command) *cobra.Command {
	root.Version = Version()
	root.SilenceUsage = true
	root.SilenceErrors = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &UsageError{Err: err}
	})
	return root
}

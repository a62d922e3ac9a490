package tradecli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tapedeck/tapedeck/internal/cli"
)

// stopBound is how long trade live may take to stop once asked (a signal,
// --duration): cancelling its orders and waiting for the exchange
// (engine.DefaultStopWithin), then writing its outputs.
const stopBound = 15 * time.Second

// checkRunLimits refuses a negative run-wide limit (0 is none).
func checkRunLimits(o *LiveOptions) error {
	for _, l := range []struct {
		flag string
		v    float64
	}{
		{"--max-transactions-per-hour", float64(o.MaxTransactionsPerHour)},
		{"--max-instructions-per-second", float64(o.MaxInstructionsPerSecond)},
		{"--daily-loss-limit", o.DailyLossLimit},
	} {
		if l.v < 0 {
			return &cli.UsageError{Err: fmt.Errorf("%s %g: want 0 (no limit) or more", l.flag, l.v)}
		}
	}
	return nil
}

// killSwitch returns trade live's kill switch: it is closed on SIGUSR1,
// or once the file haltFile exists (looked for at once, then each
// second), whichever comes first, until ctx ends.
func killSwitch(ctx context.Context, haltFile string, log *slog.Logger) <-chan struct{} {
	halt := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	exists := func() bool {
		if haltFile == "" {
			return false
		}
		_, err := os.Stat(haltFile)
		return err == nil
	}
	go func() {
		defer signal.Stop(sig)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for !exists() {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				log.Warn("kill switch: SIGUSR1")
				close(halt)
				return
			case <-tick.C:
			}
		}
		log.Warn("kill switch: the halt file exists", "file", haltFile)
		close(halt)
	}()
	return halt
}

// stopGuard enforces stopBound: once ctx has ended, the process exits
// with status 1 if the command has not returned within the bound. The
// returned func tells it the command has returned.
func stopGuard(ctx context.Context, log *slog.Logger) (returned func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		t := time.NewTimer(stopBound)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			log.Error("trade live: the stop took longer than its bound; exiting", "bound", stopBound)
			os.Exit(1)
		}
	}()
	return func() { close(done) }
}

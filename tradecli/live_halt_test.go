package tradecli

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestKillSwitch: trade live's kill switch closes on the halt file (there
// at the start, or appearing later) and on SIGUSR1, and not otherwise.
func TestKillSwitch(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wait := func(name string, halt <-chan struct{}) {
		t.Helper()
		select {
		case <-halt:
		case <-ctx.Done():
			t.Fatalf("%s: the kill switch never closed", name)
		}
	}
	dir := t.TempDir()
	there := filepath.Join(dir, "there")
	if err := os.WriteFile(there, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wait("file at the start", killSwitch(ctx, there, log))

	later := filepath.Join(dir, "later")
	halt := killSwitch(ctx, later, log)
	select {
	case <-halt:
		t.Fatal("closed with no halt file")
	default:
	}
	if err := os.WriteFile(later, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wait("file appearing", halt)

	halt = killSwitch(ctx, "", log)
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	wait("SIGUSR1", halt)

}

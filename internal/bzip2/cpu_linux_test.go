//go:build linux

package bzip2

import (
	"bytes"
	stdbzip2 "compress/bzip2"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestCPUVersusC compares CPU time (not wall time, which a busy machine
// distorts) of this decoder, compress/bzip2 and the bzip2 command over the
// tar's members, one core each, best of 5. It runs only with
// BZIP2_CPU_COMPARE=1:
//
//	BZIP2_CPU_COMPARE=1 go test -run CPUVersusC -v ./internal/bzip2
func TestCPUVersusC(t *testing.T) {
	if os.Getenv("BZIP2_CPU_COMPARE") == "" {
		t.Skip("set BZIP2_CPU_COMPARE=1 to compare CPU time with compress/bzip2 and the bzip2 command")
	}
	members := tarMembers(t, filepath.Join(historicDir(t), historicTar))
	bz2, err := exec.LookPath("bzip2")
	if err != nil {
		t.Skip("no bzip2 command")
	}
	dir := t.TempDir()
	var files []string
	for i, m := range members {
		f := filepath.Join(dir, fmt.Sprintf("%d.bz2", i))
		if err := os.WriteFile(f, m.data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	best := map[string]time.Duration{}
	note := func(k string, d time.Duration) {
		if b, ok := best[k]; !ok || d < b {
			best[k] = d
		}
	}
	var out int64
	for range 5 {
		c0 := cpu()
		out = 0
		for _, m := range members {
			n, err := io.Copy(io.Discard, NewReader(bytes.NewReader(m.data)))
			if err != nil {
				t.Fatal(err)
			}
			out += n
		}
		note("tapedeck", cpu()-c0)
		c0 = cpu()
		for _, m := range members {
			io.Copy(io.Discard, stdbzip2.NewReader(bytes.NewReader(m.data)))
		}
		note("compress/bzip2", cpu()-c0)
		var c time.Duration
		for _, f := range files {
			cmd := exec.Command(bz2, "-dc", f)
			cmd.Stdout = io.Discard
			if err := cmd.Run(); err != nil {
				t.Fatal(err)
			}
			c += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		note("bzip2 -dc", c)
	}
	for _, k := range []string{"tapedeck", "compress/bzip2", "bzip2 -dc"} {
		t.Logf("%-15s %7.3fs CPU  %6.1f MB/s  %.2fx bzip2 -dc", k, best[k].Seconds(), float64(out)/1e6/best[k].Seconds(), float64(best[k])/float64(best["bzip2 -dc"]))
	}
}

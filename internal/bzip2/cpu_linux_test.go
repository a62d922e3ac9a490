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

// BenchmarkCPUVersusC compares CPU time (not wall time, which a busy machine
// distorts) of this decoder, compress/bzip2 and the bzip2 command over the
// shared tar's members, one core each, and reports each as CPU seconds per
// pass over the tar and as a multiple of the bzip2 command's:
//
//	go test -run '^$' -bench CPUVersusC -benchtime 5x ./internal/bzip2
func BenchmarkCPUVersusC(b *testing.B) {
	members := tarMembers(b, filepath.Join(historicDir(b), historicTar))
	bz2, err := exec.LookPath("bzip2")
	if err != nil {
		b.Skip("no bzip2 command")
	}
	dir := b.TempDir()
	var files []string
	var size int64
	for i, m := range members {
		f := filepath.Join(dir, fmt.Sprintf("%d.bz2", i))
		if err := os.WriteFile(f, m.data, 0o644); err != nil {
			b.Fatal(err)
		}
		files = append(files, f)
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var ours, std, cmd time.Duration
	for b.Loop() {
		c0 := cpu()
		size = 0
		for _, m := range members {
			n, err := io.Copy(io.Discard, NewReader(bytes.NewReader(m.data)))
			if err != nil {
				b.Fatal(err)
			}
			size += n
		}
		ours += cpu() - c0
		c0 = cpu()
		for _, m := range members {
			if _, err := io.Copy(io.Discard, stdbzip2.NewReader(bytes.NewReader(m.data))); err != nil {
				b.Fatal(err)
			}
		}
		std += cpu() - c0
		for _, f := range files {
			c := exec.Command(bz2, "-dc", f)
			c.Stdout = io.Discard
			if err := c.Run(); err != nil {
				b.Fatal(err)
			}
			cmd += c.ProcessState.UserTime() + c.ProcessState.SystemTime()
		}
	}
	n := float64(b.N)
	b.ReportMetric(ours.Seconds()/n, "tapedeck-cpu-s/op")
	b.ReportMetric(std.Seconds()/n, "stdlib-cpu-s/op")
	b.ReportMetric(cmd.Seconds()/n, "bzip2cmd-cpu-s/op")
	b.ReportMetric(float64(ours)/float64(cmd), "tapedeck/bzip2cmd")
	b.ReportMetric(float64(size)/1e6/(ours.Seconds()/n), "tapedeck-MB/cpu-s")
}

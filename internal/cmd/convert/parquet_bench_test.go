package convert

import (
	"archive/tar"
	"bytes"
	"compress/bzip2"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/tapedeck/tapedeck/internal/testenv"
)

// greyhoundMembers returns the greyhound tar's members, as stored (bzip2)
// and re-encoded as zstd tapes.
func greyhoundMembers(b *testing.B) (names []string, bz2, zst [][]byte) {
	f, err := os.Open(testenv.Shared(b, "data/historic/pro-greyhounds-2022-03-01.tar"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	enc, _ := zstd.NewWriter(nil)
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if !strings.HasSuffix(h.Name, ".bz2") {
			continue
		}
		raw, _ := io.ReadAll(tr)
		plain, err := io.ReadAll(bzip2.NewReader(bytes.NewReader(raw)))
		if err != nil {
			b.Fatal(err)
		}
		names = append(names, h.Name)
		bz2 = append(bz2, raw)
		zst = append(zst, enc.EncodeAll(plain, nil))
	}
	return names, bz2, zst
}

// BenchmarkConvertParquet runs convert parquet as users run it (default
// tables, grid and depth, --workers GOMAXPROCS) over the greyhound tar's 32
// markets written out as files, and reports market changes per second:
// once from the bzip2 members as Betfair ships them, once from the same
// data as zstd tapes. Being the command itself it cannot drift from it.
// What it leaves out is the process: start-up and a heap that is fresh
// from the kernel, where every page costs a fault (scripts/bench.sh times
// the binary, and docs/performance.md says what that costs here).
func BenchmarkConvertParquet(b *testing.B) {
	names, bz2, zst := greyhoundMembers(b)
	for _, c := range []struct {
		name, ext string
		data      [][]byte
	}{{"bzip2", ".bz2", bz2}, {"zstd", ".zst", zst}} {
		b.Run(c.name, func(b *testing.B) {
			in := b.TempDir()
			var size int64
			for i, d := range c.data {
				size += int64(len(d))
				name := strings.TrimSuffix(path.Base(names[i]), ".bz2") + c.ext
				if err := os.WriteFile(filepath.Join(in, name), d, 0o644); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(size)
			// runParquet sets the collector's bounds for the whole
			// process; the test binary gets its own back afterwards.
			defer debug.SetGCPercent(debug.SetGCPercent(gcPercent))
			defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit))
			workers := strconv.Itoa(runtime.GOMAXPROCS(0))
			var changes int64
			var elapsed, cpu time.Duration
			b.ResetTimer()
			for range b.N {
				out := filepath.Join(b.TempDir(), "ds")
				start, cpu0 := time.Now(), cpuTime()
				summary, err := runConvert(b, "parquet", "--workers", workers, in, "-o", out)
				elapsed, cpu = elapsed+time.Since(start), cpu+cpuTime()-cpu0
				if err != nil {
					b.Fatalf("%v\n%s", err, summary)
				}
				m := changesRe.FindStringSubmatch(summary)
				if m == nil {
					b.Fatalf("no market changes in the summary %q", summary)
				}
				n, _ := strconv.ParseInt(m[1], 10, 64)
				changes += n
			}
			b.ReportMetric(float64(changes)/elapsed.Seconds(), "changes/s")
			// CPU time is the figure that holds on a shared, loaded machine.
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(changes)/cpu.Seconds(), "changes/cpu-s")
		})
	}
}

// changesRe finds the market changes in convert parquet's summary line.
var changesRe = regexp.MustCompile(` (\d+) market changes,`)

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

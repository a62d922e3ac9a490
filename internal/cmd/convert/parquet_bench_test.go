package convert

import (
	"archive/tar"
	"bytes"
	"compress/bzip2"
	"context"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/pipeline/parquet"
	"github.com/tapedeck/tapedeck/pipeline/tables"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/tape"
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

// BenchmarkConvertParquet converts the greyhound tar's 32 markets (every
// table, default grid) on GOMAXPROCS workers, writing to a temporary
// directory, and reports market changes per second: once from the bzip2
// members as Betfair ships them, once from the same data as zstd tapes.
func BenchmarkConvertParquet(b *testing.B) {
	names, bz2, zst := greyhoundMembers(b)
	for _, c := range []struct {
		name string
		data [][]byte
	}{{"bzip2", bz2}, {"zstd", zst}} {
		b.Run(c.name, func(b *testing.B) {
			var size int64
			for _, d := range c.data {
				size += int64(len(d))
			}
			b.SetBytes(size)
			workers := runtime.GOMAXPROCS(0)
			// As the command runs (runParquet sets these unless the
			// environment does).
			defer debug.SetGCPercent(debug.SetGCPercent(gcPercent))
			defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit))
			var changes int64
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			for range b.N {
				st, err := store.NewDir(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				run := &parquetRun{redone: map[string]bool{}}
				jobs := make(chan int)
				var wg sync.WaitGroup
				for w := range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						pw := parquet.NewWriter(parquet.Options{Store: st, Version: "bench", Grid: tables.DefaultGridSpec,
							Batch: "bench-w" + string(rune('0'+w)), MaxRows: rowBudget / workers})
						var scratch tables.Scratch
						for i := range jobs {
							t := tape.NewTape(names[i], c.data[i])
							file := tables.File{Source: "bench", Member: names[i]}
							rows, err := convertTape(context.Background(), t, tables.Options{Grid: tables.DefaultGrid(), Scratch: &scratch}, &tape.Rules{Strict: true}, &file, run)
							if err != nil {
								b.Error(err)
								return
							}
							if err := pw.Add(context.Background(), rows, file); err != nil {
								b.Error(err)
								return
							}
						}
						if err := pw.Flush(context.Background()); err != nil {
							b.Error(err)
						}
					}()
				}
				for i := range names {
					jobs <- i
				}
				close(jobs)
				wg.Wait()
				changes += run.changes.Load()
			}
			cpu := (cpuTime() - cpu0).Seconds()
			b.ReportMetric(float64(changes)/time.Since(start).Seconds(), "changes/s")
			// CPU time is the figure that holds on a shared, loaded machine.
			b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(changes)/cpu, "changes/cpu-s")
		})
	}
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

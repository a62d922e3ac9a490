package book

import (
	"archive/tar"
	"bytes"
	"compress/bzip2"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// benchInputs are real tapes, decompressed into memory before timing: two
// from testdata/tapes and Betfair's PRO greyhound archive from the shared
// data (reference only; skipped when absent).
var benchInputs = []string{"1.205822330.bz2", "1.197931750", "pro-greyhounds-2022-03-01.tar"}

// lineCache keeps each input's lines for the life of one benchmark
// function: b.Run calls its body several times while it sizes b.N, and
// decompressing the greyhound archive again each time would dwarf the run.
type lineCache map[string][][]byte

func (c lineCache) get(b *testing.B, name string) [][]byte {
	if l, ok := c[name]; ok {
		return l
	}
	l := benchLines(b, name)
	c[name] = l
	return l
}

// benchLines returns the lines of a benchmark input: a tape in
// testdata/tapes, or a Betfair historic tar (every bz2 member's lines, one
// market after another) in the shared data.
func benchLines(b *testing.B, name string) [][]byte {
	if !strings.HasSuffix(name, ".tar") {
		return readInput(b, testdataDir+"/tapes/"+name)
	}
	f, err := os.Open(filepath.Join(sharedData, "historic", name))
	if os.IsNotExist(err) {
		b.Skipf("%s absent: the shared data directory is not checked out", name)
	}
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		if !strings.HasSuffix(h.Name, ".bz2") {
			continue
		}
		data, err := io.ReadAll(bzip2.NewReader(tr))
		if err != nil {
			b.Fatalf("%s: %s: %v", name, h.Name, err)
		}
		for _, l := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

// BenchmarkApply measures decode + Apply, one op per stream line, over real
// tapes replayed in a loop into one cache (a replayed line re-applies deltas
// to the market it built, which is what a long-lived cache does).
// changes/s counts market changes (mc elements); runner-changes/s counts rc
// elements. Allocations come only from the lines carrying a definition.
func BenchmarkApply(b *testing.B) {
	inputs := lineCache{}
	for _, name := range benchInputs {
		b.Run(name, func(b *testing.B) {
			lines := inputs.get(b, name)
			d := esa.NewDecoder()
			c := NewMarketCache(Options{})
			var msg esa.Message
			var changes, runnerChanges int
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if err := d.Decode(lines[i%len(lines)], &msg); err != nil {
					b.Fatal(err)
				}
				for j := range msg.MC {
					runnerChanges += len(msg.MC[j].RC)
				}
				changes += len(c.Apply(&msg))
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(changes)/s, "changes/s")
			reportCPU(b, cpu0, changes)
			b.ReportMetric(float64(runnerChanges)/s, "runner-changes/s")
		})
	}
}

// BenchmarkApplyDeltas is BenchmarkApply without the lines that carry a
// market definition: the steady state between definitions, which must not
// allocate.
func BenchmarkApplyDeltas(b *testing.B) {
	inputs := lineCache{}
	for _, name := range benchInputs {
		b.Run(name, func(b *testing.B) {
			all := inputs.get(b, name)
			d := esa.NewDecoder()
			c := NewMarketCache(Options{})
			var msg esa.Message
			var lines [][]byte
			for _, l := range all {
				if err := d.Decode(l, &msg); err != nil {
					b.Fatal(err)
				}
				c.Apply(&msg) // warm the cache: every market, runner, ladder
				hasDef := false
				for j := range msg.MC {
					hasDef = hasDef || msg.MC[j].Def != nil
				}
				if !hasDef {
					lines = append(lines, l)
				}
			}
			var changes int
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if err := d.Decode(lines[i%len(lines)], &msg); err != nil {
					b.Fatal(err)
				}
				changes += len(c.Apply(&msg))
			}
			b.ReportMetric(float64(changes)/b.Elapsed().Seconds(), "changes/s")
			reportCPU(b, cpu0, changes)
		})
	}
}

// BenchmarkApplyOnly measures Apply alone on lines decoded beforehand (one
// Message per line), to tell the cache's share of BenchmarkApply from the
// decoder's.
func BenchmarkApplyOnly(b *testing.B) {
	inputs := lineCache{}
	for _, name := range benchInputs {
		b.Run(name, func(b *testing.B) {
			lines := inputs.get(b, name)
			msgs := make([]esa.Message, len(lines))
			d := esa.NewDecoder()
			for i, l := range lines {
				if err := d.Decode(l, &msgs[i]); err != nil {
					b.Fatal(err)
				}
			}
			c := NewMarketCache(Options{})
			var changes int
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				changes += len(c.Apply(&msgs[i%len(msgs)]))
			}
			b.ReportMetric(float64(changes)/b.Elapsed().Seconds(), "changes/s")
			reportCPU(b, cpu0, changes)
		})
	}
}

// BenchmarkAppendLightweightJSON measures decode + Apply + writing the book
// of each changed market, what `convert books` does per line.
func BenchmarkAppendLightweightJSON(b *testing.B) {
	inputs := lineCache{}
	for _, name := range benchInputs {
		b.Run(name, func(b *testing.B) {
			lines := inputs.get(b, name)
			d := esa.NewDecoder()
			c := NewMarketCache(Options{})
			var msg esa.Message
			var buf []byte
			var books, bytes int
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if err := d.Decode(lines[i%len(lines)], &msg); err != nil {
					b.Fatal(err)
				}
				for _, m := range c.Apply(&msg) {
					buf = m.AppendLightweightJSON(buf[:0], JSONOptions{Snap: true})
					books++
					bytes += len(buf)
				}
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(books)/s, "books/s")
			if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
				b.ReportMetric(float64(books)/cpu, "books/cpu-s")
			}
			b.ReportMetric(float64(bytes)/s/1e6, "MB/s")
		})
	}
}

// reportCPU reports changes per CPU-second since cpu0: the machine may be
// shared, and CPU time says what one core achieves when the wall clock also
// counts time the benchmark was not running.
func reportCPU(b *testing.B, cpu0 time.Duration, changes int) {
	if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
		b.ReportMetric(float64(changes)/cpu, "changes/cpu-s")
	}
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package esa_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// benchFiles are the files BenchmarkDecode runs over: the repository's
// tapes, else the same recordings in ../shared.
var benchFiles = []string{
	"1.197931750",
	"1.197931751",
	"1.205822330.bz2",
	"1.164917629.bz2",
	"BASIC-1.132153978",
}

// benchLines loads the non-blank lines of a sample file.
func benchLines(b *testing.B, name string) [][]byte {
	var path string
	shared := sharedData(b)
	for _, dir := range []string{repoTestdata + "/tapes", shared + "/streams", shared + "/historic"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			path = filepath.Join(dir, name)
			break
		}
	}
	if path == "" {
		b.Skipf("%s not found in %s or %s", name, repoTestdata, shared)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var lines [][]byte
	splitSamples(b, path, data, 0, func(s sample) { lines = append(lines, s.line) })
	return lines
}

// BenchmarkDecode decodes every line of a real file per op and reports
// market changes (mc elements) per second, runner changes per second and
// MB/s. Market definitions are the only lines that allocate (a fresh
// definition the cache may keep); allocs/op counts them for the whole file.
func BenchmarkDecode(b *testing.B) {
	files := append([]string(nil), benchFiles...)
	shared := sharedData(b)
	if _, err := os.Stat(shared + "/historic/pro-greyhounds-2022-03-01.tar"); err == nil {
		files = append(files, "pro-greyhounds-2022-03-01.tar")
	}
	for _, name := range files {
		b.Run(strings.TrimSuffix(name, ".bz2"), func(b *testing.B) {
			var lines [][]byte
			if strings.HasSuffix(name, ".tar") {
				data, err := os.ReadFile(shared + "/historic/" + name)
				if err != nil {
					b.Fatal(err)
				}
				forEachTarMember(b, data, func(member string, content []byte) {
					splitSamples(b, member, content, 0, func(s sample) { lines = append(lines, s.line) })
				})
			} else {
				lines = benchLines(b, name)
			}
			benchmarkLines(b, lines)
		})
	}
}

func benchmarkLines(b *testing.B, lines [][]byte) {
	d := esa.NewDecoder()
	var m esa.Message
	size, changes, runners, defs := 0, 0, 0, 0
	for _, l := range lines {
		size += len(l)
		if err := d.Decode(l, &m); err != nil {
			b.Fatal(err)
		}
		changes += len(m.MC) + len(m.OC)
		for _, mc := range m.MC {
			runners += len(mc.RC)
			if mc.Def != nil {
				defs++
			}
		}
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		for _, l := range lines {
			if err := d.Decode(l, &m); err != nil {
				b.Fatal(err)
			}
		}
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(changes*b.N)/sec, "changes/s")
	// The machine may be shared: CPU time says what one core achieves
	// when the wall clock also counts time the benchmark was not running.
	if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
		b.ReportMetric(float64(changes*b.N)/cpu, "changes/cpu-s")
	}
	b.ReportMetric(float64(runners*b.N)/sec, "runnerchanges/s")
	b.ReportMetric(float64(defs), "defs/op")
}

// BenchmarkDecodeUpdates is BenchmarkDecode without the lines that carry a
// market definition: the steady state of a stream, which allocates nothing.
func BenchmarkDecodeUpdates(b *testing.B) {
	for _, name := range []string{"1.197931750", "1.205822330.bz2"} {
		b.Run(strings.TrimSuffix(name, ".bz2"), func(b *testing.B) {
			var lines [][]byte
			for _, l := range benchLines(b, name) {
				if !bytes.Contains(l, []byte(`"marketDefinition"`)) {
					lines = append(lines, l)
				}
			}
			benchmarkLines(b, lines)
		})
	}
}

// BenchmarkDecodeShallow measures the routing decode a recorder uses.
func BenchmarkDecodeShallow(b *testing.B) {
	lines := benchLines(b, "1.197931750")
	d := esa.NewDecoder()
	var m esa.Message
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			if err := d.DecodeShallow(l, &m); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(lines)*b.N)/b.Elapsed().Seconds(), "lines/s")
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

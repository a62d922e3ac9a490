package recorder

import (
	"bytes"
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/store"
)

// benchLines returns a real greyhound market's lines up to its CLOSED
// definition, and 1,000 market ids to spread them over: the market changes'
// bytes are unchanged, only the tape each goes to differs.
func benchLines(b *testing.B, markets int) ([][]byte, [][]byte) {
	src := readLines(b, testenv.Testdata(b, "tapes/1.197931750"))
	for i, l := range src {
		if containsClosed(l) {
			src = src[:i]
			break
		}
	}
	ids := make([][]byte, markets)
	for i := range ids {
		ids[i] = fmt.Appendf(nil, "1.%09d", 300000000+i)
	}
	return src, ids
}

// BenchmarkRecord measures the recording hot path with 1,000 markets open
// (and 2,000, for memory: run it alone under /usr/bin/time -v for peak RSS):
// decoding each line in full (as the stream client does) and appending it to
// its market's tape, while Run writes and fsyncs every tape each second in
// the background, as in `record run`.
func BenchmarkRecord(b *testing.B) {
	for _, markets := range []int{1000, 2000} {
		b.Run(fmt.Sprintf("markets=%d", markets), func(b *testing.B) { benchRecord(b, markets) })
	}
}

func benchRecord(b *testing.B, markets int) {
	src, ids := benchLines(b, markets)
	st, _ := store.NewDir(b.TempDir())
	r, err := New(Config{Spool: b.TempDir(), Store: st, Sync: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	dec := esa.NewDecoder()
	var m esa.Message
	var bytesIn int64
	// Open the 1,000 tapes before timing.
	for n := range ids {
		m.Reset()
		dec.Decode(src[0], &m)
		m.MC[0].ID = ids[n]
		if err := r.Handle(ctx, src[0], &m); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		l := src[n%len(src)]
		m.Reset()
		if err := dec.Decode(l, &m); err != nil {
			b.Fatal(err)
		}
		m.MC[0].ID = ids[n%len(ids)]
		if err := r.Handle(ctx, l, &m); err != nil {
			b.Fatal(err)
		}
		bytesIn += int64(len(l))
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(bytesIn)/b.Elapsed().Seconds()/1e6, "MB/s")
	// Wall time depends on what else the machine runs; the CPU time of the
	// process (stream side and sync ticks together) is the cost.
	if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
		b.ReportMetric(float64(n)/cpu, "msgs/cpu-s")
	}
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkUpload measures closing 1,000 tapes and uploading them
// zstd-compressed, with catalogues built from their definitions, to a
// directory store (each object fsynced); reported per message recorded.
func BenchmarkUpload(b *testing.B) {
	src, ids := benchLines(b, 1000)
	ctx := context.Background()
	var msgs, raw int64
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		st, _ := store.NewDir(b.TempDir())
		clk := &clock{t: time.Unix(1650392673, 0)}
		r := newTestRecorder(b, b.TempDir(), st, clk, nil)
		dec := esa.NewDecoder()
		var m esa.Message
		for rep := 0; rep < 10; rep++ {
			for _, l := range src {
				for _, id := range ids[:100] {
					m.Reset()
					dec.Decode(l, &m)
					m.MC[0].ID = ids[(int(id[len(id)-1])+rep*100)%len(ids)]
					if err := r.Handle(ctx, l, &m); err != nil {
						b.Fatal(err)
					}
					msgs++
					raw += int64(len(l))
				}
			}
		}
		if err := r.CloseAll(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c0 := cpuTime()
		if k, err := r.UploadClosed(ctx); err != nil || k == 0 {
			b.Fatalf("uploaded %d: %v", k, err)
		}
		cpu += cpuTime() - c0
	}
	if cpu > 0 {
		b.ReportMetric(float64(msgs)/cpu.Seconds(), "msgs/cpu-s")
	}
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(raw)/b.Elapsed().Seconds()/1e6, "MB/s")
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func containsClosed(l []byte) bool {
	return bytes.Contains(l, []byte(`"status":"CLOSED"`))
}

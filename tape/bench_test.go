package tape

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/internal/testenv"
)

// tarMembers returns the compressed bytes of every member of the shared
// Betfair archive, skipping the benchmark without it.
func tarMembers(b *testing.B) [][]byte {
	b.Helper()
	needShared(b)
	f, err := os.Open(sharedTar(b))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// benchLines reads every line of every tape, reporting decompressed MB/s and
// lines/s.
func benchLines(b *testing.B, tapes [][]byte) {
	dec := &decoders{}
	var plain, lines int64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		plain, lines = 0, 0
		for _, data := range tapes {
			tp := NewTape("bench", data)
			tp.dec = dec
			lr, err := tp.Lines()
			if err != nil {
				b.Fatal(err)
			}
			for lr.Next() {
				lines++
			}
			if err := lr.Err(); err != nil {
				b.Fatal(err)
			}
			lr.Close()
			plain += tp.DecompressedBytes()
		}
	}
	elapsed := time.Since(start)
	b.SetBytes(plain)
	b.ReportMetric(float64(lines)*float64(b.N)/elapsed.Seconds(), "lines/s")
}

// BenchmarkTarLinesBzip2 reads all lines of the 32 PRO members as Betfair
// ships them (bz2, decoded by newBzip2Reader).
func BenchmarkTarLinesBzip2(b *testing.B) {
	benchLines(b, tarMembers(b))
}

// BenchmarkTarLinesZstd reads the same lines recompressed as zstd, the
// compression tapedeck writes.
func BenchmarkTarLinesZstd(b *testing.B) {
	members := tarMembers(b)
	tapes := make([][]byte, len(members))
	for i, m := range members {
		var raw bytes.Buffer
		r, err := NewTape("m", m).Open()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(&raw, r); err != nil {
			b.Fatal(err)
		}
		tapes[i] = compressAs(b, Zstd, raw.Bytes())
	}
	benchLines(b, tapes)
}

// BenchmarkTarLinesPlain reads the same lines uncompressed: the line
// reader's own cost.
func BenchmarkTarLinesPlain(b *testing.B) {
	members := tarMembers(b)
	tapes := make([][]byte, len(members))
	for i, m := range members {
		r, err := NewTape("m", m).Open()
		if err != nil {
			b.Fatal(err)
		}
		if tapes[i], err = io.ReadAll(r); err != nil {
			b.Fatal(err)
		}
	}
	benchLines(b, tapes)
}

// BenchmarkForEachTar walks the archive file itself with ForEach and two
// workers (the machine's cores), counting lines: the whole reading side.
func BenchmarkForEachTar(b *testing.B) {
	needShared(b)
	var plain, lines atomic.Int64
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		plain.Store(0)
		lines.Store(0)
		err := ForEach(context.Background(), []string{sharedTar(b)}, 2, func(_ context.Context, t *Tape) error {
			lr, err := t.Lines()
			if err != nil {
				return err
			}
			defer lr.Close()
			n := int64(0)
			for lr.Next() {
				n++
			}
			lines.Add(n)
			plain.Add(t.DecompressedBytes())
			return lr.Err()
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.SetBytes(plain.Load())
	b.ReportMetric(float64(lines.Load())*float64(b.N)/elapsed.Seconds(), "lines/s")
}

// BenchmarkPlay is the one replay loop over real tapes, uncompressed so
// that it measures reading lines and decoding them: Betfair's PRO horse
// racing file and flumine's recording (about 146 ladder levels a line).
func BenchmarkPlay(b *testing.B) {
	for _, name := range []string{"1.205822330.bz2", "1.197931750"} {
		b.Run(name, func(b *testing.B) {
			raw, err := os.ReadFile(testenv.Testdata(b, "tapes/"+name))
			if err != nil {
				b.Fatal(err)
			}
			var plain []byte
			if err := (&Walker{}).Walk(context.Background(), []string{testenv.Testdata(b, "tapes/"+name)}, func(_ context.Context, t *Tape) error {
				rc, err := t.Open()
				if err != nil {
					return err
				}
				defer rc.Close()
				plain, err = io.ReadAll(rc)
				return err
			}); err != nil || len(raw) == 0 {
				b.Fatal(err)
			}
			var changes int64
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				changes = 0
				_, err := Play(context.Background(), NewTape(name, plain), nil, func(l *Line) error {
					changes += int64(len(l.Msg.MC))
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(changes)*float64(b.N)/time.Since(start).Seconds(), "changes/s")
		})
	}
}

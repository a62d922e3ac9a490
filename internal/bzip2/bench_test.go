package bzip2

import (
	"bytes"
	stdbzip2 "compress/bzip2"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDecode decompresses every bz2 member of Betfair's PRO greyhound
// tar (32 members, 3 MB to 38.9 MB) per iteration; MB/s is of output.
//
//	go test -run XXX -bench Decode ./internal/bzip2
func BenchmarkDecode(b *testing.B) {
	members := tarMembers(b, filepath.Join(historicDir(b), historicTar))
	var size int64
	for _, m := range members {
		n, err := io.Copy(io.Discard, NewReader(bytes.NewReader(m.data)))
		if err != nil {
			b.Fatal(err)
		}
		size += n
	}
	buf := make([]byte, 32<<10)
	run := func(b *testing.B, open func(io.Reader) io.Reader) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			for _, m := range members {
				if _, err := io.CopyBuffer(io.Discard, open(bytes.NewReader(m.data)), buf); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("tapedeck", func(b *testing.B) {
		run(b, func(r io.Reader) io.Reader { return NewReader(r) })
	})
	b.Run("stdlib", func(b *testing.B) {
		run(b, stdbzip2.NewReader)
	})
}

// BenchmarkDecodeSmall decompresses a 7.5 kB Betfair file (one small
// block), where setup costs dominate.
func BenchmarkDecodeSmall(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(historicDir(b), "1.164917629.bz2"))
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, NewReader(bytes.NewReader(data)))
	buf := make([]byte, 32<<10)
	for _, c := range []struct {
		name string
		open func(io.Reader) io.Reader
	}{
		{"tapedeck", func(r io.Reader) io.Reader { return NewReader(r) }},
		{"stdlib", stdbzip2.NewReader},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := io.CopyBuffer(io.Discard, c.open(bytes.NewReader(data)), buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

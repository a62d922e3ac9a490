package store_test

import (
	"io"
	"testing"

	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/storetest"
)

// benchBackends are the stores benchmarked: S3 with the default part size
// (the test helper's is the minimum), so the numbers are what the commands get.
var benchBackends = []struct {
	name string
	open func(b *testing.B) store.Store
}{
	{"dir", func(b *testing.B) store.Store {
		d, err := store.NewDir(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		return d
	}},
	{"s3", func(b *testing.B) store.Store {
		return storetest.S3With(b, store.S3Options{PartSize: store.DefaultPartSize})
	}},
}

// BenchmarkWrite writes, commits and verifies one 32 MiB object per
// iteration in 64 KiB writes.
func BenchmarkWrite(b *testing.B) {
	const size = 32 << 20
	data := payload(size)
	for _, bk := range benchBackends {
		b.Run(bk.name, func(b *testing.B) {
			s := bk.open(b)
			b.SetBytes(size)
			for b.Loop() {
				w, err := s.Create(b.Context(), "bench/1.1.zst")
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < size; i += 64 << 10 {
					if _, err := w.Write(data[i : i+64<<10]); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRead streams one 32 MiB object per iteration.
func BenchmarkRead(b *testing.B) {
	const size = 32 << 20
	data := payload(size)
	for _, bk := range benchBackends {
		b.Run(bk.name, func(b *testing.B) {
			s := bk.open(b)
			w, err := s.Create(b.Context(), "bench/1.1.zst")
			if err != nil {
				b.Fatal(err)
			}
			w.Write(data)
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			for b.Loop() {
				r, err := s.Open(b.Context(), "bench/1.1.zst")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, r); err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
}

package storetest

import (
	"io"
	"testing"

	"github.com/tapedeck/tapedeck/store"
)

// Bench measures writing (create, write, commit, verify) and reading one
// 32 MiB object on the stores open returns, one sub-benchmark each, so every
// backend is measured the same way.
func Bench(b *testing.B, open func(b *testing.B) store.Store) {
	b.Run("Write", func(b *testing.B) { benchWrite(b, open) })
	b.Run("Read", func(b *testing.B) { benchRead(b, open) })
}

// benchWrite writes, commits and verifies one 32 MiB object per
// iteration in 64 KiB writes.
func benchWrite(b *testing.B, open func(b *testing.B) store.Store) {
	const size = 32 << 20
	data := Payload(size)
	s := open(b)
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
}

// benchRead streams one 32 MiB object per iteration.
func benchRead(b *testing.B, open func(b *testing.B) store.Store) {
	const size = 32 << 20
	data := Payload(size)
	s := open(b)
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
}

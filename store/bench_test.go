package store_test

import (
	"testing"

	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/storetest"
)

// BenchmarkDir writes and reads a 32 MiB object in a local directory.
func BenchmarkDir(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		d, err := store.NewDir(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		return d
	})
}

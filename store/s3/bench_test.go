package s3_test

import (
	"testing"

	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/s3"
	"github.com/tapedeck/tapedeck/store/storetest"
)

// BenchmarkS3 writes and reads a 32 MiB object on the test server with the
// default part size (the test helper's is the minimum), so the numbers are
// what the commands get.
func BenchmarkS3(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		return storetest.S3With(b, s3.Options{PartSize: s3.DefaultPartSize})
	})
}

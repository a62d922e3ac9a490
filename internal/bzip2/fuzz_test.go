package bzip2

import (
	"bytes"
	stdbzip2 "compress/bzip2"
	"errors"
	"fmt"
	"io"
	"testing"
)

// FuzzReader compares the decoder with compress/bzip2: both must produce
// the same bytes, or both fail. Its seed corpus (valid, concatenated,
// truncated and damaged streams made with the bzip2 command) is in
// testdata/fuzz/FuzzReader.
func FuzzReader(f *testing.F) {
	f.Add([]byte("BZh91AY&SY"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Small inputs can expand ~45,000 times; compare a prefix.
		const limit = 4 << 20
		got, err := io.ReadAll(io.LimitReader(NewReader(bytes.NewReader(data)), limit))
		want, stdErr := stdDecode(data, limit)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error %v does not match ErrCorrupt", err)
		}
		switch {
		case err == nil && stdErr == nil:
			if !bytes.Equal(got, want) {
				t.Fatalf("output differs from compress/bzip2: %d vs %d bytes, first difference at %d", len(got), len(want), firstDiff(got, want))
			}
		case err == nil:
			t.Fatalf("compress/bzip2 fails (%v) but we decode %d bytes", stdErr, len(got))
		case stdErr == nil:
			t.Fatalf("we fail (%v) but compress/bzip2 decodes %d bytes", err, len(want))
		}
	})
}

// stdDecode runs compress/bzip2, turning a panic into an error.
func stdDecode(data []byte, limit int64) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("compress/bzip2 panicked: %v", r)
		}
	}()
	return io.ReadAll(io.LimitReader(stdbzip2.NewReader(bytes.NewReader(data)), limit))
}

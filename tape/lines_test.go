package tape

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// TestLineReader feeds line endings, empty lines, huge lines and awkward
// readers through a LineReader and compares with a plain split.
func TestLineReader(t *testing.T) {
	raw := realTape(t)
	// A "live image" line of several MB, as a big market's first message
	// is: the real tape's lines glued into one.
	huge := bytes.ReplaceAll(raw, []byte("\n"), []byte(" "))
	huge = bytes.Repeat(huge, 12) // ~4.7 MB
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one-byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data-err": iotest.DataErrReader,
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"one-line-no-newline", []byte(`{"op":"mcm"}`)},
		{"one-line", []byte("{\"op\":\"mcm\"}\n")},
		{"crlf", []byte("a\r\nb\r\n")},
		{"crlf-last-no-newline", []byte("a\r\nb\r")},
		{"blank-lines", []byte("\n\n\r\n\n")},
		{"lone-cr-inside", []byte("a\rb\n")},
		{"real-tape", raw},
		{"huge-line-between", slices.Concat(raw[:1000], []byte("\n"), huge, []byte("\n"), raw)},
		{"huge-last-line", slices.Concat(raw, huge)},
	}
	for _, tt := range tests {
		for rname, wrap := range readers {
			if rname == "one-byte" && len(tt.data) > 100_000 {
				continue // correct but slow; "half" covers short reads
			}
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				lr := NewLineReader(wrap(bytes.NewReader(tt.data)), "x")
				var got [][]byte
				for lr.Next() {
					got = append(got, bytes.Clone(lr.Bytes()))
					if lr.Line() != len(got) {
						t.Fatalf("Line() = %d on line %d", lr.Line(), len(got))
					}
				}
				if err := lr.Err(); err != nil {
					t.Fatal(err)
				}
				want := splitLines(tt.data)
				if !slices.EqualFunc(got, want, bytes.Equal) {
					t.Errorf("got %d lines, want %d (or content differs)", len(got), len(want))
				}
				if lr.Next() || lr.Bytes() != nil || lr.Line() != len(want) {
					t.Errorf("after the end: Bytes %q, Line %d", lr.Bytes(), lr.Line())
				}
			})
		}
	}
}

// TestLineReaderErrors checks read errors keep the lines before them and
// report the last good line, and that MaxLine bounds memory.
func TestLineReaderErrors(t *testing.T) {
	errDisk := errors.New("disk on fire")
	tests := []struct {
		name      string
		r         io.Reader
		maxLine   int
		wantLines []string
		wantErr   string
	}{
		{"error-after-two-lines",
			io.MultiReader(strings.NewReader("a\nb\npartial"), iotest.ErrReader(errDisk)), 0,
			[]string{"a", "b"}, "tape: t.bz2 line 2: stream truncated or corrupt after this line: disk on fire"},
		{"error-first",
			iotest.ErrReader(errDisk), 0,
			nil, "tape: t.bz2: stream truncated or corrupt before the first line: disk on fire"},
		{"line-too-long",
			strings.NewReader("ok\n" + strings.Repeat("x", 1<<20) + "\n"), 100 << 10,
			[]string{"ok"}, "tape: t.bz2 line 2: line longer than 102400 bytes"},
		{"no-progress",
			io.MultiReader(strings.NewReader("a\n"), zeroReader{}), 0,
			[]string{"a"}, "multiple Read calls return no data or error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := NewLineReader(tt.r, "t.bz2")
			lr.MaxLine = tt.maxLine
			var got []string
			for lr.Next() {
				got = append(got, string(lr.Bytes()))
			}
			if !slices.Equal(got, tt.wantLines) {
				t.Errorf("lines %q, want %q", got, tt.wantLines)
			}
			err := lr.Err()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			var ie *InputError
			if !errors.As(err, &ie) || ie.Path != "t.bz2" {
				t.Errorf("error %T does not name the tape", err)
			}
			if lr.Next() {
				t.Error("Next after an error returned true")
			}
		})
	}
}

// zeroReader returns no data and no error, a broken io.Reader.
type zeroReader struct{}

// Read returns 0, nil.
func (zeroReader) Read([]byte) (int, error) { return 0, nil }

package esa

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// chunkReader returns at most n bytes per Read, as a socket does.
type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n, len(r.b))
	copy(p, r.b[:k])
	r.b = r.b[k:]
	return k, nil
}

func readAll(t testing.TB, in []byte, chunk, max int) ([]string, error) {
	fr := NewFrameReader(&chunkReader{b: in, n: chunk}, max)
	var out []string
	for {
		line, err := fr.Next()
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return out, err
		}
		out = append(out, string(line))
	}
}

func TestFrameReader(t *testing.T) {
	big := `{"op":"mcm","mc":[{"id":"1.1","rc":[` + strings.Repeat(`{"id":1,"atb":[[1.01,2]]},`, 200000) + `{"id":2}]}]}`
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"crlf", "{\"op\":\"connection\"}\r\n{\"op\":\"status\"}\r\n", []string{`{"op":"connection"}`, `{"op":"status"}`}},
		{"lf only", "a\nb\n", []string{"a", "b"}},
		{"empty lines skipped", "\r\n\na\r\n\r\n", []string{"a"}},
		{"last line unterminated", "a\r\nb", []string{"a", "b"}},
		{"last line with only CR", "a\r\nb\r", []string{"a", "b"}},
		{"nothing", "", nil},
		{"multi-MB line between short ones", "x\r\n" + big + "\r\ny\r\n", []string{"x", big, "y"}},
	} {
		for _, chunk := range []int{1 << 20, 4093, 7} {
			if chunk == 7 && len(tc.in) > 1<<20 {
				continue
			}
			got, err := readAll(t, []byte(tc.in), chunk, 0)
			if err != nil {
				t.Fatalf("%s/%d: %v", tc.name, chunk, err)
			}
			if strings.Join(got, "\x00") != strings.Join(tc.want, "\x00") || len(got) != len(tc.want) {
				t.Errorf("%s/%d: got %d lines, want %d", tc.name, chunk, len(got), len(tc.want))
			}
		}
	}
	if len(big) < 4<<20 {
		t.Fatalf("the big line is only %d bytes", len(big))
	}
}

func TestFrameReaderTooLong(t *testing.T) {
	_, err := readAll(t, []byte("short\r\n"+strings.Repeat("x", 1000)+"\r\n"), 64, 100)
	if !errors.Is(err, ErrFrameTooLong) {
		t.Fatalf("err = %v, want ErrFrameTooLong", err)
	}
}

// TestFrameReaderReusesBuffer: once the buffer has grown to the longest
// line, reading more lines of that size allocates nothing.
func TestFrameReaderReusesBuffer(t *testing.T) {
	line := strings.Repeat("y", 300<<10) + "\r\n"
	in := []byte(strings.Repeat(line, 20))
	r := &chunkReader{}
	fr := NewFrameReader(r, 0)
	r.b, r.n = in, 1<<16
	for range 2 {
		if _, err := fr.Next(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(5, func() {
		for range 3 {
			if _, err := fr.Next(); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per 3 lines after warm-up, want 0", allocs)
	}
}

// FuzzFrameReader checks the reader against a plain split, whatever the
// input and read sizes.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte("{\"op\":\"connection\"}\r\n{\"op\":\"status\"}\r\n"), uint8(3))
	f.Add([]byte("a\n\r\n\rb\r\r\nc"), uint8(1))
	f.Add([]byte(""), uint8(9))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		got, err := readAll(t, in, int(chunk)%64+1, 0)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, l := range bytes.Split(in, []byte("\n")) {
			l = bytes.TrimSuffix(l, []byte("\r"))
			if len(l) > 0 {
				want = append(want, string(l))
			}
		}
		if len(got) != len(want) {
			t.Fatalf("got %d lines, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("line %d: got %q want %q", i, got[i], want[i])
			}
		}
	})
}

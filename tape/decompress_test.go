package tape

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"testing"
)

// TestSniff checks compression detection from magic bytes, including
// streams too short to hold a whole magic.
func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want Compression
	}{
		{"empty", nil, Plain},
		{"json", []byte(`{"op":"mcm"}`), Plain},
		{"bzip2", []byte("BZh91AY&SY"), Bzip2},
		{"bzip2-magic-only", []byte("BZh"), Bzip2},
		{"bz-short", []byte("BZ"), Plain},
		{"gzip", []byte{0x1f, 0x8b, 0x08, 0x00}, Gzip},
		{"gzip-one-byte", []byte{0x1f}, Plain},
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd, 0x04}, Zstd},
		{"zstd-3-bytes", []byte{0x28, 0xb5, 0x2f}, Plain},
		{"zstd-skippable-frame", []byte{0x5e, 0x2a, 0x4d, 0x18}, Zstd},
		{"not-skippable", []byte{0x60, 0x2a, 0x4d, 0x18}, Plain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sniff(tt.head); got != tt.want {
				t.Errorf("Sniff(%q) = %v, want %v", tt.head, got, tt.want)
			}
		})
	}
}

// TestRealBzip2 reads the BSD-licensed PRO file from testdata, a bz2 written
// by Betfair's historic service, checking its documented line count.
func TestRealBzip2(t *testing.T) {
	data, err := os.ReadFile("../testdata/tapes/1.164917629.bz2")
	if err != nil {
		t.Skipf("testdata tape absent: %v", err)
	}
	r := readTape(NewTape("1.164917629.bz2", data))
	if r.err != nil || len(r.lines) != 298 || r.compression != Bzip2 {
		t.Errorf("%d lines, %v, %v; want 298 bzip2 lines", len(r.lines), r.compression, r.err)
	}
}

// TestConcatenatedStreams reads tapes made of two compressed streams back
// to back, as appending after a restart writes them, and a zstd tape that
// starts with a skippable frame of metadata.
func TestConcatenatedStreams(t *testing.T) {
	raw := realTape(t)
	half := bytes.IndexByte(raw[len(raw)/2:], '\n') + len(raw)/2 + 1
	skippable := []byte{0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 'm', 'e', 't', 'a'}
	tests := []struct {
		name   string
		c      Compression
		prefix []byte
	}{
		{"gzip", Gzip, nil},
		{"bzip2", Bzip2, nil},
		{"zstd", Zstd, nil},
		{"zstd-skippable-first", Zstd, skippable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := slices.Concat(tt.prefix, compressAs(t, tt.c, raw[:half]), compressAs(t, tt.c, raw[half:]))
			r := readTape(NewTape("t", data))
			if r.err != nil || r.compression != tt.c || !slices.EqualFunc(r.lines, splitLines(raw), bytes.Equal) {
				t.Errorf("%v: %d lines, %v; want %d", r.compression, len(r.lines), r.err, len(splitLines(raw)))
			}
		})
	}
}

// TestZstdDecoderReuse reads many zstd tapes through one walk's decoders,
// including broken ones in between, to check a pooled decoder left in an
// error state still decodes the next tape correctly.
func TestZstdDecoderReuse(t *testing.T) {
	raw := realTape(t)
	good := compressAs(t, Zstd, raw)
	bad := good[:len(good)/2]
	dec := &decoders{}
	for i := range 6 {
		data := good
		if i%2 == 1 {
			data = bad
		}
		tp := NewTape("t", data)
		tp.dec = dec
		r := readTape(tp)
		if (i%2 == 0) != (r.err == nil) {
			t.Fatalf("tape %d: %v", i, r.err)
		}
		if r.err == nil && !slices.EqualFunc(r.lines, splitLines(raw), bytes.Equal) {
			t.Fatalf("tape %d: %d lines after decoder reuse", i, len(r.lines))
		}
	}
}

// FuzzOpen feeds arbitrary bytes through compression detection and the line
// reader: nothing may panic, errors must be *InputError, and a plain stream
// (and its gzip and zstd compressions) must split exactly as bytes.Split.
func FuzzOpen(f *testing.F) {
	raw := realTape(f)
	head := raw[:4000]
	f.Add([]byte{})
	f.Add([]byte("BZh"))
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd})
	f.Add([]byte("a\r\nb\n\nc"))
	f.Add(head)
	for _, c := range []Compression{Gzip, Zstd, Bzip2} {
		comp := compressAs(f, c, head)
		f.Add(comp)
		f.Add(comp[:len(comp)/2])
	}
	if b, err := os.ReadFile("../testdata/tapes/1.164917629.bz2"); err == nil {
		f.Add(b)
	}
	dec := &decoders{}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := Sniff(data)
		got, err := fuzzRead(dec, data)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T %v is not an *InputError", err, err)
			}
		}
		if c != Plain {
			return
		}
		want := splitLines(data)
		if err != nil || !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("plain: %d lines, %v; want %d", len(got), err, len(want))
		}
		for _, c := range []Compression{Gzip, Zstd} {
			got, err := fuzzRead(dec, compressAs(t, c, data))
			if err != nil || !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("%v: %d lines, %v; want %d", c, len(got), err, len(want))
			}
		}
	})
}

// fuzzRead reads all lines of data as a tape sharing dec's decoders.
func fuzzRead(dec *decoders, data []byte) ([][]byte, error) {
	tp := NewTape("fuzz", data)
	tp.dec = dec
	lr, err := tp.Lines()
	if err != nil {
		return nil, err
	}
	defer lr.Close()
	var out [][]byte
	for lr.Next() {
		out = append(out, bytes.Clone(lr.Bytes()))
	}
	return out, lr.Err()
}

package tape

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/tapedeck/tapedeck/internal/bzip2"
)

// Compression names how a tape's bytes are compressed. It is chosen from the
// first bytes of the stream, never from the file name, because Betfair and
// other tools name files inconsistently (a ".bz2" member may be plain, a
// recorder may write "1.234" holding zstd).
type Compression int

// The compressions a tape can be read with.
const (
	Plain Compression = iota // no compression, or an unrecognised one
	Bzip2                    // "BZh": Betfair's historic files
	Gzip                     // 1f 8b
	Zstd                     // 28 b5 2f fd, or a skippable frame 5? 2a 4d 18: tapedeck's own tapes
)

// String returns the name used in error messages.
func (c Compression) String() string {
	switch c {
	case Bzip2:
		return "bzip2"
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	default:
		return "plain"
	}
}

// Sniff returns the compression whose magic bytes start b. Fewer than four
// bytes are enough to say Plain for any stream too short to be compressed.
func Sniff(b []byte) Compression {
	switch {
	case len(b) >= 4 && bytes.Equal(b[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return Zstd
	case len(b) >= 4 && b[0]&0xf0 == 0x50 && bytes.Equal(b[1:4], []byte{0x2a, 0x4d, 0x18}):
		// A zstd skippable frame (metadata some writers put first);
		// the decoder skips it.
		return Zstd
	case len(b) >= 3 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h':
		return Bzip2
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		return Gzip
	}
	return Plain
}

// zstdMaxMemory caps the window a zstd tape may ask for. 128 MiB is what the
// reference zstd CLI accepts without --memory, so any tape it can read we can
// read; a hostile or corrupt header asking for more is refused instead of
// allocating gigabytes.
const zstdMaxMemory = 128 << 20

// decoders keeps zstd and gzip decoders, read buffers and line buffers for
// reuse: a zstd decoder allocates its window and tables once, so a walk over
// thousands of small tapes should not build one per tape. One decoders value
// belongs to one walk (never a package variable); it is safe for concurrent
// use.
type decoders struct {
	zstd  sync.Pool // *zstd.Decoder
	gzip  sync.Pool // *gzip.Reader
	bufio sync.Pool // *bufio.Reader of readBufSize
	lines sync.Pool // *[]byte line buffers of at most maxPooledLineBuf
}

// readBufSize is the buffer between a raw stream and its decompressor: big
// enough for few read calls on a file or a tar stream.
const readBufSize = 64 << 10

// maxPooledLineBuf: line buffers grown beyond this (by a live image of many
// MB) are left to the garbage collector rather than kept.
const maxPooledLineBuf = 4 << 20

// getBufio returns a pooled read buffer reading from r.
func (d *decoders) getBufio(r io.Reader) *bufio.Reader {
	if br, _ := d.bufio.Get().(*bufio.Reader); br != nil {
		br.Reset(r)
		return br
	}
	return bufio.NewReaderSize(r, readBufSize)
}

// putBufio gives a read buffer back, dropping its reader.
func (d *decoders) putBufio(br *bufio.Reader) {
	br.Reset(nil)
	d.bufio.Put(br)
}

// getLineBuf returns a pooled line buffer, or nil.
func (d *decoders) getLineBuf() []byte {
	if b, _ := d.lines.Get().(*[]byte); b != nil {
		return *b
	}
	return nil
}

// putLineBuf keeps a line buffer unless it grew very big.
func (d *decoders) putLineBuf(b []byte) {
	if cap(b) <= maxPooledLineBuf {
		d.lines.Put(&b)
	}
}

// newBzip2Reader is the one place bzip2 decoding is chosen. It uses
// internal/bzip2, which decodes Betfair's historic files several times faster
// than compress/bzip2 (see that package's benchmarks).
func newBzip2Reader(r io.Reader) io.Reader {
	return bzip2.NewReader(r)
}

// decompress returns a reader of the decompressed bytes of br, choosing the
// compression from br's first bytes. Closing the returned reader gives pooled
// decoders back; it does not close br's source.
func (d *decoders) decompress(br *bufio.Reader) (io.ReadCloser, Compression, error) {
	// Peek may return fewer bytes and an error (EOF on a short stream); what
	// it returns is still enough to sniff, and a real read error shows up
	// again on the first Read.
	magic, _ := br.Peek(4)
	c := Sniff(magic)
	switch c {
	case Bzip2:
		return &formatReader{r: newBzip2Reader(br), format: c}, c, nil
	case Gzip:
		zr, _ := d.gzip.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(br)
		} else {
			err = zr.Reset(br)
		}
		if err != nil {
			return nil, c, fmt.Errorf("gzip header: %w", err)
		}
		return &formatReader{r: zr, format: c, release: func() { d.gzip.Put(zr) }}, c, nil
	case Zstd:
		zd, _ := d.zstd.Get().(*zstd.Decoder)
		var err error
		if zd == nil {
			zd, err = zstd.NewReader(br,
				zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderLowmem(true),
				zstd.WithDecoderMaxMemory(zstdMaxMemory))
		} else {
			err = zd.Reset(br)
		}
		if err != nil {
			return nil, c, fmt.Errorf("zstd header: %w", err)
		}
		return &formatReader{r: zd, format: c, release: func() {
			// Drop the reference to br so a pooled decoder does not keep
			// the last tape's buffers alive.
			if zd.Reset(nil) == nil {
				d.zstd.Put(zd)
			} else {
				zd.Close()
			}
		}}, c, nil
	}
	return &formatReader{r: br, format: c}, c, nil
}

// formatReader wraps a decompressor so its errors say which format failed
// ("bzip2: unexpected EOF" rather than a bare "unexpected EOF"), and gives a
// pooled decoder back exactly once on Close.
type formatReader struct {
	r       io.Reader
	format  Compression
	release func()
}

// Read reads decompressed bytes; errors other than io.EOF name the format.
func (f *formatReader) Read(p []byte) (int, error) {
	if f.r == nil {
		return 0, fmt.Errorf("%s: read after close", f.format)
	}
	n, err := f.r.Read(p)
	if err != nil && err != io.EOF && !strings.HasPrefix(err.Error(), f.format.String()+":") {
		err = fmt.Errorf("%s: %w", f.format, err)
	}
	return n, err
}

// Close gives the decoder back to its pool; later Reads fail.
func (f *formatReader) Close() error {
	if f.release != nil {
		f.release()
		f.release = nil
	}
	f.r = nil
	return nil
}

package esa

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxFrame is the longest line a FrameReader accepts unless told
// otherwise. Betfair's unsegmented images of many markets reach tens of MB.
const DefaultMaxFrame = 256 << 20

// ErrFrameTooLong is returned (wrapped) by FrameReader.Next for a line
// longer than its limit.
var ErrFrameTooLong = errors.New("esa: stream line longer than the limit")

// FrameReader splits a stream into lines ending in "\r\n" (or a bare "\n",
// as historic files have). It keeps one buffer that grows to the longest line
// seen and is never shrunk, so an image of several MB costs one allocation
// the first time and none after, and ordinary lines are returned without
// copying.
type FrameReader struct {
	r     io.Reader
	buf   []byte
	start int // first byte not yet returned
	end   int // end of the bytes read
	scan  int // where the search for '\n' resumes (bytes before have none)
	max   int
	err   error
	n     int64 // bytes consumed, line endings included
}

// NewFrameReader returns a reader of r's lines that fails on a line longer
// than maxLine bytes (DefaultMaxFrame when maxLine <= 0).
func NewFrameReader(r io.Reader, maxLine int) *FrameReader {
	if maxLine <= 0 {
		maxLine = DefaultMaxFrame
	}
	return &FrameReader{r: r, buf: make([]byte, 64<<10), max: maxLine}
}

// Reset makes f read from r, keeping its buffer.
func (f *FrameReader) Reset(r io.Reader) {
	f.r, f.start, f.end, f.scan, f.err, f.n = r, 0, 0, 0, nil, 0
}

// Bytes returns how many bytes Next has consumed, line endings included.
func (f *FrameReader) Bytes() int64 { return f.n }

// Next returns the next line without its line ending. The slice is valid
// until the next call. Empty lines are skipped. At the end of the stream it
// returns io.EOF; a last line without a line ending is returned first.
func (f *FrameReader) Next() ([]byte, error) {
	for {
		if i := bytes.IndexByte(f.buf[f.scan:f.end], '\n'); i >= 0 {
			nl := f.scan + i
			line := f.buf[f.start:nl]
			f.n += int64(nl + 1 - f.start)
			f.start, f.scan = nl+1, nl+1
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			if len(line) == 0 {
				continue
			}
			return line, nil
		}
		f.scan = f.end
		if f.err != nil {
			if f.start < f.end {
				line := f.buf[f.start:f.end]
				f.n += int64(len(line))
				f.start, f.scan = f.end, f.end
				if line[len(line)-1] == '\r' {
					line = line[:len(line)-1]
				}
				if len(line) > 0 {
					return line, nil
				}
			}
			return nil, f.err
		}
		if f.end-f.start > f.max {
			return nil, fmt.Errorf("%w (%d bytes)", ErrFrameTooLong, f.max)
		}
		f.fill()
	}
}

// fill reads more bytes, first moving the unread part to the front or
// growing the buffer when the current line fills it.
func (f *FrameReader) fill() {
	if f.start > 0 && (f.end == len(f.buf) || f.start == f.end) {
		n := copy(f.buf, f.buf[f.start:f.end])
		f.scan -= f.start
		f.start, f.end = 0, n
	}
	if f.end == len(f.buf) {
		nb := make([]byte, 2*len(f.buf))
		copy(nb, f.buf[:f.end])
		f.buf = nb
	}
	n, err := f.r.Read(f.buf[f.end:])
	f.end += n
	if err != nil {
		f.err = err
	}
}

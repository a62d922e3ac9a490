package tape

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxLine is the longest line a LineReader accepts unless told
// otherwise. Live images of big markets run to several MB per line; 256 MiB
// is far above any real one and still stops a newline-free garbage file
// from taking all memory.
const DefaultMaxLine = 256 << 20

// initialLineBuf is the LineReader's first buffer: most tape lines are under
// 1 KiB, and 64 KiB keeps read calls large enough to be cheap.
const initialLineBuf = 64 << 10

// LineReader reads the '\n'-terminated lines of one tape, reusing a single
// buffer. It accepts "\r\n" endings and a last line without a newline. A line
// is returned without its ending and is valid only until the next call to
// Next.
//
// Use it like bufio.Scanner:
//
//	for lr.Next() {
//		use(lr.Bytes(), lr.Line())
//	}
//	if err := lr.Err(); err != nil { ... }
//
// Unlike bufio.Scanner it grows its buffer for lines of any length up to
// MaxLine, and when the stream breaks (a truncated or corrupt compressed
// tape) Err says which tape and after which line, while every complete line
// before the break has already been delivered.
type LineReader struct {
	// MaxLine bounds the buffer a line may grow to; a longer line ends the
	// read with an error. It guards memory, so it is enforced in buffer
	// steps (64 KiB doubling), not to the byte. Zero means DefaultMaxLine.
	MaxLine int

	r      io.Reader
	closer io.Closer
	pool   *decoders // where buf goes back on Close, if anywhere
	path   string
	member string

	buf   []byte
	start int // first byte of unread data in buf
	end   int // end of data in buf
	scan  int // bytes from start already known to hold no '\n'
	line  int // number of the line last returned
	cur   []byte
	rerr  error // error from r, reported once buffered lines are used up
	err   error // final error for Err
}

// NewLineReader returns a LineReader over r. name is the tape's display name
// used in errors (a path, or "-" for standard input).
func NewLineReader(r io.Reader, name string) *LineReader {
	return &LineReader{r: r, path: name}
}

// Next advances to the next line and reports whether there is one. It
// returns false at the end of the stream or on an error; see Err.
func (lr *LineReader) Next() bool {
	if lr.err != nil {
		return false
	}
	for {
		if i := bytes.IndexByte(lr.buf[lr.start+lr.scan:lr.end], '\n'); i >= 0 {
			nl := lr.start + lr.scan + i
			lr.deliver(lr.buf[lr.start:nl])
			lr.start = nl + 1
			lr.scan = 0
			return true
		}
		lr.scan = lr.end - lr.start
		if lr.rerr != nil {
			return lr.finish()
		}
		if err := lr.fill(); err != nil {
			lr.err = err
			return false
		}
	}
}

// deliver makes b, less any trailing '\r', the current line.
func (lr *LineReader) deliver(b []byte) {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	lr.cur = b
	lr.line++
}

// finish handles the end of the underlying stream once no complete line is
// left in the buffer.
func (lr *LineReader) finish() bool {
	if lr.rerr == io.EOF {
		if lr.start < lr.end {
			// A last line without '\n' is still a line.
			lr.deliver(lr.buf[lr.start:lr.end])
			lr.start = lr.end
			lr.scan = 0
			return true
		}
		lr.err = io.EOF
		lr.cur = nil
		return false
	}
	// A partial line before a broken stream is not delivered: it is
	// almost certainly cut-off JSON, and the caller learns the last good
	// line number instead.
	where := "after this line"
	if lr.line == 0 {
		where = "before the first line"
	}
	what := "stream truncated or corrupt"
	if errors.Is(lr.rerr, context.Canceled) || errors.Is(lr.rerr, context.DeadlineExceeded) {
		what = "reading stopped" // the walk was cancelled; the tape may be fine
	}
	lr.err = &InputError{Path: lr.path, Member: lr.member, Line: lr.line,
		Err: fmt.Errorf("%s %s: %w", what, where, lr.rerr)}
	lr.cur = nil
	return false
}

// fill reads more data into the buffer, moving unread bytes to the front or
// growing the buffer when it is full.
func (lr *LineReader) fill() error {
	if len(lr.buf) == 0 {
		lr.buf = make([]byte, initialLineBuf)
	}
	if lr.start > 0 && lr.end == len(lr.buf) {
		n := copy(lr.buf, lr.buf[lr.start:lr.end])
		lr.start, lr.end = 0, n
	}
	if lr.end == len(lr.buf) {
		limit := lr.MaxLine
		if limit <= 0 {
			limit = DefaultMaxLine
		}
		if len(lr.buf) >= limit {
			return &InputError{Path: lr.path, Member: lr.member, Line: lr.line + 1,
				Err: fmt.Errorf("line longer than %d bytes", limit)}
		}
		nb := make([]byte, min(2*len(lr.buf), limit))
		lr.end = copy(nb, lr.buf[lr.start:lr.end])
		lr.start = 0
		lr.buf = nb
	}
	// A reader may return 0, nil now and then; retry a bounded number of
	// times, as bufio does, so a broken reader cannot spin us forever.
	for range 100 {
		n, err := lr.r.Read(lr.buf[lr.end:])
		lr.end += n
		if err != nil {
			lr.rerr = err
			return nil
		}
		if n > 0 {
			return nil
		}
	}
	lr.rerr = io.ErrNoProgress
	return nil
}

// Bytes returns the current line without its "\n" or "\r\n". The slice is
// reused by the next call to Next.
func (lr *LineReader) Bytes() []byte { return lr.cur }

// Line returns the 1-based number of the current line; after Next has
// returned false it is the number of the last line delivered.
func (lr *LineReader) Line() int { return lr.line }

// Err returns nil at a clean end of stream, or an *InputError naming the
// tape and the line after which reading failed.
func (lr *LineReader) Err() error {
	if lr.err == io.EOF {
		return nil
	}
	return lr.err
}

// Close closes the tape stream the LineReader was opened from (see
// Tape.Lines); on a LineReader from NewLineReader it does nothing.
func (lr *LineReader) Close() error {
	if lr.pool != nil && lr.buf != nil {
		lr.pool.putLineBuf(lr.buf)
	}
	lr.pool, lr.buf, lr.cur = nil, nil, nil
	lr.start, lr.end, lr.scan = 0, 0, 0
	if lr.closer == nil {
		return nil
	}
	err := lr.closer.Close()
	lr.closer = nil
	return err
}

// InputError is an error about one input, tape or line. Its message names
// the file, the tar member and the line, so a user can find the bad bytes:
//
//	tape: archive.tar member PRO/2022/Mar/1/31270458/1.194373372.bz2 line 17: ...
type InputError struct {
	Path   string // the input path as given, "-" for standard input
	Member string // the tar member, or "" when the tape is the whole file
	Line   int    // 1-based line, or 0 when the error is not about a line
	Err    error  // what went wrong
}

// Error formats the error with its location.
func (e *InputError) Error() string {
	path := e.Path
	if path == "-" {
		path = "stdin" // "tape: -: ..." reads as a typo
	}
	s := "tape: " + path
	if e.Member != "" {
		s += " member " + e.Member
	}
	if e.Line > 0 {
		s += fmt.Sprintf(" line %d", e.Line)
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the underlying error, for errors.Is and errors.As.
func (e *InputError) Unwrap() error { return e.Err }

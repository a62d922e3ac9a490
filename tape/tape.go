// Package tape reads tapes wherever they are: every command names its
// inputs the same way (a file, a directory, a glob with ** across any depth,
// "-" for standard input, a Betfair .tar archive, s3://bucket/prefix through
// a Lister the command registers) and gets back Tapes, each one stream of
// '\n'-terminated JSON lines, decompressed whatever the compression.
//
// Two walks are offered: Walk visits tapes one at a time in input order, for
// commands that need order; ForEach hands tapes to a fixed number of worker
// goroutines with bounded memory, for commands that do not. Play is the one
// replay loop over a tape's lines (decode, count and report bad lines, stop
// under Strict, notice a tape cut short, honour the context), so every
// command treats bad input by the same rule.
package tape

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// Tape is one stream of lines: a file, standard input, or one member of a tar
// archive. A Tape handed to a callback is valid only during that callback.
type Tape struct {
	Name   string // display name: Path, or "Path:Member" for a tar member
	Path   string // the input file (or object) the tape came from; "-" is standard input
	Member string // the tar member name, or "" when the tape is the whole file
	Size   int64  // compressed size in bytes as listed, -1 when unknown (standard input, a pipe)
	// Index is the tape's 0-based position in walk order (inputs as given,
	// directories in name order, members in archive order), so results
	// that ForEach produces in any order can be put back in input order.
	Index int

	ctx  context.Context
	dec  *decoders
	data []byte // a buffered tar member: can be opened any number of times
	// cut, with data, says the archive ended inside this member: data is
	// what there was, and reading it ends with cut instead of io.EOF.
	cut error
	raw io.Reader // else the one-shot stream, nil once opened
	// closer closes what raw reads from (a file), and br is raw's pooled
	// buffer when raw is one; both are owned by the tape until Open hands
	// them to the returned reader.
	closer io.Closer
	br     *bufio.Reader
	open   *tapeReader // the last reader Open returned, closed by finish

	compression  atomic.Int32
	compressed   atomic.Int64
	decompressed atomic.Int64

	// done, if set, is closed when the tape's callback has returned; the
	// walker waits on it before reading past a streamed tar member.
	done chan struct{}
	// release gives back the memory budget a buffered member holds.
	release func()
}

// errOpenedTwice is returned by Tape.Open on a second call for a stream that
// can be read only once (standard input, a file, a streamed tar member).
var errOpenedTwice = errors.New("tape already opened; its stream can be read only once")

// NewTape returns a tape over the compressed bytes in data, for tests and for
// callers that already hold a tape in memory. name is used in errors.
func NewTape(name string, data []byte) *Tape {
	if data == nil {
		data = []byte{} // nil marks a tape that is not buffered
	}
	return &Tape{Name: name, Path: name, Size: int64(len(data)), data: data,
		ctx: context.Background(), dec: &decoders{}}
}

// Open returns the tape's decompressed bytes. The compression is chosen from
// the first bytes (see Sniff). The caller must Close the reader; a tape read
// from a stream can be opened only once, a buffered tar member any number of
// times. Reads fail once the walk's context is cancelled.
func (t *Tape) Open() (io.ReadCloser, error) {
	var br *bufio.Reader
	switch {
	case t.data != nil:
		var r io.Reader = bytes.NewReader(t.data)
		if t.cut != nil {
			r = io.MultiReader(r, errReader{t.cut})
		}
		br = t.dec.getBufio(&countingReader{r: r, n: &t.compressed})
	case t.br != nil:
		br = t.br // already counting: see Walker.object
		t.raw, t.br = nil, nil
	case t.raw != nil:
		br = t.dec.getBufio(&countingReader{r: t.raw, n: &t.compressed})
		t.raw = nil
	default:
		return nil, t.ErrorAt(0, errOpenedTwice)
	}
	r := &tapeReader{ctx: t.ctx, closer: t.closer, br: br, dec: t.dec, n: &t.decompressed}
	t.closer = nil
	dr, c, err := t.dec.decompress(br)
	t.compression.Store(int32(c))
	if err != nil {
		r.Close()
		return nil, t.ErrorAt(0, err)
	}
	r.r = dr
	t.open = r
	return r, nil
}

// Lines opens the tape and returns a LineReader over it whose errors name the
// tape. Close the LineReader when done.
func (t *Tape) Lines() (*LineReader, error) {
	r, err := t.Open()
	if err != nil {
		return nil, err
	}
	lr := NewLineReader(r, t.Path)
	lr.member = t.Member
	lr.closer = r
	lr.pool = t.dec
	lr.buf = t.dec.getLineBuf()
	return lr, nil
}

// ErrorAt returns an *InputError locating err at line (0: the tape as a
// whole) of this tape, for callers that find a problem in a line they read.
func (t *Tape) ErrorAt(line int, err error) *InputError {
	return &InputError{Path: t.Path, Member: t.Member, Line: line, Err: err}
}

// Compression returns how the tape is compressed; it is known once the tape
// has been opened, Plain before.
func (t *Tape) Compression() Compression { return Compression(t.compression.Load()) }

// CompressedBytes returns how many compressed bytes have been read from the
// tape so far. It may be called from any goroutine (for progress).
func (t *Tape) CompressedBytes() int64 { return t.compressed.Load() }

// DecompressedBytes returns how many decompressed bytes the tape's readers
// have returned so far. It may be called from any goroutine.
func (t *Tape) DecompressedBytes() int64 { return t.decompressed.Load() }

// finish releases whatever the tape still holds once its callback is done:
// an unopened or unclosed stream, its memory budget, and the walker waiting
// on it.
func (t *Tape) finish() {
	if t.open != nil {
		t.open.Close()
		t.open = nil
	}
	if t.closer != nil {
		t.closer.Close()
		t.closer = nil
	}
	if t.br != nil {
		t.dec.putBufio(t.br)
		t.br = nil
	}
	t.raw = nil
	t.data = nil
	if t.release != nil {
		t.release()
		t.release = nil
	}
	if t.done != nil {
		close(t.done)
		t.done = nil
	}
}

// tapeReader is what Tape.Open returns: the decompressed stream, counting its
// bytes and failing once the walk is cancelled, so a long tape stops promptly
// even if the callback forgets to watch the context.
type tapeReader struct {
	ctx    context.Context
	r      io.ReadCloser // the decompressor
	closer io.Closer     // the raw stream's source, or nil
	br     *bufio.Reader // the pooled buffer under r
	dec    *decoders
	n      *atomic.Int64
	once   sync.Once
}

// Read reads decompressed bytes.
func (r *tapeReader) Read(p []byte) (int, error) {
	select {
	case <-r.ctx.Done():
		return 0, context.Cause(r.ctx)
	default:
	}
	n, err := r.r.Read(p)
	r.n.Add(int64(n))
	return n, err
}

// Close releases the decoder and closes the underlying file, once.
func (r *tapeReader) Close() error {
	var err error
	r.once.Do(func() {
		if r.r != nil {
			err = r.r.Close()
		}
		if r.closer != nil {
			if cerr := r.closer.Close(); err == nil {
				err = cerr
			}
		}
		// Only now, with the decompressor closed, may the buffer
		// under it serve another tape.
		r.dec.putBufio(r.br)
	})
	return err
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

// Read reads from the underlying reader and counts.
func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// errReader fails every read with err.
type errReader struct{ err error }

// Read returns the error.
func (e errReader) Read([]byte) (int, error) { return 0, e.err }

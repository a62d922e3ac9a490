package tape

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"
)

// Defaults for Walker's memory bounds.
const (
	// DefaultStreamAbove: tar members with more compressed bytes than this
	// are read straight from the archive instead of being buffered. Betfair
	// PRO members are well under 1 MiB; 64 MiB only catches the odd giant.
	DefaultStreamAbove = 64 << 20
	// DefaultMaxBuffered bounds the compressed bytes of tar members held in
	// memory at once (queued or being processed), whatever the input size.
	DefaultMaxBuffered = 256 << 20
)

// Walker turns input names into Tapes. The zero value reads the local
// filesystem and standard input with one worker; set fields to change that.
// A Walker may be used for several walks, also at once.
type Walker struct {
	// Workers is how many goroutines ForEach runs; below 1 means 1.
	Workers int
	// StreamAbove is the compressed size above which a tar member is
	// streamed rather than buffered; 0 means DefaultStreamAbove.
	StreamAbove int64
	// MaxBuffered bounds the compressed bytes of buffered tar members
	// alive at once; 0 means DefaultMaxBuffered. A member larger than the
	// bound is still buffered when nothing else is, so progress is
	// guaranteed.
	MaxBuffered int64
	// Stdin is read for the input "-"; nil means os.Stdin.
	Stdin io.Reader
	// Listers serve inputs written as "scheme://...", keyed by scheme
	// ("s3"). Other inputs are local paths.
	Listers map[string]Lister
	// OnError is called with each problem about one input or tape found
	// while walking (missing file, unreadable directory, bad glob, broken
	// tar). If it returns nil the walk skips that input and goes on; if it
	// returns an error, or OnError is nil, the walk stops with that error.
	// Errors from the callback itself always stop the walk.
	OnError func(error) error
	// OnCut is called when a tar archive ends early (a truncated
	// download) between members, every member before it whole: the
	// archive ends there and, if OnCut returns nil, the walk goes on. nil
	// means OnError. (An archive ending inside a member needs no call: that
	// member is a tape cut short, which its reader reports.)
	OnCut func(error) error
}

// Walk calls fn for each tape of inputs, one at a time in input order:
// inputs in the order given, directories and globs in name order, tar
// members in archive order. Tar members are streamed, never buffered. It
// stops at fn's first error, or when ctx is cancelled.
func Walk(ctx context.Context, inputs []string, fn func(ctx context.Context, t *Tape) error) error {
	return (&Walker{}).Walk(ctx, inputs, fn)
}

// ForEach calls fn for each tape of inputs from workers goroutines at once,
// in no particular order, with memory bounded whatever the input size (see
// Walker). It stops at fn's first error, or when ctx is cancelled, and
// returns that error.
func ForEach(ctx context.Context, inputs []string, workers int, fn func(ctx context.Context, t *Tape) error) error {
	return (&Walker{Workers: workers}).ForEach(ctx, inputs, fn)
}

// Walk is the sequential walk of the package-level Walk, using w's settings.
func (w *Walker) Walk(ctx context.Context, inputs []string, fn func(ctx context.Context, t *Tape) error) error {
	if err := checkInputs(inputs); err != nil {
		return err
	}
	return w.produce(ctx, inputs, false, func(t *Tape) error {
		defer t.finish()
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(ctx, t)
	})
}

// ForEach is the parallel walk of the package-level ForEach, using w's
// settings.
//
// One producer walks the inputs in order. Plain files are opened by the
// producer and handed over; tar members up to StreamAbove are read into
// memory (compressed) so the archive can move on while workers decompress;
// a bigger member is handed over as a stream and the producer waits for it.
// The queue holds at most Workers tapes and buffered members at most
// MaxBuffered bytes, so peak memory depends on the settings, not the input.
func (w *Walker) ForEach(ctx context.Context, inputs []string, fn func(ctx context.Context, t *Tape) error) error {
	if err := checkInputs(inputs); err != nil {
		return err
	}
	workers := max(w.Workers, 1)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var (
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		cancel(err)
	}

	queue := make(chan *Tape, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for t := range queue {
				// After a failure or cancellation, queued tapes are
				// only released, so everything stops promptly.
				if ctx.Err() == nil {
					if err := fn(ctx, t); err != nil {
						fail(err)
					}
				}
				t.finish()
			}
		})
	}

	err := w.produce(ctx, inputs, true, func(t *Tape) error {
		var done chan struct{}
		if t.data == nil && t.Member != "" {
			// A streamed member: the archive cannot move on until
			// the worker is done with it.
			done = make(chan struct{})
			t.done = done
		}
		select {
		case queue <- t:
		case <-ctx.Done():
			t.finish()
			return context.Cause(ctx)
		}
		if done != nil {
			// Wait even when cancelled: the worker still reads
			// from the archive, which must stay open until then.
			// Its reads fail fast once ctx is done.
			<-done
		}
		return nil
	})
	if err != nil {
		// Stop the workers too: the tapes still queued are released,
		// not processed.
		fail(err)
	}
	close(queue)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// checkInputs refuses input lists that cannot be walked as given.
func checkInputs(inputs []string) error {
	stdin := 0
	for _, in := range inputs {
		if in == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return &InputError{Path: "-", Err: errors.New("standard input named more than once")}
	}
	return nil
}

// produce lists every input and calls emit for each tape, in input order.
// With buffer set, small tar members are read into memory first (within the
// MaxBuffered budget); otherwise every member is streamed. An error from emit
// stops the walk; problems with inputs go to OnError.
func (w *Walker) produce(ctx context.Context, inputs []string, buffer bool, emit func(*Tape) error) error {
	dec := &decoders{}
	var bud *budget
	if buffer {
		bud = &budget{limit: w.MaxBuffered}
		if bud.limit <= 0 {
			bud.limit = DefaultMaxBuffered
		}
	}
	// stop records an error from emit, so it is not mistaken for a
	// problem with an input when it comes back out of a Lister.
	var stop error
	index := 0
	each := func(obj Object, err error) error {
		if err == nil {
			err = w.object(ctx, obj, dec, bud, func(t *Tape) error {
				t.Index = index
				index++
				if e := emit(t); e != nil {
					stop = e
					return e
				}
				return nil
			})
		} else {
			err = &InputError{Path: obj.Path, Err: err}
		}
		if err == nil || stop != nil {
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return w.problem(err)
	}
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		lister, err := w.lister(in)
		if err != nil {
			if err := w.problem(err); err != nil {
				return err
			}
			continue
		}
		if err := lister.List(ctx, in, each); err != nil {
			return err
		}
	}
	return nil
}

// problem passes an input problem to OnError.
func (w *Walker) problem(err error) error {
	if w.OnError == nil {
		return err
	}
	return w.OnError(err)
}

// lister returns the Lister serving input.
func (w *Walker) lister(input string) (Lister, error) {
	if scheme, _, ok := strings.Cut(input, "://"); ok && !strings.ContainsAny(scheme, `/\`) {
		if l := w.Listers[scheme]; l != nil {
			return l, nil
		}
		return nil, &InputError{Path: input, Err: fmt.Errorf("no source for %s:// inputs in this build", scheme)}
	}
	stdin := w.Stdin
	if stdin == nil {
		stdin = os.Stdin
	}
	return localLister{stdin: stdin}, nil
}

// object opens one listed object, decides from its first bytes whether it is
// a tar archive, and emits its tapes.
func (w *Walker) object(ctx context.Context, obj Object, dec *decoders, bud *budget, emit func(*Tape) error) error {
	rc, err := obj.Open(ctx)
	if err != nil {
		return &InputError{Path: obj.Path, Err: err}
	}
	t := &Tape{Name: obj.Path, Path: obj.Path, Size: obj.Size, ctx: ctx, dec: dec}
	br := dec.getBufio(&countingReader{r: rc, n: &t.compressed})
	head, _ := br.Peek(tarHeaderSize)
	if !isTar(head, obj.Path) {
		// The open stream is handed to the tape; Tape.Open will sniff
		// the compression from the same buffered bytes.
		t.raw, t.br, t.closer = br, br, rc
		return emit(t)
	}
	defer dec.putBufio(br)
	defer rc.Close()
	if !hasUstar(head) && Sniff(head) != Plain {
		// A compressed archive (archive.tar.zst): read the tar from the
		// decompressed stream. Only names say so, since sniffing inside
		// every compressed tape would decode each one twice.
		dr, _, err := dec.decompress(br)
		if err != nil {
			return &InputError{Path: obj.Path, Err: err}
		}
		defer dr.Close()
		return w.tar(ctx, obj.Path, dr, dec, bud, emit)
	}
	return w.tar(ctx, obj.Path, br, dec, bud, emit)
}

// hasUstar reports whether head starts with a ustar (POSIX or GNU) header.
func hasUstar(head []byte) bool {
	return len(head) >= 263 && string(head[257:262]) == "ustar"
}

// tarHeaderSize is the size of a tar header block, which holds the ustar
// magic at offset 257.
const tarHeaderSize = 512

// isTar reports whether a stream starting with head is a tar archive: by the
// ustar magic (POSIX "ustar\x00" and GNU "ustar ") or, for old v7 archives
// without one and for compressed archives, by the name (.tar, .tar.zst,
// .tar.gz, .tgz, .tar.bz2, .tbz2).
func isTar(head []byte, name string) bool {
	if hasUstar(head) {
		return true
	}
	name = strings.ToLower(name)
	for _, suffix := range []string{".tar", ".tar.zst", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}

// tar emits one tape per regular member of the archive read from r, never
// unpacking to disk. Directories, links and other non-regular members, and
// hidden or *.json members, are skipped.
func (w *Walker) tar(ctx context.Context, archive string, r io.Reader, dec *decoders, bud *budget, emit func(*Tape) error) error {
	streamAbove := w.StreamAbove
	if streamAbove <= 0 {
		streamAbove = DefaultStreamAbove
	}
	tr := tar.NewReader(r)
	last := ""
	// cut points at the error that ended the last streamed member's
	// reads, if any.
	var cut *error
	for {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			where := "at its start"
			if last != "" {
				where = "after member " + last
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				if cut != nil && errors.Is(*cut, io.ErrUnexpectedEOF) {
					// The archive ended inside the last member,
					// whose reader has reported it.
					return nil
				}
				ierr := &InputError{Path: archive, Err: fmt.Errorf("tar archive truncated %s: %w", where, err)}
				if w.OnCut != nil {
					return w.OnCut(ierr)
				}
				return ierr
			}
			// The archive's structure is broken; nothing after this
			// point can be found, so the archive ends here.
			return &InputError{Path: archive, Err: fmt.Errorf("tar archive broken %s: %w", where, err)}
		}
		last, cut = hdr.Name, nil
		if hdr.Typeflag != tar.TypeReg || skipName(path.Base(hdr.Name)) {
			continue
		}
		t := &Tape{Name: archive + ":" + hdr.Name, Path: archive, Member: hdr.Name,
			Size: hdr.Size, ctx: ctx, dec: dec}
		if bud != nil && hdr.Size <= streamAbove {
			if err := bud.acquire(ctx, hdr.Size); err != nil {
				return context.Cause(ctx)
			}
			n := hdr.Size
			t.release = func() { bud.release(n) }
			t.data = make([]byte, hdr.Size)
			if got, err := io.ReadFull(tr, t.data); err != nil {
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.finish()
					return t.ErrorAt(0, fmt.Errorf("reading tar member: %w", err))
				}
				// The archive ends inside this member: it is a tape
				// cut short, whose lines up to the cut are read like
				// any other's, and the archive ends with it.
				t.data, t.cut = t.data[:got], fmt.Errorf("%s: %w", errTarTruncated, err)
				return emit(t)
			}
		} else {
			mr := &memberReader{r: tr}
			t.raw, cut = mr, &mr.err
		}
		if err := emit(t); err != nil {
			return err
		}
	}
}

// errTarTruncated starts the error of a member the archive ends inside.
const errTarTruncated = "tar archive truncated in this member"

// memberReader reads a streamed tar member, noting the error that ended
// it, so that the walker can tell an archive cut inside the member (which
// the member's reader has reported) from one broken after it.
type memberReader struct {
	r   io.Reader
	err error
}

// Read reads the member; an archive ending inside it reads as a truncation.
func (m *memberReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	if err != nil && err != io.EOF {
		m.err = err
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%s: %w", errTarTruncated, err)
		}
	}
	return n, err
}

// budget is a byte-weighted semaphore bounding buffered member bytes. Only
// the producer acquires; workers release.
type budget struct {
	mu    sync.Mutex
	used  int64
	limit int64
	wake  chan struct{} // closed and replaced on each release
}

// acquire waits until n bytes fit in the budget (or nothing is held, so a
// member bigger than the whole budget still goes through), or ctx is done.
func (b *budget) acquire(ctx context.Context, n int64) error {
	for {
		b.mu.Lock()
		if b.used == 0 || b.used+n <= b.limit {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		if b.wake == nil {
			b.wake = make(chan struct{})
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release gives n bytes back and wakes the producer.
func (b *budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	if b.wake != nil {
		close(b.wake)
		b.wake = nil
	}
	b.mu.Unlock()
}

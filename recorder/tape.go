package recorder

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// File is what the recorder needs of an open spool file. The default is an
// *os.File opened for appending; tests wrap it to make writes fail.
type File interface {
	io.Writer
	Sync() error
	Truncate(size int64) error
	Close() error
}

// OpenFunc opens (creating if needed) a spool file for appending.
type OpenFunc func(path string) (File, error)

func openAppend(path string) (File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
}

// flushAt is the buffered size at which a tape writes before the next sync
// tick: big enough for few syscalls, small enough that 2,000 open markets hold
// little memory.
const flushAt = 16 << 10

// tape is one market's (or one market's orders') open spool file. Its buffer
// holds whole lines only, so that whatever reaches the file is whole lines:
// a failed write is cut back to size, the length after the last whole line.
type tape struct {
	id     string // market id
	orders bool   // an order tape ("op":"ocm" lines)
	path   string
	f      File
	buf    []byte
	size   int64 // bytes in the file, all whole lines
	dirty  bool  // written since the last fsync

	last    time.Time // when a change last arrived
	closeAt time.Time // set once the definition says CLOSED
	version int64     // the definition version last seen

	def         *esa.MarketDefinition // the last definition (the decoder allocates each afresh)
	firstPt     int64                 // pt of the first line written by this run
	resumedSize int64                 // size when resumed from an earlier run
}

// appendLine adds one tape line for a change: the message's clk and pt
// around the change's bytes as received.
func appendLine(dst []byte, op string, m *esa.Message, raw []byte) []byte {
	dst = append(dst, `{"op":"`...)
	dst = append(dst, op...)
	dst = append(dst, '"')
	if m.Clk != nil {
		dst = append(dst, `,"clk":"`...)
		dst = append(dst, m.Clk...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"pt":`...)
	dst = strconv.AppendInt(dst, m.Pt, 10)
	if op == "ocm" {
		dst = append(dst, `,"oc":[`...)
	} else {
		dst = append(dst, `,"mc":[`...)
	}
	dst = append(dst, raw...)
	return append(dst, "]}\n"...)
}

// SpoolError is a failure to write the spool: the tape it names holds every
// whole line written before it, and nothing after.
type SpoolError struct {
	Path   string
	Market string
	Op     string // "write", "sync", "open", "close"
	Err    error
}

// Error says what failed and, for a full disk, what to do.
func (e *SpoolError) Error() string {
	hint := ""
	if errors.Is(e.Err, syscall.ENOSPC) || errors.Is(e.Err, syscall.EDQUOT) {
		hint = " (the spool's disk is full: free space or point --spool elsewhere; the tape keeps every whole line written before)"
	}
	return fmt.Sprintf("recorder: spool %s (market %s): %s: %v%s", e.Path, e.Market, e.Op, e.Err, hint)
}

// Unwrap returns the cause.
func (e *SpoolError) Unwrap() error { return e.Err }

// flush writes the buffered lines. On a failed or short write the file is
// truncated back to its last whole line and the buffer kept, so a later
// flush can try again and the tape is never left with half a line.
func (t *tape) flush() error {
	if len(t.buf) == 0 {
		return nil
	}
	n, err := t.f.Write(t.buf)
	if err == nil && n != len(t.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		if n > 0 {
			if terr := t.f.Truncate(t.size); terr != nil {
				err = fmt.Errorf("%w; and cutting the file back to its last whole line (%d bytes) failed: %v", err, t.size, terr)
			}
		}
		return &SpoolError{Path: t.path, Market: t.id, Op: "write", Err: err}
	}
	t.size += int64(n)
	t.buf = t.buf[:0]
	t.dirty = true
	return nil
}

// sync makes the written lines durable.
func (t *tape) sync() error {
	if !t.dirty {
		return nil
	}
	if err := t.f.Sync(); err != nil {
		return &SpoolError{Path: t.path, Market: t.id, Op: "sync", Err: err}
	}
	t.dirty = false
	return nil
}

// repairTail cuts a spool file back to its last newline: a crash (or a
// write the kernel had only partly done) may have left half a line.
func repairTail(path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	buf := make([]byte, 64<<10)
	end := size
	for end > 0 {
		n := int64(len(buf))
		if n > end {
			n = end
		}
		if _, err := f.ReadAt(buf[:n], end-n); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			end = end - n + int64(i) + 1
			break
		}
		end -= n
	}
	if end != size {
		if err := f.Truncate(end); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
	}
	return end, nil
}

package tape

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/tapedeck/tapedeck/internal/testenv"
)

// sharedTar returns the path of Betfair's PRO greyhound archive in the
// shared data (read only, never copied), found through internal/testenv, or
// "" when the shared data is absent.
func sharedTar(tb testing.TB) string {
	tb.Helper()
	d := testenv.SharedDir(tb)
	if d == "" {
		return ""
	}
	return filepath.Join(d, "data", "historic", "pro-greyhounds-2022-03-01.tar")
}

// sharedTarMembers is how many bz2 tapes that archive holds.
const sharedTarMembers = 32

// realTapePath returns flumine's recording of market 1.197931750, as the
// project's testdata holds it.
func realTapePath(tb testing.TB) string {
	tb.Helper()
	return testenv.Testdata(tb, "tapes/1.197931750")
}

// realTape returns the bytes of the real tape.
func realTape(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(realTapePath(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// needShared skips the test when the shared data is absent.
func needShared(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat(sharedTar(tb)); err != nil {
		tb.Skipf("shared data absent (%v): skipping the test on Betfair's real tar", err)
	}
}

// splitLines splits data the way a LineReader should: on '\n', dropping one
// trailing '\r' per line and an empty last piece.
func splitLines(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var l []byte
		if i < 0 {
			l, data = data, nil
		} else {
			l, data = data[:i], data[i+1:]
		}
		out = append(out, bytes.TrimSuffix(l, []byte("\r")))
	}
	return out
}

// compressAs returns data compressed in c. Bzip2 uses the bzip2 CLI with
// level 1 (100 kB blocks, so a truncated file still holds whole blocks), and
// skips the test without it.
func compressAs(tb testing.TB, c Compression, data []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	switch c {
	case Plain:
		return data
	case Gzip:
		w := gzip.NewWriter(&buf)
		w.Write(data)
		if err := w.Close(); err != nil {
			tb.Fatal(err)
		}
	case Zstd:
		w, err := zstd.NewWriter(&buf)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(data)
		if err := w.Close(); err != nil {
			tb.Fatal(err)
		}
	case Bzip2:
		if _, err := exec.LookPath("bzip2"); err != nil {
			tb.Skip("bzip2 CLI not installed")
		}
		cmd := exec.Command("bzip2", "-1", "-c")
		cmd.Stdin = bytes.NewReader(data)
		cmd.Stdout = &buf
		if err := cmd.Run(); err != nil {
			tb.Fatal(err)
		}
	}
	return buf.Bytes()
}

// writeFile writes data to dir/name, making parent directories.
func writeFile(tb testing.TB, dir, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// tarEntry is one member of a tar built by a test.
type tarEntry struct {
	name string
	typ  byte
	data []byte
}

// buildTar returns a tar archive of entries, in order.
func buildTar(tb testing.TB, entries []tarEntry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Size: int64(len(e.data)), Format: tar.FormatUSTAR}
		if typ != tar.TypeReg {
			hdr.Size = 0
			hdr.Linkname = "x"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			tb.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write(e.data)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// tapeResult is what reading one tape gave.
type tapeResult struct {
	name        string
	index       int
	lines       [][]byte
	err         error
	compression Compression
	compressed  int64
	plain       int64
	size        int64
}

// readTape reads every line of t, copying them.
func readTape(t *Tape) tapeResult { return readLines(t, false) }

// readLines reads the lines of t, or only its first line.
func readLines(t *Tape, firstOnly bool) tapeResult {
	res := tapeResult{name: t.Name, index: t.Index, size: t.Size}
	lr, err := t.Lines()
	if err != nil {
		res.err = err
		return res
	}
	for lr.Next() {
		res.lines = append(res.lines, bytes.Clone(lr.Bytes()))
		if firstOnly {
			break
		}
	}
	res.err = lr.Err()
	lr.Close()
	res.compression = t.Compression()
	res.compressed = t.CompressedBytes()
	res.plain = t.DecompressedBytes()
	return res
}

// collector gathers tape results from concurrent callbacks.
type collector struct {
	mu        sync.Mutex
	results   []tapeResult
	firstOnly bool // read only each tape's first line
}

// fn is a callback for Walk and ForEach that reads each tape fully and
// records the result; read errors are recorded, not returned.
func (c *collector) fn(_ context.Context, t *Tape) error {
	r := readLines(t, c.firstOnly)
	c.mu.Lock()
	c.results = append(c.results, r)
	c.mu.Unlock()
	return nil
}

// byName returns the results keyed by tape name, failing on duplicates.
func (c *collector) byName(tb testing.TB) map[string]tapeResult {
	tb.Helper()
	m := map[string]tapeResult{}
	for _, r := range c.results {
		if _, dup := m[r.name]; dup {
			tb.Errorf("tape %s processed twice", r.name)
		}
		m[r.name] = r
	}
	return m
}

// names returns the tape names in callback order.
func (c *collector) names() []string {
	var out []string
	for _, r := range c.results {
		out = append(out, r.name)
	}
	return out
}

// sortedNames returns the tape names sorted.
func (c *collector) sortedNames() []string {
	out := c.names()
	sort.Strings(out)
	return out
}

// Contract tests every Store must pass, whatever its backend: the same
// tests, the same expectations.

package storetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/store"
)

// PartSize is the part size the contract's sizes are made from: S3's
// smallest, which storetest's S3 stores use, so "several parts" really is a
// multipart upload there. A backend under test should use parts no larger.
const PartSize = 5 << 20

// Backend is one Store implementation under the contract.
type Backend struct {
	// New returns an empty store (or skips t).
	New func(t *testing.T) store.Store
	// Leftovers describes what a failed or aborted write left behind that
	// no List shows (a directory's temporary files, S3's unfinished
	// multipart uploads); the contract wants none. Nil: nothing to look at.
	Leftovers func(t *testing.T, s store.Store) []string
	// AfterUnclosed, when set, is called with a key whose Writer was
	// written past one part and never closed, for the backend's own checks
	// (S3: one unfinished upload, which AbortIncomplete clears).
	AfterUnclosed func(t *testing.T, s store.Store, key string)
	// CheckMultipart, when set, checks the Stat of an object written as
	// the given number of parts (S3: a "-N" multipart ETag).
	CheckMultipart func(t *testing.T, obj store.Object, parts int)
}

// Run runs the contract against b, one subtest per property.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name string
		test func(*testing.T, Backend)
	}{
		{"CreateListOpenDelete", testCreateListOpenDelete},
		{"AbortLeavesNothing", testAbortLeavesNothing},
		{"UnclosedWriterIsInvisible", testUnclosedWriterIsInvisible},
		{"MultipartSeveralParts", testMultipartSeveralParts},
		{"Verify", testVerify},
		{"ErrorsNameTheKey", testErrorsNameTheKey},
		{"CancelledClose", testCancelledClose},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) { c.test(t, b) })
	}
}

// noLeftovers fails t if the backend reports anything left behind.
func (b Backend) noLeftovers(t *testing.T, s store.Store, when string) {
	t.Helper()
	if b.Leftovers == nil {
		return
	}
	if left := b.Leftovers(t, s); len(left) != 0 {
		t.Errorf("%s, left behind: %q", when, left)
	}
}

// Payload is n deterministic pseudo-random bytes (seeded by n), so content
// checks catch misplaced or repeated parts.
func Payload(n int) []byte {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(n))
	b := make([]byte, n)
	rand.NewChaCha8(seed).Read(b)
	return b
}

// Put writes data under key in uneven chunks and closes the writer.
func Put(t *testing.T, s store.Store, key string, data []byte) store.Writer {
	t.Helper()
	w, err := s.Create(t.Context(), key)
	if err != nil {
		t.Fatalf("create %s: %v", key, err)
	}
	WriteChunks(t, w, data)
	if err := w.Close(); err != nil {
		t.Fatalf("close %s: %v", key, err)
	}
	return w
}

// WriteChunks writes data in chunks of varying size, as a recorder would.
func WriteChunks(t *testing.T, w io.Writer, data []byte) {
	t.Helper()
	for i, size := 0, 1; i < len(data); size = (size*3 + 1) % (1 << 20) {
		n := min(size+1, len(data)-i)
		if _, err := w.Write(data[i : i+n]); err != nil {
			t.Fatalf("write: %v", err)
		}
		i += n
	}
}

// Read returns key's content.
func Read(t *testing.T, s store.Store, key string) []byte {
	t.Helper()
	r, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

// Keys lists prefix and returns just the keys.
func Keys(t *testing.T, s store.Store, prefix string) []string {
	t.Helper()
	objs, err := s.List(t.Context(), prefix)
	if err != nil {
		t.Fatalf("list %q: %v", prefix, err)
	}
	out := []string{}
	for _, o := range objs {
		out = append(out, o.Key)
	}
	return out
}

func testCreateListOpenDelete(t *testing.T, b Backend) {
	objects := map[string][]byte{
		"a.x":                       []byte("dot sorts before slash"),
		"a/b0":                      []byte("one"),
		"a/bc":                      []byte("prefix is not a directory"),
		"a/b/c/1.234567890.zst":     Payload(1000),
		"2026/11/28/1.23456789.zst": Payload(70000),
		"empty":                     {},
	}
	lists := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"2026/11/28/1.23456789.zst", "a.x", "a/b/c/1.234567890.zst", "a/b0", "a/bc", "empty"}},
		{"a/b", []string{"a/b/c/1.234567890.zst", "a/b0", "a/bc"}},
		{"a/b/", []string{"a/b/c/1.234567890.zst"}},
		{"a", []string{"a.x", "a/b/c/1.234567890.zst", "a/b0", "a/bc"}},
		{"2026/11/2", []string{"2026/11/28/1.23456789.zst"}},
		{"2026/12/", []string{}},
		{"nothing", []string{}},
	}
	s := b.New(t)
	ctx := t.Context()
	for key, data := range objects {
		if ok, err := s.Exists(ctx, key); err != nil || ok {
			t.Fatalf("Exists(%s) before create = %v, %v", key, ok, err)
		}
		w := Put(t, s, key, data)
		want, _ := store.DigestOf(bytes.NewReader(data))
		if w.Digest() != want {
			t.Errorf("%s: Digest() = %v, want %v", key, w.Digest(), want)
		}
	}
	for _, l := range lists {
		if got := Keys(t, s, l.prefix); !slices.Equal(got, l.want) {
			t.Errorf("List(%q) = %q, want %q", l.prefix, got, l.want)
		}
	}
	for key, data := range objects {
		if got := Read(t, s, key); !bytes.Equal(got, data) {
			t.Errorf("%s: read %d bytes, want the %d written", key, len(got), len(data))
		}
		obj, err := s.Stat(ctx, key)
		if err != nil || obj.Key != key || obj.Size != int64(len(data)) || obj.ModTime.IsZero() {
			t.Errorf("Stat(%s) = %+v, %v", key, obj, err)
		}
		if ok, err := s.Exists(ctx, key); err != nil || !ok {
			t.Errorf("Exists(%s) = %v, %v", key, ok, err)
		}
	}

	// Replacing an object swaps its content whole.
	Put(t, s, "a/b0", []byte("two"))
	if got := Read(t, s, "a/b0"); string(got) != "two" {
		t.Errorf("after replace read %q", got)
	}

	for key := range objects {
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("Delete(%s): %v", key, err)
		}
		if ok, err := s.Exists(ctx, key); err != nil || ok {
			t.Errorf("Exists(%s) after delete = %v, %v", key, ok, err)
		}
	}
	if err := s.Delete(ctx, "a/b0"); err != nil {
		t.Errorf("deleting a missing key: %v", err)
	}
	if got := Keys(t, s, ""); len(got) != 0 {
		t.Errorf("after deleting all, List = %q", got)
	}
}

func testAbortLeavesNothing(t *testing.T, b Backend) {
	sizes := []struct {
		name string
		n    int
	}{
		{"small", 100},
		{"several parts", 2*PartSize + 10}, // S3 has started a multipart upload
	}
	s := b.New(t)
	ctx := t.Context()
	Put(t, s, "kept", []byte("earlier object"))
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			for _, key := range []string{"new", "kept"} {
				w, err := s.Create(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				WriteChunks(t, w, Payload(sz.n))
				if err := w.Abort(); err != nil {
					t.Fatalf("Abort: %v", err)
				}
				if err := w.Close(); err != nil {
					t.Errorf("Close after Abort: %v", err)
				}
			}
			if got := Keys(t, s, ""); !slices.Equal(got, []string{"kept"}) {
				t.Errorf("after Abort, List = %q, want only the earlier object", got)
			}
			if got := Read(t, s, "kept"); string(got) != "earlier object" {
				t.Errorf("aborted overwrite changed the object to %d bytes", len(got))
			}
			b.noLeftovers(t, s, "after Abort")
		})
	}
}

// A writer whose process dies before Close leaves nothing visible: simulated
// by writing more than one part (so S3 holds an unfinished multipart upload
// with data in it, and the directory a temp file) and never closing.
func testUnclosedWriterIsInvisible(t *testing.T, b Backend) {
	s := b.New(t)
	ctx := t.Context()
	w, err := s.Create(ctx, "1.999/market.zst")
	if err != nil {
		t.Fatal(err)
	}
	WriteChunks(t, w, Payload(PartSize+PartSize/2))
	// No Close: the process "dies" here.

	if got := Keys(t, s, ""); len(got) != 0 {
		t.Errorf("List shows %q for a writer never closed", got)
	}
	if ok, err := s.Exists(ctx, "1.999/market.zst"); err != nil || ok {
		t.Errorf("Exists = %v, %v for a writer never closed", ok, err)
	}
	_, err = s.Open(ctx, "1.999/market.zst")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of an unclosed object: %v, want fs.ErrNotExist", err)
	}
	if b.AfterUnclosed != nil {
		b.AfterUnclosed(t, s, "1.999/market.zst")
	}
}

func testMultipartSeveralParts(t *testing.T, b Backend) {
	const n = 3*PartSize + 12345 // four parts at the test part size
	data := Payload(n)
	s := b.New(t)
	ctx := t.Context()
	w := Put(t, s, "big/1.234.zst", data)
	if got := Read(t, s, "big/1.234.zst"); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes differing from the %d written", len(got), n)
	}
	want, _ := store.DigestOf(bytes.NewReader(data))
	if w.Digest() != want {
		t.Errorf("Digest() = %v, want %v", w.Digest(), want)
	}
	if err := s.Verify(ctx, "big/1.234.zst", want); err != nil {
		t.Errorf("Verify: %v", err)
	}
	obj, err := s.Stat(ctx, "big/1.234.zst")
	if err != nil {
		t.Fatal(err)
	}
	if b.CheckMultipart != nil {
		b.CheckMultipart(t, obj, 4)
	}
	b.noLeftovers(t, s, "after Close")
}

func testVerify(t *testing.T, b Backend) {
	cases := []struct {
		name   string
		size   int
		change func(d store.Digest) store.Digest
		bad    bool
	}{
		{"whole", 5000, func(d store.Digest) store.Digest { return d }, false},
		{"short", 5000, func(d store.Digest) store.Digest { d.Size--; return d }, true},
		{"long", 5000, func(d store.Digest) store.Digest { d.Size++; return d }, true},
		{"other content", 5000, func(d store.Digest) store.Digest { d.CRC32C ^= 1; return d }, true},
		{"multipart whole", PartSize + 1, func(d store.Digest) store.Digest { return d }, false},
		{"multipart short", PartSize + 1, func(d store.Digest) store.Digest { d.Size--; return d }, true},
		{"multipart other content", PartSize + 1, func(d store.Digest) store.Digest { d.CRC32C++; return d }, true},
	}
	s := b.New(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := "verify/" + strings.ReplaceAll(c.name, " ", "-")
			w := Put(t, s, key, Payload(c.size))
			err := s.Verify(t.Context(), key, c.change(w.Digest()))
			if !c.bad {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, store.ErrIncomplete) {
				t.Fatalf("Verify = %v, want ErrIncomplete", err)
			}
			if !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), s.URL()) {
				t.Errorf("error %q does not name the store and key", err)
			}
		})
	}
	err := s.Verify(t.Context(), "verify/missing", store.Digest{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Verify of a missing key = %v, want fs.ErrNotExist", err)
	}
}

func testErrorsNameTheKey(t *testing.T, b Backend) {
	bad := []string{"", "/abs", "trailing/", "a//b", "a/./b", "../up", "a/../b", `back\slash`, ".tmp-x", "a/.tmp-1234/b"}
	s := b.New(t)
	ctx := t.Context()
	for _, key := range bad {
		if _, err := s.Create(ctx, key); err == nil {
			t.Errorf("Create(%q) accepted a bad key", key)
		} else if !strings.Contains(err.Error(), key) || !strings.HasPrefix(err.Error(), "store: ") {
			t.Errorf("Create(%q) error %q does not name the key", key, err)
		}
	}
	ops := []struct {
		name string
		call func(key string) error
	}{
		{"open", func(key string) error { _, err := s.Open(ctx, key); return err }},
		{"stat", func(key string) error { _, err := s.Stat(ctx, key); return err }},
		{"verify", func(key string) error { return s.Verify(ctx, key, store.Digest{}) }},
	}
	for _, op := range ops {
		key := "missing/1.23.zst"
		err := op.call(key)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s of a missing key: %v, want fs.ErrNotExist", op.name, err)
			continue
		}
		var se *store.Error
		if !errors.As(err, &se) || se.URL != s.URL()+"/"+key || !strings.Contains(err.Error(), s.URL()+"/"+key) {
			t.Errorf("%s error %q does not name %s/%s", op.name, err, s.URL(), key)
		}
	}
}

// A cancelled context fails Close and leaves nothing, not even an unfinished
// upload: the cleanup runs on a context of its own.
func testCancelledClose(t *testing.T, b Backend) {
	s := b.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	w, err := s.Create(ctx, "cancelled")
	if err != nil {
		t.Fatal(err)
	}
	WriteChunks(t, w, Payload(PartSize+1000))
	cancel()
	err = w.Close()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Close with a cancelled context = %v, want context.Canceled", err)
	}
	if got := Keys(t, s, ""); len(got) != 0 {
		t.Errorf("List after a failed Close = %q", got)
	}
	b.noLeftovers(t, s, "after a failed Close")
}

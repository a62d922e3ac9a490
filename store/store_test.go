package store_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/storetest"
)

// backend is one Store implementation the shared suite runs against.
type backend struct {
	name string
	// open returns an empty store, or skips the test.
	open func(t *testing.T) store.Store
}

// backends is every store the suite covers: the same tests, the same
// expectations.
var backends = []backend{
	{"dir", func(t *testing.T) store.Store {
		d, err := store.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return d
	}},
	{"s3", func(t *testing.T) store.Store { return storetest.S3(t) }},
}

// forEach runs test once per backend as a subtest.
func forEach(t *testing.T, test func(t *testing.T, s store.Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b.open(t)) })
	}
}

// payload is n deterministic pseudo-random bytes (seeded by n), so content
// checks catch misplaced or repeated parts.
func payload(n int) []byte {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(n))
	b := make([]byte, n)
	rand.NewChaCha8(seed).Read(b)
	return b
}

// put writes data under key in uneven chunks and closes the writer.
func put(t *testing.T, s store.Store, key string, data []byte) store.Writer {
	t.Helper()
	w, err := s.Create(t.Context(), key)
	if err != nil {
		t.Fatalf("create %s: %v", key, err)
	}
	writeChunks(t, w, data)
	if err := w.Close(); err != nil {
		t.Fatalf("close %s: %v", key, err)
	}
	return w
}

// writeChunks writes data in chunks of varying size, as a recorder would.
func writeChunks(t *testing.T, w io.Writer, data []byte) {
	t.Helper()
	for i, size := 0, 1; i < len(data); size = (size*3 + 1) % (1 << 20) {
		n := min(size+1, len(data)-i)
		if _, err := w.Write(data[i : i+n]); err != nil {
			t.Fatalf("write: %v", err)
		}
		i += n
	}
}

// read returns key's content.
func read(t *testing.T, s store.Store, key string) []byte {
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

// keys lists prefix and returns just the keys.
func keys(t *testing.T, s store.Store, prefix string) []string {
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

// openUploads counts S3's unfinished multipart uploads; 0 for other stores.
func openUploads(t *testing.T, s store.Store) int {
	t.Helper()
	s3s, ok := s.(*store.S3)
	if !ok {
		return 0
	}
	out, err := s3s.Client().ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(s3s.Bucket())})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

func TestCreateListOpenDelete(t *testing.T) {
	objects := map[string][]byte{
		"a.x":                       []byte("dot sorts before slash"),
		"a/b0":                      []byte("one"),
		"a/bc":                      []byte("prefix is not a directory"),
		"a/b/c/1.234567890.zst":     payload(1000),
		"2026/11/28/1.23456789.zst": payload(70000),
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
	forEach(t, func(t *testing.T, s store.Store) {
		ctx := t.Context()
		for key, data := range objects {
			if ok, err := s.Exists(ctx, key); err != nil || ok {
				t.Fatalf("Exists(%s) before create = %v, %v", key, ok, err)
			}
			w := put(t, s, key, data)
			want, _ := store.DigestOf(bytes.NewReader(data))
			if w.Digest() != want {
				t.Errorf("%s: Digest() = %v, want %v", key, w.Digest(), want)
			}
		}
		for _, l := range lists {
			if got := keys(t, s, l.prefix); !slices.Equal(got, l.want) {
				t.Errorf("List(%q) = %q, want %q", l.prefix, got, l.want)
			}
		}
		for key, data := range objects {
			if got := read(t, s, key); !bytes.Equal(got, data) {
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
		put(t, s, "a/b0", []byte("two"))
		if got := read(t, s, "a/b0"); string(got) != "two" {
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
		if got := keys(t, s, ""); len(got) != 0 {
			t.Errorf("after deleting all, List = %q", got)
		}
	})
}

func TestAbortLeavesNothing(t *testing.T) {
	sizes := []struct {
		name string
		n    int
	}{
		{"small", 100},
		{"several parts", 2*store.MinPartSize + 10}, // S3 has started a multipart upload
	}
	forEach(t, func(t *testing.T, s store.Store) {
		ctx := t.Context()
		put(t, s, "kept", []byte("earlier object"))
		for _, sz := range sizes {
			t.Run(sz.name, func(t *testing.T) {
				for _, key := range []string{"new", "kept"} {
					w, err := s.Create(ctx, key)
					if err != nil {
						t.Fatal(err)
					}
					writeChunks(t, w, payload(sz.n))
					if err := w.Abort(); err != nil {
						t.Fatalf("Abort: %v", err)
					}
					if err := w.Close(); err != nil {
						t.Errorf("Close after Abort: %v", err)
					}
				}
				if got := keys(t, s, ""); !slices.Equal(got, []string{"kept"}) {
					t.Errorf("after Abort, List = %q, want only the earlier object", got)
				}
				if got := read(t, s, "kept"); string(got) != "earlier object" {
					t.Errorf("aborted overwrite changed the object to %d bytes", len(got))
				}
				if n := openUploads(t, s); n != 0 {
					t.Errorf("%d multipart uploads left open after Abort", n)
				}
				if d, ok := s.(*store.Dir); ok {
					assertNoTempFiles(t, d)
				}
			})
		}
	})
}

// assertNoTempFiles fails if a directory store left any file being written.
func assertNoTempFiles(t *testing.T, d *store.Dir) {
	t.Helper()
	filepath.WalkDir(d.URL(), func(p string, e fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

// A writer whose process dies before Close leaves nothing visible: simulated
// by writing more than one part (so S3 holds an unfinished multipart upload
// with data in it, and the directory a temp file) and never closing.
func TestUnclosedWriterIsInvisible(t *testing.T) {
	forEach(t, func(t *testing.T, s store.Store) {
		ctx := t.Context()
		w, err := s.Create(ctx, "1.999/market.zst")
		if err != nil {
			t.Fatal(err)
		}
		writeChunks(t, w, payload(store.MinPartSize+store.MinPartSize/2))
		// No Close: the process "dies" here.

		if got := keys(t, s, ""); len(got) != 0 {
			t.Errorf("List shows %q for a writer never closed", got)
		}
		if ok, err := s.Exists(ctx, "1.999/market.zst"); err != nil || ok {
			t.Errorf("Exists = %v, %v for a writer never closed", ok, err)
		}
		_, err = s.Open(ctx, "1.999/market.zst")
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open of an unclosed object: %v, want fs.ErrNotExist", err)
		}
		if s3s, ok := s.(*store.S3); ok {
			// The data did reach the server, as an unfinished upload...
			if n := openUploads(t, s); n != 1 {
				t.Fatalf("%d unfinished multipart uploads, want 1", n)
			}
			// ...once its first part, which the writer sends in the
			// background, has landed: a process that died would send
			// nothing more.
			waitForParts(t, s3s, "1.999/market.zst", 1)
			// ...which a young cutoff leaves alone and AbortIncomplete
			// then clears.
			if n, err := s3s.AbortIncomplete(ctx, "", 1<<40); err != nil || n != 0 {
				t.Errorf("AbortIncomplete(olderThan huge) = %d, %v; want 0", n, err)
			}
			if n, err := s3s.AbortIncomplete(ctx, "1.999/", 0); err != nil || n != 1 {
				t.Errorf("AbortIncomplete = %d, %v; want 1", n, err)
			}
			if n := openUploads(t, s); n != 0 {
				t.Errorf("%d uploads left after AbortIncomplete", n)
			}
		}
	})
}

func TestMultipartSeveralParts(t *testing.T) {
	const n = 3*store.MinPartSize + 12345 // four parts at the test part size
	data := payload(n)
	forEach(t, func(t *testing.T, s store.Store) {
		ctx := t.Context()
		w := put(t, s, "big/1.234.zst", data)
		if got := read(t, s, "big/1.234.zst"); !bytes.Equal(got, data) {
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
		if _, ok := s.(*store.S3); ok && !strings.HasSuffix(obj.ETag, "-4") {
			t.Errorf("ETag %q: want a 4-part multipart ETag", obj.ETag)
		}
		if n := openUploads(t, s); n != 0 {
			t.Errorf("%d multipart uploads open after Close", n)
		}
	})
}

func TestVerify(t *testing.T) {
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
		{"multipart whole", store.MinPartSize + 1, func(d store.Digest) store.Digest { return d }, false},
		{"multipart short", store.MinPartSize + 1, func(d store.Digest) store.Digest { d.Size--; return d }, true},
		{"multipart other content", store.MinPartSize + 1, func(d store.Digest) store.Digest { d.CRC32C++; return d }, true},
	}
	forEach(t, func(t *testing.T, s store.Store) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				key := "verify/" + strings.ReplaceAll(c.name, " ", "-")
				w := put(t, s, key, payload(c.size))
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
	})
}

func TestErrorsNameTheKey(t *testing.T) {
	bad := []string{"", "/abs", "trailing/", "a//b", "a/./b", "../up", "a/../b", `back\slash`, ".tmp-x", "a/.tmp-1234/b"}
	forEach(t, func(t *testing.T, s store.Store) {
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
	})
}

// A cancelled context fails Close and leaves nothing, not even an unfinished
// upload: the cleanup runs on a context of its own.
func TestCancelledClose(t *testing.T) {
	forEach(t, func(t *testing.T, s store.Store) {
		ctx, cancel := context.WithCancel(t.Context())
		w, err := s.Create(ctx, "cancelled")
		if err != nil {
			t.Fatal(err)
		}
		writeChunks(t, w, payload(store.MinPartSize+1000))
		cancel()
		err = w.Close()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Close with a cancelled context = %v, want context.Canceled", err)
		}
		if got := keys(t, s, ""); len(got) != 0 {
			t.Errorf("List after a failed Close = %q", got)
		}
		if n := openUploads(t, s); n != 0 {
			t.Errorf("%d uploads open after a failed Close", n)
		}
		if d, ok := s.(*store.Dir); ok {
			assertNoTempFiles(t, d)
		}
	})
}

func TestOpenURL(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		url        string
		wantURL    string // the store's URL(); "" means an error is expected
		wantPrefix string
	}{
		{dir + "/tapes", dir + "/tapes", ""},
		{"file://" + dir + "/x", dir + "/x", ""},
		{"s3://my-bucket", "s3://my-bucket", ""},
		{"s3://my-bucket/", "s3://my-bucket", ""},
		{"s3://my-bucket/tapes/2026/", "s3://my-bucket", "tapes/2026/"},
		{"s3://my-bucket/a b/100%/#1?x", "s3://my-bucket", "a b/100%/#1?x"},
		{"s3:///tapes", "", ""},
		{"gs://bucket/x", "", ""},
		{"file://otherhost/x", "", ""},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			s, prefix, err := store.Open(t.Context(), c.url, store.Options{})
			if c.wantURL == "" {
				if err == nil {
					t.Fatalf("Open(%q) = %s, want an error", c.url, s.URL())
				}
				if !strings.Contains(err.Error(), c.url) {
					t.Errorf("error %q does not name the URL", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.URL() != c.wantURL || prefix != c.wantPrefix {
				t.Errorf("Open(%q) = %s, %q; want %s, %q", c.url, s.URL(), prefix, c.wantURL, c.wantPrefix)
			}
		})
	}
}

// The same flow through store.Open with an s3:// URL, as the commands use it.
func TestOpenS3URL(t *testing.T) {
	u, opt := storetest.URL(t, "tapes/")
	s, prefix, err := store.Open(t.Context(), u, opt)
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, prefix+"1.1.zst", []byte("x"))
	if got := keys(t, s, prefix); !slices.Equal(got, []string{"tapes/1.1.zst"}) {
		t.Errorf("List = %q", got)
	}
}

// The directory store never shows a file still being written, even one left
// by a crashed process, and never lets a key collide with one.
func TestDirSkipsStrayTempFiles(t *testing.T) {
	root := t.TempDir()
	d, err := store.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "m"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "m", ".tmp-12345"), []byte("half a tape"), 0o644); err != nil {
		t.Fatal(err)
	}
	put(t, d, "m/1.2.zst", []byte("whole"))
	if got := keys(t, d, ""); !slices.Equal(got, []string{"m/1.2.zst"}) {
		t.Errorf("List = %q, want only the committed file", got)
	}
}

// waitForParts waits until the one unfinished upload of key holds n parts,
// for tests that must not race a Writer's background part uploads.
func waitForParts(t *testing.T, s *store.S3, key string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c, bucket := s.Client(), aws.String(s.Bucket())
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: bucket, Prefix: aws.String(key)})
	if err != nil || len(ups.Uploads) != 1 {
		t.Fatalf("uploads of %s: %d, %v", key, len(ups.Uploads), err)
	}
	for {
		parts, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: aws.String(key), UploadId: ups.Uploads[0].UploadId})
		if err != nil {
			t.Fatalf("list parts of %s: %v", key, err)
		}
		if len(parts.Parts) >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %d parts, waited for %d", key, len(parts.Parts), n)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

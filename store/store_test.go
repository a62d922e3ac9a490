package store_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/storetest"
)

// The directory store passes the contract every store passes.
func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		New: func(t *testing.T) store.Store {
			d, err := store.NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		Leftovers: func(t *testing.T, s store.Store) []string {
			var left []string
			filepath.WalkDir(s.URL(), func(p string, e fs.DirEntry, err error) error {
				if err == nil && strings.HasPrefix(e.Name(), ".tmp-") {
					left = append(left, p)
				}
				return nil
			})
			return left
		},
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
		{"s3://my-bucket/tapes/", "", ""}, // no S3 backend in Options
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

// Without an S3 backend an s3:// URL is an error that says what is missing,
// not a silent fall-back to a directory named "s3:".
func TestOpenS3WithoutBackend(t *testing.T) {
	_, _, err := store.Open(t.Context(), "s3://bucket/tapes/", store.Options{})
	if !errors.Is(err, store.ErrNoS3) || !strings.Contains(err.Error(), "s3://bucket/tapes/") {
		t.Errorf("Open(s3://…) without a backend = %v, want ErrNoS3 naming the URL", err)
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
	storetest.Put(t, d, "m/1.2.zst", []byte("whole"))
	if got := storetest.Keys(t, d, ""); !slices.Equal(got, []string{"m/1.2.zst"}) {
		t.Errorf("List = %q, want only the committed file", got)
	}
}

// Committed files are readable by others, like os.Create's, not 0600 like
// the temporary file they started as.
func TestDirFileMode(t *testing.T) {
	d, err := store.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, d, "m/1.1.zst", []byte("x"))
	info, err := os.Stat(filepath.Join(d.URL(), "m", "1.1.zst"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", info.Mode().Perm())
	}
}

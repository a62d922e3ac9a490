package tape

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/storetest"
)

// StoreLister on the test S3 server (skipped without it, failed under CI):
// prefixes list as directories, exact keys as files, hidden objects and
// catalogues below a prefix are skipped, compressed tapes decode, and Seen
// gets every object's ETag.
func TestStoreListerS3(t *testing.T) {
	st := storetest.S3(t)
	ctx := context.Background()
	put := func(key, testdata string) {
		data, err := os.ReadFile(testenv.Testdata(t, testdata))
		if err != nil {
			t.Fatal(err)
		}
		w, err := st.Create(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	put("in/1.197931750", "tapes/1.197931750")
	put("in/sub/1.205822330.bz2", "tapes/1.205822330.bz2")
	put("in/.1.197931751", "tapes/1.197931751")
	put("in/1.197931750.json", "catalogues/1.197931750.json")
	put("input2/1.197931751", "tapes/1.197931751")
	b := "s3://" + st.Bucket() + "/"

	for _, tc := range []struct {
		name, input string
		tapes       []string // keys, sorted
		err         string
	}{
		{"prefix as a directory", b + "in", []string{"in/1.197931750", "in/sub/1.205822330.bz2"}, ""},
		{"trailing slash", b + "in/", []string{"in/1.197931750", "in/sub/1.205822330.bz2"}, ""},
		{"one object", b + "input2/1.197931751", []string{"input2/1.197931751"}, ""},
		{"a catalogue named explicitly", b + "in/1.197931750.json", []string{"in/1.197931750.json"}, ""},
		{"whole bucket", b, []string{"in/1.197931750", "in/sub/1.205822330.bz2", "input2/1.197931751"}, ""},
		{"nothing there", b + "in/sub/nope", nil, "no objects under this prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var names []string
			seen := map[string]store.Object{}
			lines := map[string]int{}
			var errs []error
			w := &Walker{Workers: 2,
				Listers: map[string]Lister{"s3": &StoreLister{
					Options: store.Options{S3: storetest.Options(t)},
					Seen: func(url string, o store.Object) {
						mu.Lock()
						seen[url] = o
						mu.Unlock()
					}}},
				OnError: func(err error) error {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return nil
				}}
			err := w.ForEach(ctx, []string{tc.input}, func(ctx context.Context, tp *Tape) error {
				lr, err := tp.Lines()
				if err != nil {
					return err
				}
				defer lr.Close()
				n := 0
				for lr.Next() {
					n++
				}
				mu.Lock()
				names = append(names, strings.TrimPrefix(tp.Name, b))
				lines[tp.Name] = n
				mu.Unlock()
				return lr.Err()
			})
			if err != nil {
				t.Fatal(err)
			}
			if tc.err != "" {
				if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.err) || !errors.Is(errs[0], fs.ErrNotExist) {
					t.Fatalf("errors %v, want one matching %q and fs.ErrNotExist", errs, tc.err)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			slices.Sort(names)
			if !slices.Equal(names, tc.tapes) {
				t.Fatalf("tapes %q, want %q", names, tc.tapes)
			}
			for _, k := range tc.tapes {
				o, ok := seen[b+k]
				if !ok || o.ETag == "" || o.Size <= 0 {
					t.Errorf("Seen for %s: %+v, %v", k, o, ok)
				}
				if lines[b+k] == 0 {
					t.Errorf("%s: no lines read", k)
				}
			}
		})
	}
}

// below decides what a prefix lists, without a server.
func TestStoreListerBelow(t *testing.T) {
	for _, tc := range []struct {
		key, prefix string
		want        bool
	}{
		{"in/a", "in", true},
		{"in/a", "in/", true},
		{"in2/a", "in", false},
		{"in", "in", true},
		{"in/.hidden", "in", false},
		{"in/1.2.json", "in", false},
		{"in/1.2.json", "in/1.2.json", true},
		{"in/sub/", "in", false},
		{"a/b", "", true},
		{"a/b", "a/", true},
	} {
		if got := below(store.Object{Key: tc.key}, tc.prefix); got != tc.want {
			t.Errorf("below(%q, %q) = %v, want %v", tc.key, tc.prefix, got, tc.want)
		}
	}
}

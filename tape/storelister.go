package tape

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/tapedeck/tapedeck/store"
)

// StoreLister lists and opens inputs in an object store through package
// store: register it as Walker.Listers["s3"] to read s3://bucket/prefix
// inputs. An input names one object (s3://bucket/key) or every object below
// a prefix (s3://bucket/dir or s3://bucket/dir/, as a directory: not
// dir2/...), in key order. As in a local directory, objects below a prefix
// whose base name is hidden (".x") or a catalogue ("*.json") are skipped,
// and so are zero-size "dir/" folder markers.
type StoreLister struct {
	// Options configure the store (S3 endpoint, path style, region...).
	Options store.Options
	// Seen, when set, is called with every object handed on, by the
	// Object.Path it gets (the object's URL), before it is opened: the
	// store's ETag and modification time are what a resumable job records.
	// It may be called from several goroutines at once.
	Seen func(url string, obj store.Object)
}

// List implements Lister.
func (l *StoreLister) List(ctx context.Context, input string, fn func(Object, error) error) error {
	st, prefix, err := store.Open(ctx, input, l.Options)
	if err != nil {
		return fn(Object{Path: input, Size: -1}, err)
	}
	objs, err := st.List(ctx, prefix)
	if err != nil {
		return fn(Object{Path: input, Size: -1}, err)
	}
	root := strings.TrimSuffix(st.URL(), "/") + "/"
	n := 0
	for _, o := range objs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !below(o, prefix) {
			continue
		}
		n++
		url := root + o.Key
		if l.Seen != nil {
			l.Seen(url, o)
		}
		key := o.Key
		err := fn(Object{Path: url, Size: o.Size, Open: func(ctx context.Context) (io.ReadCloser, error) {
			return st.Open(ctx, key)
		}}, nil)
		if err != nil {
			return err
		}
	}
	if n == 0 {
		return fn(Object{Path: input, Size: -1}, fmt.Errorf("no objects under this prefix: %w", fs.ErrNotExist))
	}
	return nil
}

// below reports whether o is the object prefix names or a tape below it as
// a directory.
func below(o store.Object, prefix string) bool {
	if o.Key == prefix {
		return true
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") && !strings.HasPrefix(o.Key, prefix+"/") {
		return false
	}
	if strings.HasSuffix(o.Key, "/") {
		return false // a console-made folder marker
	}
	return !skipName(path.Base(o.Key))
}

// Sources says where a command's inputs may come from besides the local
// filesystem and standard input, which are always read.
type Sources struct {
	// Store configures s3:// inputs (endpoint, path style, region...).
	Store store.Options
	// Seen, when set, is StoreLister.Seen.
	Seen func(url string, obj store.Object)
}

// NewWalker returns the Walker every command reads its inputs with: local
// files, directories, globs, standard input and tar archives, s3:// inputs
// through a StoreLister over src, workers tapes at once (for ForEach), and
// problems with inputs handed to rules (nil: the first one stops the walk).
func NewWalker(workers int, rules *Rules, src Sources) *Walker {
	w := &Walker{Workers: workers, Listers: map[string]Lister{
		"s3": &StoreLister{Options: src.Store, Seen: src.Seen}}}
	if rules != nil {
		w.OnError, w.OnCut = rules.OnError, rules.OnCut
	}
	return w
}

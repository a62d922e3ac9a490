package tape

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Object is one thing a Lister found under an input: a file, standard input,
// or (later) an S3 object. Whether it is a tape or a tar of tapes is decided
// from its content once opened.
type Object struct {
	Path string // name shown in errors: a file path, "-", s3://bucket/key
	Size int64  // size in bytes, -1 when unknown
	// Open returns the object's raw (possibly compressed) bytes. It is called
	// at most once per listing.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// Lister is a place that lists and opens tapes: the local filesystem, and
// later an S3 bucket (Walker.Listers, keyed by URL scheme). Tar archives and
// compression are handled above it, so a Lister only has to enumerate and
// open byte streams.
type Lister interface {
	// List calls fn for each object under input, in name order. A problem
	// with the input or one part of it (does not exist, unreadable
	// directory, bad pattern) is passed to fn as err, with obj.Path naming
	// it; if fn returns nil, listing goes on with what remains. List returns
	// fn's first non-nil result, or the context's error.
	List(ctx context.Context, input string, fn func(obj Object, err error) error) error
}

// localLister lists the local filesystem: files, directories (recursively),
// globs, and "-" for standard input.
type localLister struct {
	stdin io.Reader
}

// List implements Lister for local inputs.
func (l localLister) List(ctx context.Context, input string, fn func(Object, error) error) error {
	if input == "-" {
		return fn(Object{Path: "-", Size: -1, Open: func(context.Context) (io.ReadCloser, error) {
			// Standard input belongs to the process: never close it.
			return io.NopCloser(l.stdin), nil
		}}, nil)
	}
	fi, err := os.Stat(input)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && hasGlobMeta(input) {
			return l.glob(ctx, input, fn)
		}
		return fn(Object{Path: input}, pathErr(err))
	}
	if fi.IsDir() {
		return l.dir(ctx, input, fn)
	}
	// Named explicitly: read even if hidden or *.json, and even if not a
	// regular file (a named pipe from <(...) is a fine input).
	return fn(fileObject(input, fi), nil)
}

// glob lists the matches of a pattern in name order, walking matched
// directories; hidden files and catalogues are skipped as in a directory.
func (l localLister) glob(ctx context.Context, pattern string, fn func(Object, error) error) error {
	if hasDoubleStar(pattern) {
		return l.globStar(ctx, pattern, fn)
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return fn(Object{Path: pattern}, fmt.Errorf("bad glob pattern: %w", err))
	}
	if len(matches) == 0 {
		return fn(Object{Path: pattern}, errors.New("no files match this pattern"))
	}
	for _, m := range matches {
		if err := ctx.Err(); err != nil {
			return err
		}
		if skipName(filepath.Base(m)) {
			continue
		}
		fi, err := os.Stat(m)
		if err != nil {
			if err := fn(Object{Path: m}, pathErr(err)); err != nil {
				return err
			}
			continue
		}
		if fi.IsDir() {
			err = l.dir(ctx, m, fn)
		} else {
			err = fn(fileObject(m, fi), nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// hasDoubleStar reports whether pattern has a "**" path element.
func hasDoubleStar(pattern string) bool {
	return slices.Contains(strings.Split(filepath.ToSlash(pattern), "/"), "**")
}

// globStar lists the files matching a pattern with "**" elements, which
// match any number of directories (none included), as in git and most
// shells' globstar: 'tapes/**/*.zst' finds the recorder's
// tapes/<event type>/<yyyy>/<mm>/<dd>/<event>/<market>.jsonl.zst at any
// depth. It walks the directory before the first element with glob syntax
// in name order, skipping hidden entries and catalogues as a directory walk
// does; only files are listed (a matched directory is not walked twice).
func (l localLister) globStar(ctx context.Context, pattern string, fn func(Object, error) error) error {
	parts := strings.Split(filepath.ToSlash(pattern), "/")
	for _, p := range parts {
		if _, err := path.Match(p, ""); err != nil {
			return fn(Object{Path: pattern}, fmt.Errorf("bad glob pattern: %w", err))
		}
	}
	i := slices.IndexFunc(parts, hasGlobMeta)
	root := filepath.FromSlash(strings.Join(parts[:i], "/"))
	if i == 0 {
		root = "."
	} else if root == "" {
		root = string(filepath.Separator) // the pattern is absolute: "/**/x"
	}
	pat := parts[i:]
	found := 0
	err := l.dir(ctx, root, func(obj Object, err error) error {
		rel, rerr := filepath.Rel(root, obj.Path)
		if rerr != nil {
			rel = obj.Path
		}
		if err == nil && !matchParts(pat, strings.Split(filepath.ToSlash(rel), "/")) {
			return nil
		}
		if err != nil && errors.Is(err, fs.ErrNotExist) && obj.Path == root {
			return nil // no root: nothing matches, said below
		}
		found++
		return fn(obj, err)
	})
	if err != nil {
		return err
	}
	if found == 0 {
		return fn(Object{Path: pattern}, errors.New("no files match this pattern"))
	}
	return nil
}

// matchParts matches path elements against pattern elements, "**" standing
// for any number of elements.
func matchParts(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for len(pat) > 0 && pat[0] == "**" {
				pat = pat[1:]
			}
			if len(pat) == 0 {
				return true
			}
			for k := range name {
				if matchParts(pat, name[k:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// dir walks root recursively in name order, listing regular files (and
// symlinks to them) except hidden ones and catalogue *.json files.
func (l localLister) dir(ctx context.Context, root string, fn func(Object, error) error) error {
	if fi, err := os.Lstat(root); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		// WalkDir does not follow a symlinked root; a trailing
		// separator makes it, while paths keep the name the user gave.
		root += string(filepath.Separator)
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			// An unreadable directory: report it and, if fn agrees, skip
			// it (WalkDir has already given up on its contents).
			if ferr := fn(Object{Path: p}, pathErr(err)); ferr != nil {
				return ferr
			}
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if p != root && skipName(d.Name()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		fi, err := os.Stat(p) // follows symlinks
		if err != nil {
			return fn(Object{Path: p}, pathErr(err))
		}
		if !fi.Mode().IsRegular() {
			// Symlinked directories are not followed (cycles), and
			// sockets or devices inside a tree are not tapes.
			return nil
		}
		return fn(fileObject(p, fi), nil)
	})
}

// fileObject returns the Object for a local file.
func fileObject(p string, fi fs.FileInfo) Object {
	size := int64(-1)
	if fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return Object{Path: p, Size: size, Open: func(context.Context) (io.ReadCloser, error) {
		f, err := os.Open(p)
		if err != nil {
			return nil, pathErr(err)
		}
		return f, nil
	}}
}

// skipName reports whether a directory entry or tar member is not a tape:
// hidden files (editor and OS droppings, .git) and the <market_id>.json
// catalogues that sit next to tapes.
func skipName(base string) bool {
	return strings.HasPrefix(base, ".") || strings.HasSuffix(strings.ToLower(base), ".json")
}

// hasGlobMeta reports whether s uses glob syntax.
func hasGlobMeta(s string) bool {
	return strings.ContainsAny(s, "*?[")
}

// pathErr strips the *fs.PathError wrapper, whose text repeats the path the
// InputError already names ("open x: no such file" becomes "no such file"),
// keeping the operation for context.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

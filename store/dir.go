package store

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// tmpPrefix starts the name of every file the directory store is still
// writing. List skips such files and checkKey refuses keys that would look
// like one.
const tmpPrefix = ".tmp-"

// Dir is a Store in a local directory: key "a/b/c" is the file <root>/a/b/c.
//
// A write goes to <root>/a/b/.tmp-<random>, which is fsynced, renamed to its
// final name and then has its directory fsynced, so a crash at any point
// leaves either the whole object or none under the final name (a stray temp
// file may remain; List never shows it).
//
// Unlike S3, a directory cannot hold both "a/b" and "a/b/c": creating one
// when the other exists fails.
type Dir struct {
	root string
}

// NewDir returns the directory store rooted at dir, creating dir if needed.
func NewDir(dir string) (*Dir, error) {
	if dir == "" {
		return nil, errors.New("store: empty directory path")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("store: %s: create directory: %w", abs, err)
	}
	return &Dir{root: abs}, nil
}

// URL returns the store's root directory.
func (d *Dir) URL() string { return d.root }

// path is key's file name.
func (d *Dir) path(key string) string {
	return filepath.Join(d.root, filepath.FromSlash(key))
}

// fail wraps err so it names the object and the operation.
func (d *Dir) fail(op, key string, err error) error {
	return &Error{Op: op, URL: d.root + "/" + key, Err: err}
}

// List walks the directory under prefix and returns its files in key order,
// leaving out files still being written.
func (d *Dir) List(ctx context.Context, prefix string) ([]Object, error) {
	// Walk only the deepest directory the prefix names in full: for
	// "2026/11/2" that is <root>/2026/11, whose names are filtered by "2".
	start := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = prefix[:i]
		if err := CheckKey(start); err != nil {
			return nil, d.fail("list", prefix, err)
		}
	}
	var out []Object
	err := filepath.WalkDir(d.path(start), func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == d.path(start) {
				return fs.SkipAll // nothing under that prefix
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.HasPrefix(e.Name(), tmpPrefix) || !e.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted while we walked
		}
		if err != nil {
			return err
		}
		out = append(out, Object{Key: key, Size: info.Size(), ModTime: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, d.fail("list", prefix, err)
	}
	// WalkDir's per-directory order is not key order across levels: "a/b"
	// is walked before "a.x" but sorts after it ('.' < '/').
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Stat describes key's file.
func (d *Dir) Stat(ctx context.Context, key string) (Object, error) {
	if err := CheckKey(key); err != nil {
		return Object{}, d.fail("stat", key, err)
	}
	info, err := os.Stat(d.path(key))
	if err != nil {
		// ENOTDIR: a prefix of the key is a file ("a/b" exists, "a/b/c"
		// asked for), so the key cannot exist either.
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			err = notExist{err}
		}
		return Object{}, d.fail("stat", key, err)
	}
	if !info.Mode().IsRegular() {
		return Object{}, d.fail("stat", key, notExist{errors.New("not a regular file")})
	}
	return Object{Key: key, Size: info.Size(), ModTime: info.ModTime()}, nil
}

// Exists reports whether key's file exists.
func (d *Dir) Exists(ctx context.Context, key string) (bool, error) {
	_, err := d.Stat(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Open opens key's file for reading.
func (d *Dir) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if _, err := d.Stat(ctx, key); err != nil {
		return nil, err
	}
	f, err := os.Open(d.path(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = notExist{err}
		}
		return nil, d.fail("open", key, err)
	}
	return f, nil
}

// Delete removes key's file; a missing file is not an error.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return d.fail("delete", key, err)
	}
	if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return d.fail("delete", key, err)
	}
	return nil
}

// Verify checks key's file has want's size and CRC32C (it reads the whole
// file).
func (d *Dir) Verify(ctx context.Context, key string, want Digest) error {
	obj, err := d.Stat(ctx, key)
	if err != nil {
		return err
	}
	if obj.Size != want.Size {
		return d.fail("verify", key, fmt.Errorf("%w: size %d, want %d", ErrIncomplete, obj.Size, want.Size))
	}
	f, err := os.Open(d.path(key))
	if err != nil {
		return d.fail("verify", key, err)
	}
	defer f.Close()
	got, err := DigestOf(f)
	if err != nil {
		return d.fail("verify", key, err)
	}
	if got != want {
		return d.fail("verify", key, fmt.Errorf("%w: %s, want %s", ErrIncomplete, got, want))
	}
	return nil
}

// Create starts writing key into a temporary file beside its final name.
func (d *Dir) Create(ctx context.Context, key string) (Writer, error) {
	if err := CheckKey(key); err != nil {
		return nil, d.fail("create", key, err)
	}
	final := d.path(key)
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, d.fail("create", key, err)
	}
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return nil, d.fail("create", key, err)
	}
	return &dirWriter{ctx: ctx, d: d, key: key, final: final, f: f, crc: crc32.New(castagnoli)}, nil
}

// dirWriter writes one object of a Dir store.
type dirWriter struct {
	ctx   context.Context
	d     *Dir
	key   string
	final string
	f     *os.File // nil once closed or aborted
	crc   hash.Hash32
	n     int64
	err   error // first write error; Close fails with it
}

// Write appends p to the temporary file.
func (w *dirWriter) Write(p []byte) (int, error) {
	if w.f == nil {
		return 0, w.d.fail("write", w.key, errors.New("writer already closed"))
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.f.Write(p)
	w.crc.Write(p[:n])
	w.n += int64(n)
	if err != nil {
		w.err = w.d.fail("write", w.key, err)
		return n, w.err
	}
	return n, nil
}

// Digest is the size and CRC32C of what was written.
func (w *dirWriter) Digest() Digest { return Digest{Size: w.n, CRC32C: w.crc.Sum32()} }

// Close makes the file durable and moves it to its final name.
func (w *dirWriter) Close() error {
	if w.f == nil {
		return nil
	}
	f := w.f
	w.f = nil
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return w.d.fail("commit", w.key, err)
	}
	if w.err != nil {
		f.Close()
		os.Remove(tmp)
		return w.err // already names the key
	}
	if err := w.ctx.Err(); err != nil {
		return fail(err)
	}
	// CreateTemp makes the file 0600; a tape or dataset is for whoever can
	// read the directory, like a file written with os.Create.
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	// The data must be on disk before the rename is, or a crash could
	// leave the final name pointing at a short file.
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	info, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if info.Size() != w.n {
		return fail(fmt.Errorf("%w: temporary file has %d bytes, wrote %d", ErrIncomplete, info.Size(), w.n))
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return w.d.fail("commit", w.key, err)
	}
	if err := os.Rename(tmp, w.final); err != nil {
		os.Remove(tmp)
		return w.d.fail("commit", w.key, err)
	}
	// The rename itself is durable only once the directory is synced.
	if err := syncDir(filepath.Dir(w.final)); err != nil {
		return w.d.fail("commit", w.key, err)
	}
	return nil
}

// Abort removes the temporary file.
func (w *dirWriter) Abort() error {
	if w.f == nil {
		return nil
	}
	f := w.f
	w.f = nil
	f.Close()
	if err := os.Remove(f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return w.d.fail("abort", w.key, err)
	}
	return nil
}

// syncDir fsyncs a directory so renames and creations in it survive a crash.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// LockName is the file at a prefix's root that writers of a local dataset
// flock (shared while they write, exclusive to clean up). It starts with
// the temporary prefix so that List never shows it; RemoveTemporary keeps
// it.
const LockName = tmpPrefix + "lock"

// RemoveTemporary removes the temporary files under prefix that writers
// stopped by SIGKILL or a crash left behind (List never shows them) and
// returns how many it removed. A live writer's temporary file would go
// too: call it only when no other writer uses the prefix.
func (d *Dir) RemoveTemporary(prefix string) (int, error) {
	n := 0
	root := d.path(prefix)
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), tmpPrefix) && e.Name() != LockName {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("store: %s: removing temporary files: %w", root, err)
	}
	return n, nil
}

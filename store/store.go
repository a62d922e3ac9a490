// Package store is where tapes and datasets live: a local directory (the
// default) or a bucket of a remote object store. Both sit behind one small
// interface so the recorder, the converters and the backtester never care
// which one they have.
//
// This package holds the interface, the directory backend and Open; the S3
// backend is package store/s3, which a program hands to Open through
// Options.S3, so that only programs that ask for S3 link the AWS SDK.
//
// Writes are all-or-nothing in both: an object appears under its final key only
// when its Writer's Close has succeeded, and Close returns only once the stored
// object has been checked to be whole (size, and CRC32C where the backend
// reports it). A recorder may therefore delete its spool file as soon as Close
// returns nil.
package store

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Store is a flat namespace of objects addressed by slash-separated keys,
// such as "2026/11/28/1.234567890.zst".
type Store interface {
	// List returns every committed object whose key starts with prefix, in
	// key order. The prefix is a plain string prefix, not a directory: "a/b"
	// matches "a/b/c" and "a/bc".
	List(ctx context.Context, prefix string) ([]Object, error)
	// Stat describes one object. A missing key gives an error that matches
	// errors.Is(err, fs.ErrNotExist).
	Stat(ctx context.Context, key string) (Object, error)
	// Exists reports whether key names a committed object.
	Exists(ctx context.Context, key string) (bool, error)
	// Open streams one object's content. A missing key gives an error that
	// matches errors.Is(err, fs.ErrNotExist).
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Create starts writing key. Nothing is visible under key until the
	// Writer's Close succeeds; an object already there is replaced then.
	// ctx bounds every call the Writer makes, including Close.
	Create(ctx context.Context, key string) (Writer, error)
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Verify checks that the stored object under key is whole: its size is
	// want.Size and, where the backend can tell, its CRC32C is want.CRC32C.
	// It is for checking an object written earlier (for example after a
	// restart, before deleting the spool file it came from); Writer.Close
	// already does this for the object it writes.
	Verify(ctx context.Context, key string, want Digest) error
	// URL names the store's root ("/var/tapes", "s3://bucket"); errors use it.
	URL() string
}

// Writer writes one object. Exactly one of Close or Abort should be called;
// calling either again after that is a no-op that returns nil.
type Writer interface {
	io.Writer
	// Close commits the object and returns only when the store has confirmed
	// it holds all of it (see Digest). If Close fails nothing is left under
	// the key by this Writer (an earlier object under it stays as it was).
	Close() error
	// Abort discards everything written; nothing appears under the key.
	Abort() error
	// Digest is the size and CRC32C of everything written so far; after a
	// successful Close it is what the stored object was verified against.
	Digest() Digest
}

// Object describes one committed object.
type Object struct {
	// Key is the object's key relative to the store's root.
	Key string
	// Size is the object's length in bytes.
	Size int64
	// ModTime is when the object was last written.
	ModTime time.Time
	// ETag is the backend's entity tag (S3's ETag, without quotes); empty
	// for the local directory store, which has none.
	ETag string
}

// Digest is what a whole object is checked against: its length and the
// CRC32C (Castagnoli) of its content.
type Digest struct {
	// Size is the object's length in bytes.
	Size int64
	// CRC32C is the Castagnoli CRC-32 of the object's bytes.
	CRC32C uint32
}

// castagnoli is the CRC32C table; crc32.MakeTable caches it, so this is a
// constant in all but name.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// DigestOf reads r to the end and returns its Digest, for checking a stored
// object against the file it was made from.
func DigestOf(r io.Reader) (Digest, error) {
	h := crc32.New(castagnoli)
	n, err := io.Copy(h, r)
	if err != nil {
		return Digest{}, err
	}
	return Digest{Size: n, CRC32C: h.Sum32()}, nil
}

// String prints the digest the way S3 does: size and base64 big-endian CRC32C.
func (d Digest) String() string {
	return fmt.Sprintf("size %d crc32c %s", d.Size, Base64CRC32C(d.CRC32C))
}

// Base64CRC32C encodes a CRC32C as S3's x-amz-checksum-crc32c header does
// (base64 of the big-endian bytes), for backends and messages that show one.
func Base64CRC32C(c uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], c)
	return base64.StdEncoding.EncodeToString(b[:])
}

// ErrIncomplete is matched (errors.Is) by a verification failure: the stored
// object is not the one that was written.
var ErrIncomplete = errors.New("stored object does not match what was written")

// Error is every error this package returns from a store operation: it names
// the object (store URL and key) and the operation. It never carries
// credentials.
type Error struct {
	// Op is the operation, such as "create", "upload part 3", "verify".
	Op string
	// URL is the object's full address ("s3://bucket/key", "/dir/key").
	URL string
	// Err is the cause.
	Err error
}

// Error formats as "store: <url>: <op>: <cause>".
func (e *Error) Error() string {
	return "store: " + e.URL + ": " + e.Op + ": " + e.Err.Error()
}

// Unwrap returns the cause, so errors.Is(err, fs.ErrNotExist) works.
func (e *Error) Unwrap() error { return e.Err }

// BucketOpener opens the store for one bucket of a remote object store.
// store/s3's Options is one; this package holds none itself, so that a
// program links a cloud SDK only when it asks for one.
type BucketOpener interface {
	// OpenBucket returns the store for bucket. It need make no request, so
	// a wrong bucket or missing credentials may show only on first use.
	OpenBucket(ctx context.Context, bucket string) (Store, error)
}

// Options configures the stores Open makes. The zero value opens local
// directories and refuses s3:// URLs.
type Options struct {
	// S3 opens s3:// URLs: an s3.Options from package store/s3 (whose zero
	// value is AWS S3 with the standard credential chain). Nil makes an
	// s3:// URL an error that says so.
	S3 BucketOpener
}

// ErrNoS3 is matched (errors.Is) by Open's error for an s3:// URL when
// Options.S3 is nil: the program was not given the S3 backend.
var ErrNoS3 = errors.New("no S3 backend in this program (set store.Options.S3 to an s3.Options from package store/s3)")

// Open makes the store a URL names and returns it with the key prefix the URL
// points at inside it:
//
//	/var/tapes, ./tapes, file:///var/tapes  -> directory store at that path, prefix ""
//	s3://bucket/some/prefix/                -> opt.S3's store for bucket, prefix "some/prefix/"
//
// The local directory is created if missing. The prefix is returned exactly
// as written after the bucket (a trailing slash is kept), so callers can both
// List(prefix) and build keys as path.Join(prefix, name).
func Open(ctx context.Context, rawURL string, opt Options) (Store, string, error) {
	switch {
	case strings.HasPrefix(rawURL, "s3://"):
		// Split by hand rather than with url.Parse: like the AWS CLI, the
		// prefix is taken literally, so '%', '#' and '?' in keys stay
		// what they are.
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(rawURL, "s3://"), "/")
		if bucket == "" {
			return nil, "", fmt.Errorf("store: %s: no bucket in S3 URL (want s3://bucket/prefix)", rawURL)
		}
		if opt.S3 == nil {
			return nil, "", fmt.Errorf("store: %s: %w", rawURL, ErrNoS3)
		}
		s, err := opt.S3.OpenBucket(ctx, bucket)
		if err != nil {
			return nil, "", err
		}
		return s, prefix, nil
	case strings.HasPrefix(rawURL, "file://"):
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, "", fmt.Errorf("store: %s: %w", rawURL, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, "", fmt.Errorf("store: %s: file URL names host %q; only local paths are supported", rawURL, u.Host)
		}
		d, err := NewDir(filepath.FromSlash(u.Path))
		return d, "", err
	case strings.Contains(rawURL, "://"):
		return nil, "", fmt.Errorf("store: %s: unsupported scheme (want a path, file:// or s3://)", rawURL)
	default:
		d, err := NewDir(rawURL)
		return d, "", err
	}
}

// CheckKey rejects keys that cannot name an object in both backends the same
// way: empty, absolute, with empty, "." or ".." segments, with a backslash
// (which would be a separator on Windows but not in S3), or with a segment
// that looks like one of the directory store's temporary files. Every backend
// checks its keys with it.
func CheckKey(key string) error {
	if key == "" {
		return errors.New("empty key")
	}
	if strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") {
		return fmt.Errorf("key %q must not start or end with /", key)
	}
	if strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("key %q contains a backslash or NUL", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("key %q has an empty, . or .. segment", key)
		}
		if strings.HasPrefix(seg, tmpPrefix) {
			// The directory store's in-progress files use this prefix and
			// List hides them; a real object must never be hidden.
			return fmt.Errorf("key %q has a segment starting with %q, reserved for files being written", key, tmpPrefix)
		}
	}
	if path.Clean(key) != key {
		return fmt.Errorf("key %q is not clean", key)
	}
	return nil
}

// NotExist wraps a backend's not-found error so that errors.Is(err,
// fs.ErrNotExist) holds for every store while the backend's own error stays
// reachable through errors.As.
func NotExist(err error) error { return notExist{err} }

// notExist is NotExist's error.
type notExist struct{ err error }

// Error is the backend's message.
func (e notExist) Error() string { return e.err.Error() }

// Unwrap keeps the backend's error reachable (errors.As to an SDK type).
func (e notExist) Unwrap() error { return e.err }

// Is makes errors.Is(err, fs.ErrNotExist) true.
func (e notExist) Is(target error) bool { return target == fs.ErrNotExist }

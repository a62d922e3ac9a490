// Package s3 is the S3 backend of package store: a store.Store in one bucket
// of AWS S3 or an S3-compatible server (MinIO, versitygw, Ceph, R2).
//
// It is a package of its own so that only the programs that ask for S3 link
// the AWS SDK: the commands (and tradecli) pass an Options as
// store.Options.S3, and store.Open then opens s3:// URLs with it. A user's
// strategy binary built on the engine alone links none of it.
package s3

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/tapedeck/tapedeck/store"
)

const (
	// DefaultPartSize is the multipart part size when Options.PartSize is
	// zero: large enough that a day's tape needs few requests, small enough
	// that a Writer holds little memory.
	DefaultPartSize = 8 << 20
	// MinPartSize is S3's smallest allowed part (all but the last).
	MinPartSize = 5 << 20
	// DefaultConcurrency is how many parts a Writer uploads at once when
	// Options.Concurrency is zero: enough to keep writing while a part
	// is on the wire, without holding much memory.
	DefaultConcurrency = 2
	// DefaultRegion is used when neither the options nor the AWS
	// configuration name one; S3-compatible servers usually accept it.
	DefaultRegion = "us-east-1"
	// cleanupTimeout bounds the AbortMultipartUpload sent after a failure,
	// which must run even when the caller's context is what failed.
	cleanupTimeout = 30 * time.Second
)

// Options configures an S3 store. Credentials always come from the AWS SDK's
// standard chain (environment, shared config and credentials files, SSO, web
// identity, container and instance roles); this package never handles them.
type Options struct {
	// Endpoint is the base URL of an S3-compatible server, such as
	// "http://127.0.0.1:7070" (the --s3-endpoint flag). Empty means AWS,
	// or whatever AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL say.
	Endpoint string
	// PathStyle addresses buckets as <endpoint>/<bucket>/<key> rather than
	// <bucket>.<endpoint>/<key>; most self-hosted servers need it.
	PathStyle bool
	// Region overrides the configured region. When neither names one,
	// DefaultRegion is used.
	Region string
	// MaxAttempts is how many times a request is tried before a transient
	// error (throttling, 5xx, connection reset) is returned; the SDK's
	// standard retryer backs off exponentially with jitter between tries.
	// Zero keeps the SDK's default (3, or AWS_MAX_ATTEMPTS).
	MaxAttempts int
	// PartSize is the multipart part size in bytes; objects no larger than
	// one part are sent with a single PutObject. Zero means
	// DefaultPartSize; less than MinPartSize is an error.
	PartSize int64
	// Logger receives the AWS SDK's own log lines (retries, skipped
	// checksum validation), each at the slog level matching the SDK's
	// classification, so they show only at the level the user chose. Nil
	// means slog.Default(). It is not a flag: commands pass their logger.
	Logger *slog.Logger
	// Concurrency is how many parts of one object upload at once while
	// its Writer fills the next; a Writer holds up to Concurrency+1 parts
	// in memory. Zero means DefaultConcurrency.
	Concurrency int
}

// Store is a store.Store in one S3 bucket; keys are object keys.
//
// A store.Writer holds up to Concurrency+1 parts in memory. An object that fits in
// one part is sent with PutObject at Close; a larger one is streamed as a
// multipart upload (a few parts on the wire at once while the next fills)
// that becomes visible only when CompleteMultipartUpload succeeds at Close.
// Every part and the whole object carry a CRC32C that the server checks, and
// Close then reads the object's size and checksum back before returning. A
// failed Close or an Abort aborts the multipart upload. A process that dies
// mid-write leaves an incomplete upload, which is never visible as an object
// (AbortIncomplete, or a bucket lifecycle rule, removes its parts).
//
// S3 cannot tell a missing bucket from a missing key on HeadObject, so Stat,
// Exists and Verify report a missing bucket as a missing key; List and Open
// name it.
type Store struct {
	client      *awss3.Client
	bucket      string
	partSize    int64
	concurrency int
}

// New returns the store for bucket. It loads the AWS configuration but makes
// no request, so a wrong bucket or missing credentials show on first use.
func New(ctx context.Context, bucket string, opt Options) (*Store, error) {
	where := "s3://" + bucket
	if bucket == "" {
		return nil, errors.New("store: s3: empty bucket name")
	}
	partSize := opt.PartSize
	if partSize == 0 {
		partSize = DefaultPartSize
	}
	if partSize < MinPartSize {
		return nil, fmt.Errorf("store: %s: part size %d is below S3's minimum %d", where, partSize, MinPartSize)
	}
	concurrency := opt.Concurrency
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	var loads []func(*config.LoadOptions) error
	if opt.Region != "" {
		loads = append(loads, config.WithRegion(opt.Region))
	}
	if opt.MaxAttempts > 0 {
		loads = append(loads, config.WithRetryMaxAttempts(opt.MaxAttempts))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: load AWS configuration: %w", where, err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	// The SDK's default logger writes straight to stderr, whatever level
	// the user asked for (reading a multipart object printed "SDK … DEBUG
	// Response has no supported checksum" lines); route it through slog.
	cfg.Logger = sdkLogger{log: opt.Logger}
	client := awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		if opt.Endpoint != "" {
			o.BaseEndpoint = aws.String(opt.Endpoint)
		}
		o.UsePathStyle = opt.PathStyle
	})
	return &Store{client: client, bucket: bucket, partSize: partSize, concurrency: concurrency}, nil
}

// OpenBucket makes the store for bucket with these options; it is how
// store.Open reaches this package (Options is a store.BucketOpener).
func (o Options) OpenBucket(ctx context.Context, bucket string) (store.Store, error) {
	s, err := New(ctx, bucket, o)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// WithLogger returns the options with Logger set, for commands that make
// their logger after their flags are parsed.
func (o Options) WithLogger(log *slog.Logger) Options {
	o.Logger = log
	return o
}

// castagnoli is the CRC32C table; crc32.MakeTable caches it, so this is a
// constant in all but name.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Client is the SDK client the store uses, for what the Store interface does
// not cover (creating buckets in tests, lifecycle rules).
func (s *Store) Client() *awss3.Client { return s.client }

// Bucket is the store's bucket.
func (s *Store) Bucket() string { return s.bucket }

// URL is "s3://<bucket>".
func (s *Store) URL() string { return "s3://" + s.bucket }

// fail wraps err so it names the object and the operation.
func (s *Store) fail(op, key string, err error) error {
	if isNotFound(err) {
		err = store.NotExist(err)
	}
	return &store.Error{Op: op, URL: "s3://" + s.bucket + "/" + key, Err: err}
}

// isNotFound reports whether err is S3 saying the key is missing: GetObject
// answers NoSuchKey, HeadObject (which has no body) a bare NotFound.
func isNotFound(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return true
		}
	}
	return false
}

// List pages through ListObjectsV2; S3 returns keys in UTF-8 binary order,
// which is key order.
func (s *Store) List(ctx context.Context, prefix string) ([]store.Object, error) {
	var out []store.Object
	p := awss3.NewListObjectsV2Paginator(s.client, &awss3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.fail("list", prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, store.Object{
				Key:     aws.ToString(o.Key),
				Size:    aws.ToInt64(o.Size),
				ModTime: aws.ToTime(o.LastModified),
				ETag:    strings.Trim(aws.ToString(o.ETag), `"`),
			})
		}
	}
	return out, nil
}

// head is HeadObject with checksums requested.
func (s *Store) head(ctx context.Context, key string) (*awss3.HeadObjectOutput, error) {
	return s.client.HeadObject(ctx, &awss3.HeadObjectInput{
		Bucket:       aws.String(s.bucket),
		Key:          aws.String(key),
		ChecksumMode: types.ChecksumModeEnabled,
	})
}

// Stat describes key with HeadObject.
func (s *Store) Stat(ctx context.Context, key string) (store.Object, error) {
	if err := store.CheckKey(key); err != nil {
		return store.Object{}, s.fail("stat", key, err)
	}
	h, err := s.head(ctx, key)
	if err != nil {
		return store.Object{}, s.fail("stat", key, err)
	}
	return store.Object{
		Key:     key,
		Size:    aws.ToInt64(h.ContentLength),
		ModTime: aws.ToTime(h.LastModified),
		ETag:    strings.Trim(aws.ToString(h.ETag), `"`),
	}, nil
}

// Exists reports whether key exists, with HeadObject.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	_, err := s.Stat(ctx, key)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// Open streams key with GetObject. The SDK checks the object's checksum as
// the body is read, where the server stored a whole-object one.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := store.CheckKey(key); err != nil {
		return nil, s.fail("open", key, err)
	}
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(key),
	})
	if err != nil {
		return nil, s.fail("open", key, err)
	}
	return &s3Reader{body: out.Body, s: s, key: key}, nil
}

// s3Reader names the object in errors met while streaming it.
type s3Reader struct {
	body io.ReadCloser
	s    *Store
	key  string
}

// Read reads the object's body.
func (r *s3Reader) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	if err != nil && err != io.EOF {
		err = r.s.fail("read", r.key, err)
	}
	return n, err
}

// Close closes the response body.
func (r *s3Reader) Close() error { return r.body.Close() }

// Delete removes key with DeleteObject; S3 does not mind a missing key.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := store.CheckKey(key); err != nil {
		return s.fail("delete", key, err)
	}
	_, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(key),
	})
	if err != nil {
		return s.fail("delete", key, err)
	}
	return nil
}

// Verify reads key's size and stored checksum with HeadObject and compares
// them with want. The CRC32C is compared when the server reports a
// whole-object CRC32C (what this package's store.Writer stores); an object stored
// with a per-part (composite) or other checksum is checked by size only.
func (s *Store) Verify(ctx context.Context, key string, want store.Digest) error {
	if err := store.CheckKey(key); err != nil {
		return s.fail("verify", key, err)
	}
	h, err := s.head(ctx, key)
	if err != nil {
		return s.fail("verify", key, err)
	}
	if err := checkHead(h, want, nil); err != nil {
		return s.fail("verify", key, err)
	}
	return nil
}

// checkHead compares a HeadObject answer with what was written. partSums are
// the raw per-part CRC32Cs of a multipart upload, so that a server which
// stored a composite checksum (CRC32C of the part CRC32Cs, "-N" appended)
// can be checked too; nil when unknown.
func checkHead(h *awss3.HeadObjectOutput, want store.Digest, partSums []uint32) error {
	if got := aws.ToInt64(h.ContentLength); got != want.Size {
		return fmt.Errorf("%w: size %d, want %d", store.ErrIncomplete, got, want.Size)
	}
	stored := aws.ToString(h.ChecksumCRC32C)
	if stored == "" {
		return nil // the server keeps no CRC32C: size is all we can check
	}
	base, _, dashed := strings.Cut(stored, "-")
	composite := ""
	if partSums != nil {
		composite, _, _ = strings.Cut(compositeCRC(partSums), "-")
	}
	switch {
	case base == store.Base64CRC32C(want.CRC32C):
		return nil
	case partSums != nil && base == composite:
		// Some servers store a composite checksum even when asked for a
		// whole-object one, and not all of them mark it with "-N".
		return nil
	case partSums == nil && (dashed || h.ChecksumType == types.ChecksumTypeComposite):
		return nil // a composite checksum we cannot recompute: size only
	}
	return fmt.Errorf("%w: crc32c %s, want %s", store.ErrIncomplete, stored, store.Base64CRC32C(want.CRC32C))
}

// compositeCRC is S3's composite checksum of a multipart upload: the CRC32C
// of the concatenated big-endian part CRC32Cs, base64, then "-<parts>".
func compositeCRC(parts []uint32) string {
	buf := make([]byte, 4*len(parts))
	for i, c := range parts {
		binary.BigEndian.PutUint32(buf[4*i:], c)
	}
	return fmt.Sprintf("%s-%d", store.Base64CRC32C(crc32.Checksum(buf, castagnoli)), len(parts))
}

// AbortIncomplete aborts the multipart uploads under prefix that were started
// before olderThan ago: what writers that died before Close left behind.
// Their parts are invisible but stored (and billed) until aborted. It returns
// how many it aborted. A live writer's upload younger than olderThan is
// left alone.
func (s *Store) AbortIncomplete(ctx context.Context, prefix string, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	aborted := 0
	in := &awss3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)}
	for {
		out, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return aborted, s.fail("list multipart uploads", prefix, err)
		}
		for _, u := range out.Uploads {
			if !aws.ToTime(u.Initiated).Before(cutoff) {
				continue
			}
			_, err := s.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
				Bucket:   aws.String(s.bucket),
				Key:      u.Key,
				UploadId: u.UploadId,
			})
			if err != nil && !isNoSuchUpload(err) {
				return aborted, s.fail("abort multipart upload", aws.ToString(u.Key), err)
			}
			aborted++
		}
		if !aws.ToBool(out.IsTruncated) {
			return aborted, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// isNoSuchUpload reports an upload that is already gone (completed or
// aborted by someone else meanwhile).
func isNoSuchUpload(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "NoSuchUpload"
}

// Store satisfies store.Store, and Options opens it for store.Open.
var (
	_ store.Store        = (*Store)(nil)
	_ store.BucketOpener = Options{}
)

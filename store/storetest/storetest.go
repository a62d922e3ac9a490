// Package storetest holds what tests of stores share: the contract every
// store.Store must pass (Run), and an S3 store on the test S3 server that
// scripts/test.sh starts (scripts/s3server.sh), each in a fresh bucket that is
// emptied and removed when the test ends.
//
// When TAPEDECK_TEST_S3_ENDPOINT is unset the calling test is skipped with a
// message saying to run scripts/test.sh; when CI is also set it fails
// instead, so CI can never pass by skipping the S3 tests.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/s3"
)

// EnvEndpoint is the environment variable holding the test S3 server's URL.
const EnvEndpoint = "TAPEDECK_TEST_S3_ENDPOINT"

// Endpoint returns the test S3 server's URL, or skips t (fails it under CI)
// when there is none.
func Endpoint(t testing.TB) string {
	t.Helper()
	ep := os.Getenv(EnvEndpoint)
	if ep == "" {
		msg := EnvEndpoint + " is not set: run scripts/test.sh (or `source scripts/s3server.sh` first) to test against a real S3 server"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set, so this is a failure, not a skip)")
		}
		t.Skip(msg)
	}
	return ep
}

// Options returns S3 options for the test server: its endpoint, path-style
// addressing, and the smallest part size S3 allows, so multipart uploads
// happen at a few MiB. Credentials come from the environment the server
// script exported.
func Options(t testing.TB) s3.Options {
	t.Helper()
	return s3.Options{
		Endpoint:  Endpoint(t),
		PathStyle: true,
		PartSize:  s3.MinPartSize,
	}
}

// S3 returns a store on the test server in a new, empty bucket that is
// removed (with everything in it) when the test ends.
func S3(t testing.TB) *s3.Store {
	t.Helper()
	return S3With(t, Options(t))
}

// S3With is S3 with the caller's options; an empty Endpoint is filled in with
// the test server's, and PathStyle is always on.
func S3With(t testing.TB, opt s3.Options) *s3.Store {
	t.Helper()
	if opt.Endpoint == "" {
		opt.Endpoint = Endpoint(t)
	}
	opt.PathStyle = true
	bucket := NewBucketName(t)
	s, err := s3.New(context.Background(), bucket, opt)
	if err != nil {
		t.Fatal(err)
	}
	CreateBucket(t, s.Client(), bucket)
	return s
}

// URL returns an s3:// URL in a new bucket on the test server, and the
// store.Options (with the S3 backend) to pass with it to store.Open.
func URL(t testing.TB, prefix string) (string, store.Options) {
	t.Helper()
	s := S3(t)
	return "s3://" + s.Bucket() + "/" + prefix, store.Options{S3: Options(t)}
}

// NewBucketName returns a random, valid bucket name.
func NewBucketName(t testing.TB) string {
	t.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "tapedeck-test-" + hex.EncodeToString(b[:])
}

// CreateBucket creates bucket with client and registers its removal (objects,
// unfinished multipart uploads, then the bucket) for the end of the test.
func CreateBucket(t testing.TB, client *awss3.Client, bucket string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := client.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("storetest: create bucket %s: %v", bucket, err)
	}
	t.Cleanup(func() {
		// The test's context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := removeBucket(ctx, client, bucket); err != nil {
			t.Errorf("storetest: remove bucket %s: %v", bucket, err)
		}
	})
}

// removeBucket empties bucket and deletes it.
func removeBucket(ctx context.Context, client *awss3.Client, bucket string) error {
	ups, err := client.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		return err
	}
	for _, u := range ups.Uploads {
		if _, err := client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
			Bucket: aws.String(bucket), Key: u.Key, UploadId: u.UploadId,
		}); err != nil {
			return err
		}
	}
	p := awss3.NewListObjectsV2Paginator(client, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			if _, err := client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key}); err != nil {
				return err
			}
		}
	}
	_, err = client.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String(bucket)})
	var nsb *types.NoSuchBucket
	var ae smithy.APIError
	if errors.As(err, &nsb) || (errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket") {
		return nil
	}
	return err
}

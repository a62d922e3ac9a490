package s3_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/s3"
	"github.com/tapedeck/tapedeck/store/storetest"
)

// The S3 store passes the contract every store passes, on the test server.
func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		New: func(t *testing.T) store.Store { return storetest.S3(t) },
		Leftovers: func(t *testing.T, s store.Store) []string {
			if n := openUploads(t, s.(*s3.Store)); n != 0 {
				return []string{fmt.Sprintf("%d unfinished multipart uploads", n)}
			}
			return nil
		},
		AfterUnclosed: func(t *testing.T, st store.Store, key string) {
			s := st.(*s3.Store)
			// The data did reach the server, as an unfinished upload...
			if n := openUploads(t, s); n != 1 {
				t.Fatalf("%d unfinished multipart uploads, want 1", n)
			}
			// ...once its first part, which the writer sends in the
			// background, has landed: a process that died would send
			// nothing more.
			waitForParts(t, s, key, 1)
			// ...which a young cutoff leaves alone and AbortIncomplete
			// then clears.
			if n, err := s.AbortIncomplete(t.Context(), "", 1<<40); err != nil || n != 0 {
				t.Errorf("AbortIncomplete(olderThan huge) = %d, %v; want 0", n, err)
			}
			dir := key[:strings.LastIndex(key, "/")+1]
			if n, err := s.AbortIncomplete(t.Context(), dir, 0); err != nil || n != 1 {
				t.Errorf("AbortIncomplete = %d, %v; want 1", n, err)
			}
			if n := openUploads(t, s); n != 0 {
				t.Errorf("%d uploads left after AbortIncomplete", n)
			}
		},
		CheckMultipart: func(t *testing.T, obj store.Object, parts int) {
			if !strings.HasSuffix(obj.ETag, fmt.Sprintf("-%d", parts)) {
				t.Errorf("ETag %q: want a %d-part multipart ETag", obj.ETag, parts)
			}
		},
	})
}

// The same flow through store.Open with an s3:// URL, as the commands use it.
func TestOpenS3URL(t *testing.T) {
	u, opt := storetest.URL(t, "tapes/")
	s, prefix, err := store.Open(t.Context(), u, opt)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, s, prefix+"1.1.zst", []byte("x"))
	if got := storetest.Keys(t, s, prefix); len(got) != 1 || got[0] != "tapes/1.1.zst" {
		t.Errorf("List = %q", got)
	}
}

// store.Open splits an s3:// URL into bucket and prefix and opens the bucket
// with the S3 options it is given; no request is made.
func TestOpenURL(t *testing.T) {
	cases := []struct {
		url        string
		wantURL    string // the store's URL(); "" means an error is expected
		wantPrefix string
	}{
		{"s3://my-bucket", "s3://my-bucket", ""},
		{"s3://my-bucket/", "s3://my-bucket", ""},
		{"s3://my-bucket/tapes/2026/", "s3://my-bucket", "tapes/2026/"},
		{"s3://my-bucket/a b/100%/#1?x", "s3://my-bucket", "a b/100%/#1?x"},
		{"s3:///tapes", "", ""},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			s, prefix, err := store.Open(t.Context(), c.url, store.Options{S3: s3.Options{Region: s3.DefaultRegion}})
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
			if _, ok := s.(*s3.Store); !ok || s.URL() != c.wantURL || prefix != c.wantPrefix {
				t.Errorf("Open(%q) = %T %s, %q; want *s3.Store %s, %q", c.url, s, s.URL(), prefix, c.wantURL, c.wantPrefix)
			}
		})
	}
}

// openUploads counts s's unfinished multipart uploads.
func openUploads(t *testing.T, s *s3.Store) int {
	t.Helper()
	out, err := s.Client().ListMultipartUploads(t.Context(), &awss3.ListMultipartUploadsInput{Bucket: aws.String(s.Bucket())})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

// waitForParts waits until the one unfinished upload of key holds n parts,
// for tests that must not race a Writer's background part uploads.
func waitForParts(t *testing.T, s *s3.Store, key string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c, bucket := s.Client(), aws.String(s.Bucket())
	ups, err := c.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: bucket, Prefix: aws.String(key)})
	if err != nil || len(ups.Uploads) != 1 {
		t.Fatalf("uploads of %s: %d, %v", key, len(ups.Uploads), err)
	}
	for {
		parts, err := c.ListParts(ctx, &awss3.ListPartsInput{Bucket: bucket, Key: aws.String(key), UploadId: ups.Uploads[0].UploadId})
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

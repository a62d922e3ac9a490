package s3_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/s3"
	"github.com/tapedeck/tapedeck/store/storetest"
)

// faultProxy sits between an S3 store and the test server (on 127.0.0.1) and
// injects failures: fail, when it returns a status, answers a request with
// that S3 error instead of forwarding it; tamper edits responses.
type faultProxy struct {
	mu     sync.Mutex
	fail   func(r *http.Request, seen int) (status int, code string)
	tamper func(r *http.Response)
	seen   map[string]int // requests per kind, counted before fail is asked
}

// kind names an S3 operation from its method and query.
func kind(r *http.Request) string {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPut && q.Has("partNumber"):
		return "UploadPart"
	case r.Method == http.MethodPut:
		return "PutObject"
	case r.Method == http.MethodPost && q.Has("uploads"):
		return "CreateMultipartUpload"
	case r.Method == http.MethodPost && q.Has("uploadId"):
		return "CompleteMultipartUpload"
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		return "AbortMultipartUpload"
	}
	return r.Method
}

// through starts the proxy and returns a store for bucket that talks to the
// test server only through it.
func (p *faultProxy) through(t *testing.T, bucket string, opt s3.Options) *s3.Store {
	t.Helper()
	target, err := url.Parse(storetest.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	p.seen = map[string]int{}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0) // cancelled requests are expected here
	rp.ModifyResponse = func(r *http.Response) error {
		if p.tamper != nil {
			p.tamper(r)
		}
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		k := kind(r)
		p.seen[k]++
		status, code := 0, ""
		if p.fail != nil {
			status, code = p.fail(r, p.seen[k])
		}
		p.mu.Unlock()
		if status != 0 {
			// Read the body first, as S3 does: replying mid-upload would
			// reset the connection, which the SDK rightly retries.
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			w.Write([]byte("<Error><Code>" + code + "</Code><Message>injected by the test</Message></Error>"))
			return
		}
		// The request was signed for the proxy's host; forwarding it
		// unchanged (Host included) keeps the signature valid.
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	opt.Endpoint = srv.URL
	opt.PathStyle = true
	if opt.PartSize == 0 {
		opt.PartSize = s3.MinPartSize
	}
	s, err := s3.New(t.Context(), bucket, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// count is how many requests of kind k reached the proxy.
func (p *faultProxy) count(k string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[k]
}

func TestS3RetriesTransientErrors(t *testing.T) {
	cases := []struct {
		name        string
		size        int    // bytes written
		op          string // the request kind that fails
		failures    int    // how many times it fails before succeeding
		maxAttempts int
		wantOK      bool
		wantTries   int // requests of kind op that reached the proxy
	}{
		{"put recovers", 100, "PutObject", 2, 3, true, 3},
		{"put gives up", 100, "PutObject", 5, 2, false, 2},
		{"part recovers", s3.MinPartSize + 100, "UploadPart", 1, 3, true, 3}, // 1 failure + 2 parts
		{"complete recovers", s3.MinPartSize + 100, "CompleteMultipartUpload", 1, 2, true, 2},
		{"complete gives up", s3.MinPartSize + 100, "CompleteMultipartUpload", 3, 3, false, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			direct := storetest.S3(t)
			p := &faultProxy{fail: func(r *http.Request, seen int) (int, string) {
				if kind(r) == c.op && seen <= c.failures {
					return http.StatusServiceUnavailable, "SlowDown"
				}
				return 0, ""
			}}
			s := p.through(t, direct.Bucket(), s3.Options{MaxAttempts: c.maxAttempts})
			w, err := s.Create(t.Context(), "retry/1.5.zst")
			if err != nil {
				t.Fatal(err)
			}
			data := storetest.Payload(c.size)
			_, werr := w.Write(data)
			err = errors.Join(werr, w.Close())
			if got := p.count(c.op); got != c.wantTries {
				t.Errorf("%s reached the server %d times, want %d", c.op, got, c.wantTries)
			}
			if c.wantOK {
				if err != nil {
					t.Fatalf("Close after transient errors: %v", err)
				}
				if got := storetest.Read(t, direct, "retry/1.5.zst"); string(got) != string(data) {
					t.Errorf("stored %d bytes, want the %d written", len(got), len(data))
				}
				return
			}
			if err == nil {
				t.Fatal("Close succeeded though every attempt failed")
			}
			if !strings.Contains(err.Error(), "s3://"+direct.Bucket()+"/retry/1.5.zst") {
				t.Errorf("error %q does not name the object", err)
			}
			if ok, _ := direct.Exists(t.Context(), "retry/1.5.zst"); ok {
				t.Error("an object appeared though Close failed")
			}
			if n := openUploads(t, direct); n != 0 {
				t.Errorf("%d multipart uploads left after a failed Close", n)
			}
		})
	}
}

// Close reads the stored object back (HeadObject) and fails if its size or
// checksum is not what was written; it then removes the bad object. The
// proxy makes the server appear to have stored something else.
func TestS3CloseVerifiesStoredObject(t *testing.T) {
	cases := []struct {
		name   string
		size   int
		tamper func(h http.Header)
	}{
		{"size", 100, func(h http.Header) { h.Set("Content-Length", "99") }},
		{"checksum", 100, func(h http.Header) { h.Set("X-Amz-Checksum-Crc32c", "AAAAAA==") }},
		{"multipart size", s3.MinPartSize + 1, func(h http.Header) { h.Set("Content-Length", "5") }},
		{"multipart checksum", s3.MinPartSize + 1, func(h http.Header) { h.Set("X-Amz-Checksum-Crc32c", "AAAAAA==") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			direct := storetest.S3(t)
			p := &faultProxy{tamper: func(r *http.Response) {
				if r.Request.Method == http.MethodHead {
					c.tamper(r.Header)
				}
			}}
			s := p.through(t, direct.Bucket(), s3.Options{})
			w, err := s.Create(t.Context(), "v/1.6.zst")
			if err != nil {
				t.Fatal(err)
			}
			storetest.WriteChunks(t, w, storetest.Payload(c.size))
			err = w.Close()
			if !errors.Is(err, store.ErrIncomplete) {
				t.Fatalf("Close = %v, want ErrIncomplete", err)
			}
			if !strings.Contains(err.Error(), "v/1.6.zst") {
				t.Errorf("error %q does not name the key", err)
			}
			if ok, err := direct.Exists(t.Context(), "v/1.6.zst"); err != nil || ok {
				t.Errorf("object still there after failed verification: %v, %v", ok, err)
			}
		})
	}
}

// A request the server refuses for good (not retried) fails the write and
// aborts the multipart upload, leaving neither object nor parts.
func TestS3PermanentFailureAbortsUpload(t *testing.T) {
	cases := []struct {
		name string
		op   string
	}{
		{"create multipart upload", "CreateMultipartUpload"},
		{"second part", "UploadPart"},
		{"complete", "CompleteMultipartUpload"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			direct := storetest.S3(t)
			p := &faultProxy{fail: func(r *http.Request, seen int) (int, string) {
				if kind(r) == c.op && (c.op != "UploadPart" || seen == 2) {
					return http.StatusBadRequest, "InvalidRequest"
				}
				return 0, ""
			}}
			s := p.through(t, direct.Bucket(), s3.Options{})
			w, err := s.Create(t.Context(), "p/1.7.zst")
			if err != nil {
				t.Fatal(err)
			}
			_, werr := w.Write(storetest.Payload(2*s3.MinPartSize + 1))
			err = errors.Join(werr, w.Close())
			if err == nil {
				t.Fatal("no error though the server refused a request")
			}
			if !strings.Contains(err.Error(), "p/1.7.zst") || !strings.Contains(err.Error(), "InvalidRequest") {
				t.Errorf("error %q does not name the key and the cause", err)
			}
			if c.op != "CreateMultipartUpload" && p.count("AbortMultipartUpload") != 1 {
				t.Errorf("AbortMultipartUpload sent %d times, want 1", p.count("AbortMultipartUpload"))
			}
			if ok, _ := direct.Exists(t.Context(), "p/1.7.zst"); ok {
				t.Error("an object appeared though the write failed")
			}
			if n := openUploads(t, direct); n != 0 {
				t.Errorf("%d multipart uploads left", n)
			}
		})
	}
}

// Wrong credentials give an error that names the object and the server's
// reason, but holds neither the secret nor the access key id.
func TestS3ErrorsCarryNoCredentials(t *testing.T) {
	direct := storetest.S3(t)
	const secret = "tapedeck-test-not-the-secret-0123456789abcdef"
	accessKey := os.Getenv("AWS_ACCESS_KEY_ID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	s, err := s3.New(t.Context(), direct.Bucket(), storetest.Options(t))
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Create(t.Context(), "c/1.8.zst")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("x"))
	_, serr := s.Stat(t.Context(), "c/1.8.zst")
	_, lerr := s.List(t.Context(), "c/")
	for _, err := range []error{w.Close(), serr, lerr} {
		if err == nil {
			t.Fatal("no error with a wrong secret")
		}
		if errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a refused request reads as not found: %v", err)
		}
		msg := err.Error()
		if strings.Contains(msg, secret) || (accessKey != "" && strings.Contains(msg, accessKey)) {
			t.Errorf("error leaks credentials: %q", msg)
		}
		if !strings.Contains(msg, "s3://"+direct.Bucket()+"/c/") {
			t.Errorf("error %q does not name the object", msg)
		}
	}
}

// flipByte corrupts one byte of a response body in transit.
type flipByte struct {
	body interface {
		Read([]byte) (int, error)
		Close() error
	}
	at, off int
}

func (f *flipByte) Read(p []byte) (int, error) {
	n, err := f.body.Read(p)
	if f.at >= f.off && f.at < f.off+n {
		p[f.at-f.off] ^= 0x40
	}
	f.off += n
	return n, err
}

func (f *flipByte) Close() error { return f.body.Close() }

// Reading an object whose bytes were damaged on the way fails instead of
// returning the damaged bytes: the stored whole-object CRC32C is checked as
// the body streams.
func TestS3OpenDetectsCorruption(t *testing.T) {
	cases := []struct {
		name string
		size int
	}{
		{"single part", 1000},
		{"multipart", s3.MinPartSize + 1000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			direct := storetest.S3(t)
			data := storetest.Payload(c.size)
			storetest.Put(t, direct, "g/1.9.zst", data)
			p := &faultProxy{tamper: func(r *http.Response) {
				if r.Request.Method == http.MethodGet {
					r.Body = &flipByte{body: r.Body, at: c.size / 2}
				}
			}}
			s := p.through(t, direct.Bucket(), s3.Options{})
			r, err := s.Open(t.Context(), "g/1.9.zst")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, err := io.ReadAll(r)
			if err == nil {
				t.Fatalf("read %d damaged bytes without an error (equal to what was written: %v)", len(got), bytes.Equal(got, data))
			}
			if !strings.Contains(err.Error(), "g/1.9.zst") {
				t.Errorf("error %q does not name the key", err)
			}
		})
	}
}

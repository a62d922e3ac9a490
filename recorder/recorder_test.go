package recorder

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/storetest"
)

// readLines returns a tape's lines (without their newlines).
func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".bz2") {
		r = bzip2.NewReader(f)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if l = bytes.TrimRight(l, "\r"); len(l) > 0 {
			lines = append(lines, l)
		}
	}
	return lines
}

// clock is a test clock the recorder reads through Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestRecorder(t testing.TB, spool string, st store.Store, clk *clock, mod func(*Config)) *Recorder {
	t.Helper()
	cfg := Config{Spool: spool, Store: st, Now: clk.Now, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, Attempts: 1}
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// feed hands lines to the recorder as the stream client would, advancing the
// clock a millisecond per line.
func feed(t testing.TB, r *Recorder, clk *clock, lines [][]byte) {
	t.Helper()
	dec := esa.NewDecoder()
	var m esa.Message
	for i, l := range lines {
		m.Reset()
		if err := dec.Decode(l, &m); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if err := r.Handle(context.Background(), l, &m); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Millisecond)
	}
}

// changes returns, per market, the raw market changes of lines in order.
func changes(t testing.TB, lines [][]byte) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	dec := esa.NewDecoder()
	var m esa.Message
	for i, l := range lines {
		m.Reset()
		if err := dec.Decode(l, &m); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		for _, mc := range m.MC {
			out[string(mc.ID)] = append(out[string(mc.ID)], string(mc.Raw))
		}
		for _, oc := range m.OC {
			out[string(oc.ID)+".orders"] = append(out[string(oc.ID)+".orders"], string(oc.Raw))
		}
	}
	return out
}

func decompress(t testing.TB, key string, b []byte) []byte {
	t.Helper()
	var r io.Reader = bytes.NewReader(b)
	var err error
	switch {
	case strings.HasSuffix(key, ".zst"):
		var d *zstd.Decoder
		d, err = zstd.NewReader(r)
		if err == nil {
			defer d.Close()
			r = d
		}
	case strings.HasSuffix(key, ".gz"):
		r, err = gzip.NewReader(r)
	}
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return out
}

func getObject(t testing.TB, st store.Store, key string) []byte {
	t.Helper()
	rc, err := st.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// spoolFiles lists the tapes in a spool directory.
func spoolFiles(t testing.TB, spool, dir string) []string {
	t.Helper()
	ents, _ := os.ReadDir(filepath.Join(spool, dir))
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".jsonl") {
			names = append(names, e.Name())
		}
	}
	return names
}

var realTapes = []string{"1.197931750", "1.197931751", "BASIC-1.132153978", "1.205822330.bz2", "1.164917629.bz2"}

// TestRecordRealTapes feeds real tapes through the recorder and checks the
// stored tapes carry the same market changes, byte for byte, line for line,
// with a catalogue beside each, in the default layout.
func TestRecordRealTapes(t *testing.T) {
	for _, compress := range []string{"zstd", "gzip", "none"} {
		t.Run(compress, func(t *testing.T) {
			spool, dest := t.TempDir(), t.TempDir()
			st, err := store.NewDir(dest)
			if err != nil {
				t.Fatal(err)
			}
			clk := &clock{t: time.Unix(1650392673, 0)}
			r := newTestRecorder(t, spool, st, clk, func(c *Config) { c.Compress = compress; c.Prefix = "rec" })
			want := map[string][]string{}
			for _, name := range realTapes {
				lines := readLines(t, testenv.Testdata(t, "tapes/"+name))
				feed(t, r, clk, lines)
				for k, v := range changes(t, lines) {
					want[k] = append(want[k], v...)
				}
			}
			clk.Add(DefaultMarketExpiry)
			if err := r.Tick(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n, err := r.UploadClosed(context.Background()); err != nil || n != len(want) {
				t.Fatalf("uploaded %d of %d: %v", n, len(want), err)
			}
			if ents, _ := os.ReadDir(filepath.Join(spool, "closed")); len(ents) != 0 {
				t.Errorf("closed/ still holds %d files", len(ents))
			}
			if got := spoolFiles(t, spool, "open"); len(got) != 0 {
				t.Errorf("open/ still holds %v", got)
			}
			objs, err := st.List(context.Background(), "rec/")
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, o := range objs {
				if strings.HasSuffix(o.Key, ".json") {
					continue
				}
				lines := bytes.Split(bytes.TrimSuffix(decompress(t, o.Key, getObject(t, st, o.Key)), []byte("\n")), []byte("\n"))
				got := changes(t, lines)
				if len(got) != 1 {
					t.Fatalf("%s holds %d markets", o.Key, len(got))
				}
				for id, g := range got {
					seen[id] = true
					if strings.Join(g, "\n") != strings.Join(want[id], "\n") {
						t.Errorf("%s: %d changes differ from the source's %d", o.Key, len(g), len(want[id]))
					}
					if ok, _ := st.Exists(context.Background(), strings.TrimSuffix(o.Key, filepath.Base(o.Key))+id+".json"); !ok {
						t.Errorf("%s: no catalogue beside it", o.Key)
					}
				}
			}
			if len(seen) != len(want) {
				t.Errorf("stored %d markets, want %d", len(seen), len(want))
			}
			suffix := map[string]string{"zstd": ".jsonl.zst", "gzip": ".jsonl.gz", "none": ".jsonl"}[compress]
			if ok, _ := st.Exists(context.Background(), "rec/4339/2022/04/19/31389771/1.197931750"+suffix); !ok {
				t.Errorf("no tape at the default layout's key; have %v", objs)
			}
		})
	}
}

// TestLinesAsSourceLines checks a recorded line is the source line itself
// where the source is one market per line in the tape format.
func TestLinesAsSourceLines(t *testing.T) {
	spool := t.TempDir()
	st, _ := store.NewDir(t.TempDir())
	clk := &clock{t: time.Unix(1650392673, 0)}
	r := newTestRecorder(t, spool, st, clk, nil)
	src := readLines(t, testenv.Testdata(t, "tapes/1.197931750"))
	feed(t, r, clk, src[:100])
	if err := r.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := readLines(t, filepath.Join(spool, "open", "1.197931750.jsonl"))
	if len(got) != 100 {
		t.Fatalf("%d lines, want 100", len(got))
	}
	for i := range got {
		if !bytes.Equal(got[i], src[i]) {
			t.Fatalf("line %d:\n got %.200s\nwant %.200s", i+1, got[i], src[i])
		}
	}
}

// TestCloseAfterGrace: a tape closes CloseGrace after its definition says
// CLOSED, not before; later changes for it are counted, not written.
func TestCloseAfterGrace(t *testing.T) {
	spool := t.TempDir()
	st, _ := store.NewDir(t.TempDir())
	clk := &clock{t: time.Unix(1650392673, 0)}
	r := newTestRecorder(t, spool, st, clk, func(c *Config) { c.CloseGrace = 10 * time.Second })
	lines := readLines(t, testenv.Testdata(t, "tapes/1.197931750"))
	closedAt := -1
	for i, l := range lines {
		if bytes.Contains(l, []byte(`"status":"CLOSED"`)) {
			closedAt = i
			break
		}
	}
	if closedAt < 0 {
		t.Fatal("no CLOSED definition in the tape")
	}
	feed(t, r, clk, lines[:closedAt+1])
	clk.Add(10*time.Second - 2*time.Millisecond)
	if err := r.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := spoolFiles(t, spool, "closed"); len(got) != 0 {
		t.Fatalf("closed before the grace ended: %v", got)
	}
	clk.Add(time.Millisecond)
	if err := r.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := spoolFiles(t, spool, "closed"); len(got) != 1 || got[0] != "1.197931750.jsonl" {
		t.Fatalf("closed/ = %v after the grace", got)
	}
	feed(t, r, clk, lines[closedAt+1:])
	if n := r.Metrics().Late.Load(); n != int64(len(lines)-closedAt-1) {
		t.Errorf("late changes = %d, want %d", n, len(lines)-closedAt-1)
	}
	if got := spoolFiles(t, spool, "open"); len(got) != 0 {
		t.Errorf("a closed market got a new tape: %v", got)
	}
}

// TestExpiry: a tape with no change for MarketExpiry closes.
func TestExpiry(t *testing.T) {
	spool := t.TempDir()
	st, _ := store.NewDir(t.TempDir())
	clk := &clock{t: time.Unix(1650392673, 0)}
	r := newTestRecorder(t, spool, st, clk, func(c *Config) { c.MarketExpiry = time.Hour })
	feed(t, r, clk, readLines(t, testenv.Testdata(t, "tapes/1.197931750"))[:20])
	clk.Add(time.Hour - time.Second)
	r.Tick(context.Background())
	if got := spoolFiles(t, spool, "open"); len(got) != 1 {
		t.Fatalf("open/ = %v before expiry", got)
	}
	clk.Add(time.Second)
	r.Tick(context.Background())
	if got := spoolFiles(t, spool, "closed"); len(got) != 1 {
		t.Fatalf("closed/ = %v after expiry", got)
	}
	if n, err := r.UploadClosed(context.Background()); n != 1 || err != nil {
		t.Fatalf("upload: %d, %v", n, err)
	}
}

// TestRestartResumes: a recorder stopped (or killed, leaving half a line)
// and started again appends to the same tape.
func TestRestartResumes(t *testing.T) {
	for _, killed := range []bool{false, true} {
		t.Run(fmt.Sprint("killed=", killed), func(t *testing.T) {
			spool := t.TempDir()
			st, _ := store.NewDir(t.TempDir())
			clk := &clock{t: time.Unix(1650392673, 0)}
			lines := readLines(t, testenv.Testdata(t, "tapes/1.197931750"))
			r := newTestRecorder(t, spool, st, clk, nil)
			feed(t, r, clk, lines[:60])
			path := filepath.Join(spool, "open", "1.197931750.jsonl")
			if killed {
				// What SIGKILL leaves: the last sync's lines and half of a
				// line written after it.
				r.Tick(context.Background())
				f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
				f.Write(lines[60][:50])
				f.Close()
				r.unlock() // the kernel drops a killed process's flock
			} else if err := r.Shutdown(); err != nil {
				t.Fatal(err)
			}
			r2 := newTestRecorder(t, spool, st, clk, nil)
			feed(t, r2, clk, lines[60:])
			clk.Add(time.Minute)
			if err := r2.Tick(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n, err := r2.UploadClosed(context.Background()); n != 1 || err != nil {
				t.Fatalf("upload: %d, %v", n, err)
			}
			b := decompress(t, ".zst", getObject(t, st, "4339/2022/04/19/31389771/1.197931750.jsonl.zst"))
			if want := append(bytes.Join(lines, []byte("\n")), '\n'); !bytes.Equal(b, want) {
				t.Errorf("resumed tape differs from the source (%d vs %d bytes)", len(b), len(want))
			}
		})
	}
}

// enospcFile accepts up to room bytes, writing part of a write that does not
// fit and then failing with ENOSPC, as a full disk does.
type enospcFile struct {
	*os.File
	room *int64
}

func (f enospcFile) Write(p []byte) (int, error) {
	if int64(len(p)) <= *f.room {
		*f.room -= int64(len(p))
		return f.File.Write(p)
	}
	n, _ := f.File.Write(p[:*f.room])
	*f.room = 0
	return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

// TestDiskFull: a write that fails part-way leaves whole lines only, and the
// error says the disk is full.
func TestDiskFull(t *testing.T) {
	spool := t.TempDir()
	st, _ := store.NewDir(t.TempDir())
	clk := &clock{t: time.Unix(1650392673, 0)}
	room := int64(50_000)
	r := newTestRecorder(t, spool, st, clk, func(c *Config) {
		c.OpenFile = func(p string) (File, error) {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
			return enospcFile{f, &room}, err
		}
	})
	lines := readLines(t, testenv.Testdata(t, "tapes/1.197931750"))
	dec := esa.NewDecoder()
	var m esa.Message
	var err error
	for _, l := range lines {
		m.Reset()
		dec.Decode(l, &m)
		if err = r.Handle(context.Background(), l, &m); err == nil {
			err = r.Tick(context.Background())
		}
		if err != nil {
			break
		}
	}
	var se *SpoolError
	if !errors.As(err, &se) || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "disk is full") || !strings.Contains(err.Error(), "1.197931750") {
		t.Fatalf("err = %v, want a SpoolError saying the disk is full", err)
	}
	got, _ := os.ReadFile(filepath.Join(spool, "open", "1.197931750.jsonl"))
	if len(got) == 0 || got[len(got)-1] != '\n' {
		t.Fatalf("tape of %d bytes does not end with a whole line", len(got))
	}
	want := append(bytes.Join(lines, []byte("\n")), '\n')
	if !bytes.HasPrefix(want, got) {
		t.Error("tape is not a prefix of the source's lines")
	}
	if err := r.Handle(context.Background(), lines[0], &m); err == nil {
		t.Error("Handle accepted lines after the spool failed")
	}
}

// flakyStore fails every Create or Close until fails reaches zero, checking
// meanwhile that the tape has not left the spool.
type flakyStore struct {
	store.Store
	mu    sync.Mutex
	fails int
	check func()
}

type flakyWriter struct {
	store.Writer
	s *flakyStore
}

func (s *flakyStore) Create(ctx context.Context, key string) (store.Writer, error) {
	w, err := s.Store.Create(ctx, key)
	if err != nil {
		return nil, err
	}
	return flakyWriter{w, s}, nil
}

func (w flakyWriter) Close() error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if w.s.check != nil {
		w.s.check()
	}
	if w.s.fails > 0 {
		w.s.fails--
		w.Writer.Abort()
		return errors.New("503 Slow Down (injected)")
	}
	return w.Writer.Close()
}

// TestUploadRetries: a store that refuses for a while, then recovers, gets
// every tape; nothing leaves the spool before it is stored.
func TestUploadRetries(t *testing.T) {
	spool := t.TempDir()
	dir, _ := store.NewDir(t.TempDir())
	fs := &flakyStore{Store: dir, fails: 7}
	fs.check = func() {
		if len(spoolFiles(t, spool, "closed")) == 0 {
			t.Error("the spool was emptied before the store held the tapes")
		}
	}
	clk := &clock{t: time.Unix(1650392673, 0)}
	r := newTestRecorder(t, spool, fs, clk, func(c *Config) { c.Attempts = 0 })
	for _, name := range realTapes[:3] {
		feed(t, r, clk, readLines(t, testenv.Testdata(t, "tapes/"+name)))
	}
	clk.Add(DefaultMarketExpiry)
	r.Tick(context.Background())
	n, err := r.UploadClosed(context.Background())
	if n != 3 || err != nil {
		t.Fatalf("uploaded %d, %v", n, err)
	}
	if f := r.Metrics().UploadFailures.Load(); f != 7 {
		t.Errorf("upload failures = %d, want 7", f)
	}
	if got := spoolFiles(t, spool, "closed"); len(got) != 0 {
		t.Errorf("closed/ = %v", got)
	}
	objs, _ := dir.List(context.Background(), "")
	if len(objs) != 6 {
		t.Errorf("%d objects, want 3 tapes and 3 catalogues", len(objs))
	}
}

// TestUploadS3 records real tapes to the S3 test server.
func TestUploadS3(t *testing.T) {
	s3 := storetest.S3(t)
	spool := t.TempDir()
	clk := &clock{t: time.Unix(1650392673, 0)}
	r := newTestRecorder(t, spool, s3, clk, func(c *Config) { c.Prefix = "tapes" })
	lines := readLines(t, testenv.Testdata(t, "tapes/1.205822330.bz2"))
	feed(t, r, clk, lines)
	clk.Add(DefaultMarketExpiry)
	r.Tick(context.Background())
	if n, err := r.UploadClosed(context.Background()); n != 1 || err != nil {
		t.Fatalf("upload: %d, %v", n, err)
	}
	objs, err := s3.List(context.Background(), "tapes/")
	if err != nil || len(objs) != 2 {
		t.Fatalf("objects %v, %v", objs, err)
	}
	for _, o := range objs {
		if strings.HasSuffix(o.Key, ".zst") {
			got := decompress(t, o.Key, getObject(t, s3, o.Key))
			if want := append(bytes.Join(lines, []byte("\n")), '\n'); !bytes.Equal(got, want) {
				t.Errorf("%s differs from the source", o.Key)
			}
		}
	}
	if got := spoolFiles(t, spool, "closed"); len(got) != 0 {
		t.Errorf("closed/ = %v", got)
	}
}

// TestCatalogueFetched: a fetched catalogue is stored as received.
func TestCatalogueFetched(t *testing.T) {
	cat, err := os.ReadFile(testenv.Testdata(t, "catalogues/1.197931750.json"))
	if err != nil {
		t.Fatal(err)
	}
	spool := t.TempDir()
	st, _ := store.NewDir(t.TempDir())
	clk := &clock{t: time.Unix(1650392673, 0)}
	var asked []string
	r := newTestRecorder(t, spool, st, clk, func(c *Config) {
		c.Catalogue = func(_ context.Context, ids []string) (map[string][]byte, error) {
			asked = append(asked, ids...)
			return map[string][]byte{"1.197931750": cat}, nil
		}
	})
	lines := readLines(t, testenv.Testdata(t, "tapes/1.197931750"))
	feed(t, r, clk, lines[:5])
	r.FetchCatalogues(context.Background())
	feed(t, r, clk, lines[5:])
	clk.Add(time.Hour)
	r.Tick(context.Background())
	if _, err := r.UploadClosed(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := getObject(t, st, "4339/2022/04/19/31389771/1.197931750.json"); !bytes.Equal(got, cat) {
		t.Errorf("catalogue = %.100s", got)
	}
	if len(asked) != 1 {
		t.Errorf("asked for %v", asked)
	}
}

func TestOrders(t *testing.T) {
	spool := t.TempDir()
	st, _ := store.NewDir(t.TempDir())
	clk := &clock{t: time.Unix(1650392673, 0)}
	r := newTestRecorder(t, spool, st, clk, func(c *Config) { c.Orders = true })
	lines := readLines(t, testenv.Testdata(t, "tapes/ORDER-1.177596575"))
	feed(t, r, clk, lines)
	// The order stream says "closed": the tape closes after the grace.
	clk.Add(DefaultCloseGrace)
	if err := r.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := spoolFiles(t, spool, "closed"); len(got) != 1 || !strings.HasSuffix(got[0], ".orders.jsonl") {
		t.Fatalf("closed/ = %v", got)
	}
	if n, err := r.UploadClosed(context.Background()); err != nil || n == 0 {
		t.Fatalf("upload %d: %v", n, err)
	}
	objs, _ := st.List(context.Background(), "orders/")
	if len(objs) == 0 {
		t.Fatal("no order tape stored")
	}
	want := changes(t, lines)
	for _, o := range objs {
		got := changes(t, bytes.Split(bytes.TrimSpace(decompress(t, o.Key, getObject(t, st, o.Key))), []byte("\n")))
		for k, v := range got {
			if strings.Join(v, "\n") != strings.Join(want[k], "\n") {
				t.Errorf("%s: order changes differ", o.Key)
			}
		}
	}
}

func TestExpandLayout(t *testing.T) {
	info := TapeInfo{MarketID: "1.2", EventTypeID: "7", EventID: "99", MarketType: "WIN", CountryCode: "GB", Date: time.Date(2026, 1, 2, 23, 30, 0, 0, time.UTC)}
	for _, tc := range []struct{ layout, want string }{
		{DefaultLayout, "7/2026/01/02/99/1.2.jsonl.zst"},
		{"{country_code}/{market_type}/{market_id}", "GB/WIN/1.2"},
		{"{event_id}/{market_id}", "99/1.2"},
	} {
		if got := Expand(tc.layout, info); got != tc.want {
			t.Errorf("Expand(%q) = %q, want %q", tc.layout, got, tc.want)
		}
	}
	if got := Expand("{event_id}/{market_id}", TapeInfo{MarketID: "1.3"}); got != "unknown/1.3" {
		t.Errorf("missing values: %q", got)
	}
	for _, bad := range []string{"{venue}/x", "{market_id"} {
		if CheckLayout(bad) == nil {
			t.Errorf("CheckLayout(%q) accepted it", bad)
		}
	}
}

// The recorder's counters as a Prometheus server reads them: the exposition
// parsed by Prometheus' own parser (expfmt), every metric of today's names
// with its type and value, and the process and Go runtime collectors beside
// them.
func TestMetricsText(t *testing.T) {
	spool := t.TempDir()
	st, _ := store.NewDir(t.TempDir())
	clk := &clock{t: time.UnixMilli(1650392673420 + 1500)}
	r := newTestRecorder(t, spool, st, clk, nil)
	r.Metrics().Reconnects = func() int64 { return 3 }
	feed(t, r, clk, readLines(t, testenv.Testdata(t, "tapes/1.197931750"))[:10])
	var b bytes.Buffer
	if _, err := r.Metrics().WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	families := parseExposition(t, &b)
	cases := []struct {
		name string
		typ  dto.MetricType
		want float64 // -1: any value
	}{
		{"tapedeck_record_messages_total", dto.MetricType_COUNTER, 10},
		{"tapedeck_record_bytes_total", dto.MetricType_COUNTER, -1},
		{"tapedeck_record_market_changes_total", dto.MetricType_COUNTER, -1},
		{"tapedeck_record_markets_open", dto.MetricType_GAUGE, 1},
		{"tapedeck_record_spool_bytes", dto.MetricType_GAUGE, -1},
		{"tapedeck_record_reconnects_total", dto.MetricType_COUNTER, 3},
		{"tapedeck_record_status_503_total", dto.MetricType_COUNTER, 0},
		{"tapedeck_record_conflated_total", dto.MetricType_COUNTER, 0},
		{"tapedeck_record_late_changes_total", dto.MetricType_COUNTER, 0},
		{"tapedeck_record_uploads_total", dto.MetricType_COUNTER, 0},
		{"tapedeck_record_upload_failures_total", dto.MetricType_COUNTER, 0},
		{"go_goroutines", dto.MetricType_GAUGE, -1},
	}
	if runtime.GOOS == "linux" {
		cases = append(cases, struct {
			name string
			typ  dto.MetricType
			want float64
		}{"process_cpu_seconds_total", dto.MetricType_COUNTER, -1})
	}
	for _, c := range cases {
		f, ok := families[c.name]
		if !ok {
			t.Errorf("no %s in the exposition", c.name)
			continue
		}
		if f.GetType() != c.typ || len(f.Metric) != 1 {
			t.Errorf("%s: type %v with %d series, want %v with one", c.name, f.GetType(), len(f.Metric), c.typ)
			continue
		}
		m := f.Metric[0]
		v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
		if c.want >= 0 && v != c.want {
			t.Errorf("%s = %v, want %v", c.name, v, c.want)
		}
	}
	h := families["tapedeck_record_latency_seconds"]
	if h.GetType() != dto.MetricType_HISTOGRAM || h.Metric[0].GetHistogram().GetSampleCount() != 10 {
		t.Errorf("latency histogram: %v", h)
	}
}

// parseExposition reads Prometheus' text format as a Prometheus server would,
// failing the test on anything it would reject.
func parseExposition(t *testing.T, r io.Reader) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("the exposition does not parse: %v", err)
	}
	return families
}

// TestNeverReplaceStored: a second recording of a market already stored
// (an earlier run whose spool is gone) goes beside it, not over it; and a
// retried upload rewrites its own object rather than adding a part.
func TestNeverReplaceStored(t *testing.T) {
	dir, _ := store.NewDir(t.TempDir())
	lines := readLines(t, testenv.Testdata(t, "tapes/1.197931750"))
	const key = "4339/2022/04/19/31389771/1.197931750.jsonl.zst"
	for run, st := range []store.Store{dir, &catalogueFails{Store: dir, fails: 2}} {
		spool := t.TempDir()
		clk := &clock{t: time.Unix(1650392673, 0)}
		r := newTestRecorder(t, spool, st, clk, func(c *Config) { c.Attempts = 5 })
		feed(t, r, clk, lines[:50+run*10])
		r.CloseAll()
		if n, err := r.UploadClosed(context.Background()); n != 1 || err != nil {
			t.Fatalf("run %d: uploaded %d, %v", run, n, err)
		}
	}
	objs, _ := dir.List(context.Background(), "")
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	want := []string{"4339/2022/04/19/31389771/1.197931750.json", key, "4339/2022/04/19/31389771/1.197931750.part2.jsonl.zst"}
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Fatalf("stored %v, want %v", keys, want)
	}
	if n := len(bytes.Split(bytes.TrimSpace(decompress(t, key, getObject(t, dir, key))), []byte("\n"))); n != 50 {
		t.Errorf("the first recording has %d lines, want 50", n)
	}
}

// catalogueFails fails the first catalogue writes, after the tape itself
// was stored.
type catalogueFails struct {
	store.Store
	fails int
}

func (s *catalogueFails) Create(ctx context.Context, key string) (store.Writer, error) {
	if strings.HasSuffix(key, ".json") && s.fails > 0 {
		s.fails--
		return nil, errors.New("injected failure")
	}
	return s.Store.Create(ctx, key)
}

// outageProxy stands in front of the S3 server and answers 503 to every
// request while down is set, as an S3 outage looks to a client.
type outageProxy struct {
	mu      sync.Mutex
	down    bool
	refused int
	next    http.Handler
}

func (p *outageProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	down := p.down
	if down {
		p.refused++
	}
	p.mu.Unlock()
	if down {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>injected outage</Message></Error>`)
		return
	}
	p.next.ServeHTTP(w, r)
}

func (p *outageProxy) set(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
}

// TestS3Outage: S3 answers 503 to everything for a while; the recorder keeps
// the tapes in the spool and retries, and once S3 is back every tape arrives
// whole and only then leaves the spool.
func TestS3Outage(t *testing.T) {
	target, err := url.Parse(storetest.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := &outageProxy{next: httputil.NewSingleHostReverseProxy(target)}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close) // after the bucket's removal, which goes through it
	opt := storetest.Options(t)
	opt.Endpoint, opt.MaxAttempts = srv.URL, 1
	s3 := storetest.S3With(t, opt)
	spool := t.TempDir()
	clk := &clock{t: time.Unix(1650392673, 0)}
	r := newTestRecorder(t, spool, s3, clk, func(c *Config) { c.Attempts = 0; c.MinBackoff, c.MaxBackoff = 5*time.Millisecond, 20*time.Millisecond })
	var want [][]byte
	for _, name := range realTapes[:3] {
		lines := readLines(t, testenv.Testdata(t, "tapes/"+name))
		want = append(want, lines...)
		feed(t, r, clk, lines)
	}
	proxy.set(true)
	r.CloseAll()
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := r.UploadClosed(context.Background())
		done <- result{n, err}
	}()
	// Let the uploader fail a good many times, checking the spool keeps
	// every tape meanwhile.
	for {
		proxy.mu.Lock()
		refused := proxy.refused
		proxy.mu.Unlock()
		if got := spoolFiles(t, spool, "closed"); len(got) != 3 {
			t.Fatalf("closed/ = %v during the outage", got)
		}
		if refused >= 20 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	proxy.set(false)
	res := <-done
	if res.n != 3 || res.err != nil {
		t.Fatalf("uploaded %d: %v", res.n, res.err)
	}
	if f := r.Metrics().UploadFailures.Load(); f < 5 {
		t.Errorf("upload failures = %d, want several", f)
	}
	objs, err := s3.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for _, o := range objs {
		if strings.HasSuffix(o.Key, ".zst") {
			got = append(got, bytes.Split(bytes.TrimSpace(decompress(t, o.Key, getObject(t, s3, o.Key))), []byte("\n"))...)
		}
	}
	g, w := changes(t, got), changes(t, want)
	if len(g) != len(w) {
		t.Fatalf("%d markets stored, want %d", len(g), len(w))
	}
	for id := range w {
		if strings.Join(g[id], "\n") != strings.Join(w[id], "\n") {
			t.Errorf("market %s differs", id)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(spool, "closed")); len(ents) != 0 {
		t.Errorf("closed/ holds %d files after the uploads", len(ents))
	}
}

// TestDiskFullTmpfs fills a real filesystem: the spool on a 256 KiB tmpfs
// (when the test may mount one, as root). The recorder stops with a clear
// error, and the tape holds whole lines only.
func TestDiskFullTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	spool := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", spool).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	st, _ := store.NewDir(t.TempDir())
	clk := &clock{t: time.Unix(1650392673, 0)}
	r := newTestRecorder(t, spool, st, clk, nil)
	t.Cleanup(func() {
		r.Shutdown() // fails (the disk is still full) but closes the files
		if out, err := exec.Command("umount", spool).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	})
	lines := readLines(t, testenv.Testdata(t, "tapes/1.197931750"))
	dec := esa.NewDecoder()
	var m esa.Message
	var err error
	for i := 0; err == nil && i < 100*len(lines); i++ {
		m.Reset()
		dec.Decode(lines[i%len(lines)], &m)
		if err = r.Handle(context.Background(), lines[i%len(lines)], &m); err == nil && i%20 == 0 {
			err = r.Tick(context.Background())
		}
	}
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "disk is full") {
		t.Fatalf("err = %v, want ENOSPC saying the disk is full", err)
	}
	t.Log(err)
	b, rerr := os.ReadFile(filepath.Join(spool, "open", "1.197931750.jsonl"))
	if rerr != nil {
		t.Fatal(rerr)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("tape of %d bytes does not end with a whole line", len(b))
	}
	got := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	for i, l := range got {
		if !bytes.Equal(l, lines[i%len(lines)]) {
			t.Fatalf("line %d of the tape is not the source's", i+1)
		}
	}
}

// TestMetricsHTTP scrapes the metrics over HTTP as Prometheus would, and
// checks the latency histogram's buckets.
func TestMetricsHTTP(t *testing.T) {
	m := NewMetrics()
	m.Messages.Add(7)
	m.Latency.Observe(0.02)
	m.Latency.Observe(100)
	srv := httptest.NewServer(m)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
	families := parseExposition(t, resp.Body)
	if v := families["tapedeck_record_messages_total"].GetMetric()[0].GetCounter().GetValue(); v != 7 {
		t.Errorf("messages %v, want 7", v)
	}
	h := families["tapedeck_record_latency_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 2 || h.GetSampleSum() != 100.02 {
		t.Errorf("latency count %d sum %v, want 2 and 100.02", h.GetSampleCount(), h.GetSampleSum())
	}
	want := map[float64]uint64{0.01: 0, 0.025: 1, 30: 1} // cumulative; +Inf is the count
	for _, b := range h.GetBucket() {
		if w, ok := want[b.GetUpperBound()]; ok {
			if b.GetCumulativeCount() != w {
				t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), w)
			}
			delete(want, b.GetUpperBound())
		}
	}
	if len(want) != 0 {
		t.Errorf("buckets missing: %v", want)
	}
}

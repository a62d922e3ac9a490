package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/storetest"
)

// marketChanges returns each market's raw changes, in order, from tape bytes.
func marketChanges(t *testing.T, b []byte) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	dec := esa.NewDecoder()
	var m esa.Message
	for i, l := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		m.Reset()
		if err := dec.Decode(l, &m); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		for _, mc := range m.MC {
			out[string(mc.ID)] = append(out[string(mc.ID)], string(mc.Raw))
		}
	}
	return out
}

// startExchange serves the shared stream recordings on 127.0.0.1.
func startExchange(t *testing.T, faults exchange.Faults) (infoFile string, sources map[string][]string) {
	t.Helper()
	var tapes []string
	sources = map[string][]string{}
	for _, name := range []string{"1.197931750", "1.197931751"} {
		p := testenv.Shared(t, "data/streams/"+name)
		tapes = append(tapes, p)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range marketChanges(t, b) {
			sources[k] = v
		}
	}
	dir := t.TempDir()
	ex, err := exchange.New(exchange.Config{Tapes: tapes, Catalogues: []string{testenv.Testdata(t, "catalogues")}, Speed: 0, CertFile: filepath.Join(dir, "cert.pem"), Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ex.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	infoFile = filepath.Join(dir, "info.json")
	if err := ex.WriteInfo(infoFile); err != nil {
		t.Fatal(err)
	}
	return infoFile, sources
}

// record runs `record run` with args until the store under prefix holds
// want tapes (or it exits), then stops it as SIGTERM would.
func record(t *testing.T, st store.Store, prefix, spool string, want int, args ...string) error {
	t.Helper()
	root := newRootCmd()
	root.SetArgs(append([]string{"run"}, args...))
	root.SetOut(io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- root.ExecuteContext(ctx) }()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-errc:
			return err
		case <-time.After(50 * time.Millisecond):
		}
		objs, _ := st.List(context.Background(), prefix)
		n, cats := 0, 0
		for _, o := range objs {
			switch {
			case strings.HasSuffix(o.Key, ".jsonl.zst"):
				n++
			case strings.HasSuffix(o.Key, ".json"):
				cats++
			}
		}
		closed, _ := os.ReadDir(filepath.Join(spool, "closed"))
		if n >= want && cats >= want && len(closed) == 0 {
			break
		}
	}
	cancel()
	return <-errc
}

func checkRecorded(t *testing.T, st store.Store, prefix string, sources map[string][]string) {
	t.Helper()
	objs, err := st.List(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	cats := 0
	for _, o := range objs {
		if strings.HasSuffix(o.Key, ".json") {
			cats++
			continue
		}
		rc, err := st.Open(context.Background(), o.Key)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := zstd.NewReader(rc)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		zr.Close()
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", o.Key, err)
		}
		for k, v := range marketChanges(t, b) {
			got[k] = v
		}
	}
	if cats != len(sources) {
		t.Errorf("%d catalogues for %d markets", cats, len(sources))
	}
	for id, want := range sources {
		if err := sameChanges(got[id], want); err != "" {
			t.Errorf("market %s: %s", id, err)
		}
	}
}

// sameChanges checks recorded changes against the source's: each image the
// exchange sent (on subscribe, or after a reconnect without a usable clock)
// stands for the source changes up to where the next recorded delta is
// found; every other change must follow the source one for one, none lost,
// none twice, to the source's end.
func sameChanges(got, want []string) string {
	if len(got) == 0 {
		return "nothing recorded"
	}
	j := 0 // next source change to match
	images := 0
	for i := 0; i < len(got); i++ {
		if strings.Contains(got[i][:min(len(got[i]), 60)], `"img":true`) {
			images++
			if i+1 == len(got) {
				j = len(want)
				break
			}
			k := j
			for k < len(want) && want[k] != got[i+1] {
				k++
			}
			if k == len(want) {
				return fmt.Sprintf("change %d after an image is not in the source after its change %d", i+2, j)
			}
			j = k
			continue
		}
		if j >= len(want) || got[i] != want[j] {
			return fmt.Sprintf("change %d differs from source change %d", i+1, j+1)
		}
		j++
	}
	if j != len(want) {
		return fmt.Sprintf("recorded changes end at source change %d of %d", j, len(want))
	}
	if images > 2 {
		return fmt.Sprintf("%d images", images)
	}
	return ""
}

// TestEndToEnd: the local exchange serves the shared recordings, record run
// records them into a directory, and the stored tapes hold the same market
// changes, line for line, as the sources; also under faults.
func TestEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults exchange.Faults
	}{
		{"clean", exchange.Faults{}},
		{"dropped mid-stream", exchange.Faults{DropAfter: 40}},
		{"dropped at the image", exchange.Faults{DropAfter: 1}},
		{"503", exchange.Faults{Status503After: 20}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, sources := startExchange(t, tc.faults)
			dest, spool := t.TempDir(), t.TempDir()
			st, _ := store.NewDir(dest)
			err := record(t, st, "", spool, len(sources), "--exchange-info", info, "--spool", spool, "--dest", dest, "--close-grace", "10ms", "--sync", "20ms", "--log-level", "error")
			if err != nil {
				t.Fatalf("record run: %v", err)
			}
			checkRecorded(t, st, "", sources)
			if ents, _ := os.ReadDir(filepath.Join(spool, "closed")); len(ents) != 0 {
				t.Errorf("spool still holds %d closed tapes", len(ents))
			}
		})
	}
}

// TestEndToEndS3 records to the S3 test server.
func TestEndToEndS3(t *testing.T) {
	url, opt := storetest.URL(t, "rec/")
	info, sources := startExchange(t, exchange.Faults{})
	st, prefix, err := store.Open(context.Background(), url, opt)
	if err != nil {
		t.Fatal(err)
	}
	spool := t.TempDir()
	err = record(t, st, prefix, spool, len(sources), "--exchange-info", info, "--spool", spool, "--dest", url,
		"--s3-endpoint", opt.S3.Endpoint, "--s3-path-style", "--close-grace", "10ms", "--sync", "20ms", "--log-level", "error")
	if err != nil {
		t.Fatalf("record run: %v", err)
	}
	checkRecorded(t, st, prefix, sources)
}

// TestSubscriptionLimit: a refused subscription exits with code 2.
func TestSubscriptionLimit(t *testing.T) {
	info, _ := startExchange(t, exchange.Faults{SubscriptionLimit: true})
	dest := t.TempDir()
	st, _ := store.NewDir(dest)
	spool := t.TempDir()
	err := record(t, st, "", spool, 1, "--exchange-info", info, "--spool", spool, "--dest", dest, "--log-level", "error")
	if err == nil || cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "SUBSCRIPTION_LIMIT_EXCEEDED") {
		t.Fatalf("err = %v (exit %d), want SUBSCRIPTION_LIMIT_EXCEEDED with exit 2", err, cli.ExitCode(err))
	}
}

func TestUntilDeadline(t *testing.T) {
	now := time.Date(2026, 11, 28, 7, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		until string
		d     time.Duration
		want  time.Time
		bad   bool
	}{
		{"23:30", 0, time.Date(2026, 11, 28, 23, 30, 0, 0, time.UTC), false},
		{"06:00", 0, time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC), false},
		{"23:30", time.Hour, now.Add(time.Hour), false},
		{"", 2 * time.Hour, now.Add(2 * time.Hour), false},
		{"25:00", 0, time.Time{}, true},
	} {
		got, err := untilDeadline(now, tc.until, tc.d)
		if (err != nil) != tc.bad || !got.Equal(tc.want) {
			t.Errorf("untilDeadline(%q, %v) = %v, %v", tc.until, tc.d, got, err)
		}
	}
}

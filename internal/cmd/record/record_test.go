package record

import (
	"archive/tar"
	"bytes"
	"compress/bzip2"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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
		"--s3-endpoint", storetest.Endpoint(t), "--s3-path-style", "--close-grace", "10ms", "--sync", "20ms", "--log-level", "error")
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

// TestStall: a stream that stalls longer than the watchdog is reconnected
// and the recording is still whole.
func TestStall(t *testing.T) {
	info, sources := startExchange(t, exchange.Faults{StallAfter: 30, StallFor: 3 * time.Second})
	dest, spool := t.TempDir(), t.TempDir()
	st, _ := store.NewDir(dest)
	err := record(t, st, "", spool, len(sources), "--exchange-info", info, "--spool", spool, "--dest", dest,
		"--heartbeat-ms", "200", "--close-grace", "10ms", "--sync", "20ms", "--log-level", "error")
	if err != nil {
		t.Fatalf("record run: %v", err)
	}
	checkRecorded(t, st, "", sources)
}

// captureStderr runs f with os.Stderr going to a buffer (the commands log
// there) and returns what was written.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&buf, r); close(done) }()
	defer func() {
		os.Stderr = old
	}()
	f()
	w.Close()
	<-done
	os.Stderr = old
	return buf.String()
}

// TestSecretsNotLogged: credentials given in the environment appear neither
// in the debug log nor in the error of a refused login.
func TestSecretsNotLogged(t *testing.T) {
	const pass, appKey = "Pa55-w0rd-secret-77", "app-key-secret-9Q"
	t.Setenv("TAPEDECK_PASSWORD", pass)
	t.Setenv("TAPEDECK_APP_KEY", appKey)
	t.Setenv("TAPEDECK_USERNAME", "someone")
	for _, refuse := range []bool{false, true} {
		info, sources := startExchange(t, exchange.Faults{RefuseLogin: refuse})
		dest, spool := t.TempDir(), t.TempDir()
		st, _ := store.NewDir(dest)
		var err error
		logs := captureStderr(t, func() {
			err = record(t, st, "", spool, len(sources), "--exchange-info", info, "--spool", spool, "--dest", dest,
				"--close-grace", "10ms", "--sync", "20ms", "--log-level", "debug")
		})
		if refuse && (err == nil || cli.ExitCode(err) != cli.ExitUsage) {
			t.Errorf("refused login: err = %v, want exit 2", err)
		}
		if !refuse && err != nil {
			t.Errorf("record run: %v", err)
		}
		all := logs
		if err != nil {
			all += err.Error()
		}
		if !strings.Contains(logs, "logged in") && !refuse {
			t.Errorf("no login logged; logs:\n%s", logs)
		}
		for _, s := range []string{pass, appKey} {
			if strings.Contains(all, s) {
				t.Errorf("secret %q in logs or error:\n%s", s, all)
			}
		}
	}
}

// TestFlush: record flush uploads the tapes a stopped recorder left open.
func TestFlush(t *testing.T) {
	info, sources := startExchange(t, exchange.Faults{})
	dest, spool := t.TempDir(), t.TempDir()
	st, _ := store.NewDir(dest)
	// Markets close only after an hour's grace, so the run ends with every
	// tape still open in the spool.
	root := newRootCmd()
	root.SetArgs([]string{"run", "--exchange-info", info, "--spool", spool, "--dest", dest, "--close-grace", "1h", "--sync", "20ms", "--log-level", "error"})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- root.ExecuteContext(ctx) }()
	want := 0
	for _, v := range sources {
		want += len(v)
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		n := 0
		for _, name := range []string{"1.197931750.jsonl", "1.197931751.jsonl"} {
			b, _ := os.ReadFile(filepath.Join(spool, "open", name))
			n += bytes.Count(b, []byte("\n"))
		}
		if n >= want-2 { // an image stands for a source line or two
			break
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("record run: %v", err)
	}
	if objs, _ := st.List(context.Background(), ""); len(objs) != 0 {
		t.Fatalf("stored before the flush: %v", objs)
	}
	flush := newRootCmd()
	flush.SetArgs([]string{"flush", "--spool", spool, "--dest", dest, "--log-level", "error"})
	flush.SetOut(io.Discard)
	if err := flush.Execute(); err != nil {
		t.Fatalf("record flush: %v", err)
	}
	checkRecorded(t, st, "", sources)
	for _, d := range []string{"open", "closed"} {
		if ents, _ := os.ReadDir(filepath.Join(spool, d)); len(ents) != 0 {
			t.Errorf("spool %s/ still holds %d files", d, len(ents))
		}
	}
}

// TestEndToEndGreyhoundTar: the local exchange serves a day of Betfair's PRO
// greyhound files (a tar of bzip2 tapes), dropping the connection now and
// then; the recording holds every market's changes as the sources do.
func TestEndToEndGreyhoundTar(t *testing.T) {
	testenv.Long(t)
	tarPath := testenv.Shared(t, "data/historic/pro-greyhounds-2022-03-01.tar")
	sources := tarChanges(t, tarPath)
	dir := t.TempDir()
	ex, err := exchange.New(exchange.Config{Tapes: []string{tarPath}, Speed: 0, CertFile: filepath.Join(dir, "cert.pem"), Faults: exchange.Faults{DropAfter: 5000, DropEvery: true}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ex.Serve(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	info := filepath.Join(dir, "info.json")
	if err := ex.WriteInfo(info); err != nil {
		t.Fatal(err)
	}
	dest, spool := t.TempDir(), t.TempDir()
	st, _ := store.NewDir(dest)
	if err := record(t, st, "", spool, len(sources), "--exchange-info", info, "--spool", spool, "--dest", dest, "--close-grace", "10ms", "--sync", "50ms", "--log-level", "error"); err != nil {
		t.Fatalf("record run: %v", err)
	}
	checkRecorded(t, st, "", sources)
}

// tarChanges reads every bzip2 tape of a tar.
func tarChanges(t *testing.T, p string) map[string][]string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg || !strings.HasSuffix(h.Name, ".bz2") {
			continue
		}
		b, err := io.ReadAll(bzip2.NewReader(tr))
		if err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
		for k, v := range marketChanges(t, b) {
			out[k] = append(out[k], v...)
		}
	}
	return out
}

// TestKilledAndRestarted: `record run` killed with SIGKILL mid-market and
// started again on the same spool continues the tapes; what the kill lost
// (at most the last --sync) is restored by the new connection's image, so
// the recording holds the sources' changes with no line twice.
func TestKilledAndRestarted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(t.TempDir(), "record")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/tapedeck/tapedeck/cmd/record").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var tapes []string
	sources := map[string][]string{}
	for _, name := range []string{"1.197931750", "1.197931751"} {
		p := testenv.Shared(t, "data/streams/"+name)
		tapes = append(tapes, p)
		b, _ := os.ReadFile(p)
		for k, v := range marketChanges(t, b) {
			sources[k] = v
		}
	}
	dir := t.TempDir()
	// 100 times real time: the markets' five minutes take three seconds.
	ex, err := exchange.New(exchange.Config{Tapes: tapes, Speed: 100, CertFile: filepath.Join(dir, "cert.pem")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ex.Serve(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	info := filepath.Join(dir, "info.json")
	ex.WriteInfo(info)
	dest, spool := t.TempDir(), t.TempDir()
	args := []string{"run", "--exchange-info", info, "--spool", spool, "--dest", dest, "--close-grace", "10ms", "--sync", "20ms", "--log-level", "error"}

	first := exec.Command(bin, args...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	tape := filepath.Join(spool, "open", "1.197931750.jsonl")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(tape)
		if bytes.Count(b, []byte("\n")) >= 40 {
			break
		}
		if time.Now().After(deadline) {
			first.Process.Kill()
			t.Fatal("the first run recorded too little")
		}
	}
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	before, _ := os.ReadFile(tape)

	second := exec.Command(bin, args...)
	var stderr bytes.Buffer
	second.Stderr = &stderr
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	st, _ := store.NewDir(dest)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		closed, _ := os.ReadDir(filepath.Join(spool, "closed"))
		objs, _ := st.List(context.Background(), "")
		if len(objs) == 2*len(sources) && len(closed) == 0 {
			break
		}
	}
	second.Process.Signal(syscall.SIGTERM)
	if err := second.Wait(); err != nil {
		t.Fatalf("second run: %v\n%s", err, stderr.String())
	}
	checkRecorded(t, st, "", sources)
	// The stored tape starts with what the killed run had synced.
	rc, err := st.Open(context.Background(), "4339/2022/04/19/31389771/1.197931750.jsonl.zst")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	zr, _ := zstd.NewReader(rc)
	defer zr.Close()
	after, _ := io.ReadAll(zr)
	if i := bytes.LastIndexByte(before, '\n'); i < 0 || !bytes.HasPrefix(after, before[:i+1]) {
		t.Errorf("the stored tape does not continue the killed run's %d bytes", len(before))
	}
}

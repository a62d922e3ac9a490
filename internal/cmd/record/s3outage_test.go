package record

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/storetest"
)

// s3Process is a versitygw server the test owns, so that it can kill it and
// start it again on the same port and data directory.
type s3Process struct {
	bin, addr, data, key, secret string
	cmd                          *exec.Cmd
}

// versitygwBinary returns the versitygw that scripts/s3server.sh installs,
// or skips t (fails it when CI is set) when it is not there.
func versitygwBinary(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	lines := strings.Split(string(out), "\n") // GOBIN first, often empty
	dir := strings.TrimSpace(lines[0])
	if dir == "" && len(lines) > 1 {
		dir = filepath.Join(strings.SplitN(strings.TrimSpace(lines[1]), string(os.PathListSeparator), 2)[0], "bin")
	}
	bin := filepath.Join(dir, "versitygw")
	if _, err := os.Stat(bin); err != nil {
		msg := bin + " is missing: run scripts/s3server.sh once (it installs versitygw) to test an S3 outage"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set, so this is a failure, not a skip)")
		}
		t.Skip(msg)
	}
	return bin
}

// start runs the server and waits until it accepts connections.
func (s *s3Process) start(t *testing.T) {
	t.Helper()
	s.cmd = exec.Command(s.bin, "--port", s.addr, "--quiet", "posix", s.data)
	// The secret goes through the environment, as scripts/s3server.sh does.
	s.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+s.key, "ROOT_SECRET_ACCESS_KEY="+s.secret)
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("versitygw: %v", err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.Dial("tcp", s.addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.kill()
			t.Fatalf("versitygw on %s did not accept connections: %v", s.addr, err)
		}
	}
}

// kill stops the server at once, as a crash or a pulled plug would.
func (s *s3Process) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGKILL)
		s.cmd.Wait()
	}
	s.cmd = nil
}

// TestS3ServerRestarted: the S3 server is killed while the recorder is
// uploading, stays down for a minute, and comes back on the same port and
// data directory. Every tape arrives whole, line for line as the sources,
// and while the server is down no tape leaves the spool. The recorder's
// clock of retries is the default one, and the outage a minute, both
// scaled by outageScale (--upload-backoff-scale): the schedule's shape, not
// its unit, is what must outlast the outage, and a minute's wait would
// make the whole suite wait.
func TestS3ServerRestarted(t *testing.T) {
	const outageScale = 0.1
	outage := time.Duration(outageScale * float64(time.Minute))
	bin := versitygwBinary(t)
	random := func(n int) string {
		b := make([]byte, n)
		rand.Read(b)
		return hex.EncodeToString(b)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv := &s3Process{bin: bin, addr: addr, data: t.TempDir(), key: "TD" + strings.ToUpper(random(9)), secret: random(24)}
	srv.start(t)
	t.Cleanup(srv.kill) // after the bucket's removal below (cleanups run last first)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.secret)
	t.Setenv("AWS_REGION", "us-east-1")
	endpoint := "http://" + addr
	t.Setenv(storetest.EnvEndpoint, endpoint)
	url, opt := storetest.URL(t, "rec/")
	st, prefix, err := store.Open(context.Background(), url, opt)
	if err != nil {
		t.Fatal(err)
	}

	info, sources := startExchange(t, exchange.Faults{})
	spool := t.TempDir()
	closedDir := filepath.Join(spool, "closed")
	root := newRootCmd()
	// The default upload back-off (1 s doubling to 2 min, 8 tries in a row,
	// then a rescan every minute), scaled as the outage is, must outlast it.
	root.SetArgs([]string{"run", "--exchange-info", info, "--spool", spool, "--dest", url,
		"--s3-endpoint", endpoint, "--s3-path-style", "--close-grace", "10ms", "--sync", "20ms", "--log-level", "error",
		"--upload-backoff-scale", fmt.Sprint(outageScale)})
	root.SetOut(io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- root.ExecuteContext(ctx) }()

	// Kill the server as soon as a closed tape waits in the spool: its
	// upload is under way or next.
	var atKill []string
	for deadline := time.Now().Add(30 * time.Second); atKill == nil; time.Sleep(time.Millisecond) {
		if len(names(closedDir)) > 0 {
			srv.kill()
			atKill = names(closedDir)
			break
		}
		select {
		case err := <-errc:
			t.Fatalf("record run ended before any tape closed: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no tape closed in 30 s")
		}
	}
	downAt := time.Now()
	if len(atKill) == 0 {
		t.Fatal("the spool emptied between the look and the kill: nothing was left to upload during the outage")
	}

	// While the server is down nothing may leave closed/: every tape there
	// is not yet stored.
	held := map[string]bool{}
	for _, n := range atKill {
		held[n] = true
	}
	for time.Since(downAt) < outage {
		now := map[string]bool{}
		for _, n := range names(closedDir) {
			now[n] = true
		}
		for n := range held {
			if !now[n] {
				t.Fatalf("%s left the spool %v into the outage", n, time.Since(downAt).Round(time.Millisecond))
			}
		}
		for n := range now {
			held[n] = true
		}
		select {
		case err := <-errc:
			t.Fatalf("record run ended during the outage: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Logf("S3 server down for %v with %d tapes in the spool (%d at the kill)", time.Since(downAt).Round(time.Second), len(held), len(atKill))
	srv.start(t)
	upAt := time.Now()

	// Everything arrives once the server is back.
	stored := func() bool {
		objs, err := st.List(context.Background(), prefix)
		if err != nil {
			return false
		}
		n, cats := 0, 0
		for _, o := range objs {
			switch {
			case strings.HasSuffix(o.Key, ".jsonl.zst"):
				n++
			case strings.HasSuffix(o.Key, ".json"):
				cats++
			}
		}
		return n >= len(sources) && cats >= len(sources) && len(names(closedDir)) == 0
	}
	for deadline := time.Now().Add(3 * time.Minute); !stored(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("3 min after the restart (the scaled schedule retries within %v) the store still lacks tapes; spool holds %v", 2*outage, names(closedDir))
		}
	}
	t.Logf("all tapes stored %v after the restart", time.Since(upAt).Round(time.Millisecond))
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("record run: %v", err)
	}
	checkRecorded(t, st, prefix, sources)
}

// names lists a directory's tapes (.jsonl files).
func names(dir string) []string {
	ents, _ := os.ReadDir(dir)
	out := []string{}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".jsonl") {
			out = append(out, e.Name())
		}
	}
	return out
}

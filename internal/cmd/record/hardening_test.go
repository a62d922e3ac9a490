package record

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/feed"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/recorder"
	"github.com/tapedeck/tapedeck/store"
)

// TestFlushSpool: record flush on a spool that does not exist exits 1 and
// creates nothing; with defaults and nothing to flush it creates neither
// ./spool nor ./tapes.
func TestFlushSpool(t *testing.T) {
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo")
	dest := filepath.Join(dir, "tapes")
	root := newRootCmd()
	root.SetArgs([]string{"flush", "--spool", typo, "--dest", dest, "--log-level", "error"})
	root.SetOut(&bytes.Buffer{})
	err := root.Execute()
	if err == nil || cli.ExitCode(err) != cli.ExitFailure {
		t.Errorf("missing spool: err = %v (exit %d), want exit 1", err, cli.ExitCode(err))
	}
	for _, p := range []string{typo, dest} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("flush created %s", p)
		}
	}

	// An empty spool: nothing to flush, no destination made.
	spool := filepath.Join(dir, "spool")
	os.MkdirAll(filepath.Join(spool, "closed"), 0o755)
	root = newRootCmd()
	root.SetArgs([]string{"flush", "--spool", spool, "--dest", dest, "--log-level", "error"})
	var out bytes.Buffer
	root.SetOut(&out)
	if err := root.Execute(); err != nil {
		t.Fatalf("empty spool: %v", err)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("flush of an empty spool created %s", dest)
	}
	if !strings.Contains(out.String(), "uploaded 0 tapes") {
		t.Errorf("output %q", out.String())
	}
}

// fakeIdentity is a TLS login service on loopback that records what it was
// sent and refuses every login, so that a run ends at once with exit 2.
func fakeIdentity(t *testing.T) (srv *httptest.Server, caFile string, got chan url.Values) {
	t.Helper()
	got = make(chan url.Values, 4)
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		v := r.PostForm
		v.Set("X-Application", r.Header.Get("X-Application"))
		select {
		case got <- v:
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"token":"","product":"","status":"FAIL","error":"INVALID_USERNAME_OR_PASSWORD"}`)
	}))
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	return srv, caFile, got
}

func writeInfo(t *testing.T, path string, info exchange.Info) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"stream": info.Stream, "identity": info.Identity, "betting": info.Betting, "ca": info.CA})
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func runRecord(t *testing.T, args ...string) error {
	t.Helper()
	root := newRootCmd()
	root.SetArgs(append([]string{"run"}, args...))
	root.SetOut(io.Discard)
	return root.Execute()
}

// TestExchangeInfoPlaceholders: with the account's secrets in the
// environment and in --config, a local exchange receives placeholders only.
func TestExchangeInfoPlaceholders(t *testing.T) {
	const pass, appKey = "real-Pa55word-9", "real-app-key-7"
	t.Setenv("TAPEDECK_PASSWORD", pass)
	t.Setenv("TAPEDECK_APP_KEY", appKey)
	t.Setenv("TAPEDECK_USERNAME", "real-user")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tapedeck.json")
	os.WriteFile(cfg, []byte(`{"username":"real-user","password":"`+pass+`","app_key":"`+appKey+`"}`), 0o600)
	srv, ca, got := fakeIdentity(t)
	info := filepath.Join(dir, "ex.json")
	writeInfo(t, info, exchange.Info{Stream: "127.0.0.1:1", Identity: srv.URL, Betting: srv.URL, CA: ca})
	spool := filepath.Join(dir, "spool")
	err := runRecord(t, "--exchange-info", info, "--config", cfg, "--spool", spool, "--dest", filepath.Join(dir, "tapes"), "--log-level", "error")
	if cli.ExitCode(err) != cli.ExitUsage {
		t.Fatalf("refused login: err = %v, want exit 2", err)
	}
	var v url.Values
	select {
	case v = <-got:
	default:
		t.Fatal("the local exchange received no login")
	}
	for _, k := range []string{"username", "password", "X-Application"} {
		if v.Get(k) != "local" {
			t.Errorf("%s = %q, want the placeholder \"local\"", k, v.Get(k))
		}
	}
}

// TestExchangeInfoRefused: an info file naming an endpoint off this
// machine, or plain http, is refused with exit 2 before anything is sent;
// so is --identity-url http://…; a file that never appears is exit 2 after
// --exchange-info-wait.
func TestExchangeInfoRefused(t *testing.T) {
	dir := t.TempDir()
	_, ca, got := fakeIdentity(t)
	for _, tc := range []struct {
		name string
		info *exchange.Info
		args []string
		want string
	}{
		{"remote stream", &exchange.Info{Stream: "203.0.113.5:443", Identity: "https://127.0.0.1:1", Betting: "https://127.0.0.1:1", CA: ca}, nil, "not on this machine"},
		{"remote identity", &exchange.Info{Stream: "127.0.0.1:1", Identity: "https://exchange.example.com", Betting: "https://127.0.0.1:1", CA: ca}, nil, "not on this machine"},
		{"http identity", &exchange.Info{Stream: "127.0.0.1:1", Identity: "http://127.0.0.1:1", Betting: "https://127.0.0.1:1", CA: ca}, nil, "plain http"},
		{"identity-url override", &exchange.Info{Stream: "127.0.0.1:1", Identity: "https://127.0.0.1:1", Betting: "https://127.0.0.1:1", CA: ca}, []string{"--identity-url", "https://identitysso.betfair.com"}, "not on this machine"},
		{"http identity-url", nil, []string{"--identity-url", "http://identitysso.example.com", "--app-key", "k"}, "plain http"},
		{"never written", nil, []string{"--exchange-info", filepath.Join(dir, "never.json"), "--exchange-info-wait", "200ms"}, "waited"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--spool", filepath.Join(dir, "spool"), "--dest", filepath.Join(dir, "tapes"), "--log-level", "error"}
			if tc.info != nil {
				p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".json")
				writeInfo(t, p, *tc.info)
				args = append(args, "--exchange-info", p)
			}
			err := runRecord(t, append(args, tc.args...)...)
			if err == nil || cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v (exit %d), want exit 2 with %q", err, cli.ExitCode(err), tc.want)
			}
		})
	}
	select {
	case v := <-got:
		t.Errorf("a refused endpoint was sent a login: %v", v.Get("username"))
	default:
	}
}

// TestExchangeInfoWaits: record run started before trade serve has written
// its info file waits for it, as the README's `trade serve … --info FILE &`
// followed at once by `record run --exchange-info FILE` needs.
func TestExchangeInfoWaits(t *testing.T) {
	srv, ca, got := fakeIdentity(t)
	info := filepath.Join(t.TempDir(), "ex.json")
	go func() {
		time.Sleep(300 * time.Millisecond)
		tmp := info + ".tmp"
		writeInfo(t, tmp, exchange.Info{Stream: "127.0.0.1:1", Identity: srv.URL, Betting: srv.URL, CA: ca})
		os.Rename(tmp, info)
	}()
	dir := t.TempDir()
	err := runRecord(t, "--exchange-info", info, "--spool", filepath.Join(dir, "spool"), "--dest", filepath.Join(dir, "tapes"), "--log-level", "error")
	// The fake exchange refuses the login: reaching it is what shows the
	// file was waited for.
	if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "refused the login") {
		t.Fatalf("err = %v, want the login refused after waiting for the file", err)
	}
	if len(got) == 0 {
		t.Error("no login reached the exchange")
	}
}

// TestTLSFailureExit2: a server certificate that does not verify (no CA
// given, or the wrong one) is a setting to fix: exit 2, which systemd's
// RestartPreventExitStatus=2 relies on. The stream's certificate errors
// take the same path.
func TestTLSFailureExit2(t *testing.T) {
	srv, _, got := fakeIdentity(t)
	otherCA := selfSignedCA(t) // a CA that did not sign srv's certificate
	dir := t.TempDir()
	for name, ca := range map[string]string{"no CA": "", "wrong CA": otherCA} {
		info := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		writeInfo(t, info, exchange.Info{Stream: "127.0.0.1:1", Identity: srv.URL, Betting: srv.URL, CA: ca})
		err := runRecord(t, "--exchange-info", info, "--spool", filepath.Join(dir, "spool"), "--dest", filepath.Join(dir, "tapes"), "--log-level", "error")
		if err == nil || cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s: err = %v (exit %d), want exit 2 naming the certificate", name, err, cli.ExitCode(err))
		}
	}
	if len(got) != 0 {
		t.Error("a login went through a connection whose certificate did not verify")
	}
	stream := fmt.Errorf("esa: connect 127.0.0.1:1: %w (for a private endpoint such as trade serve, pass its certificate as the CA file)", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}})
	if c := cli.ExitCode(exitError(stream)); c != cli.ExitUsage {
		t.Errorf("stream certificate error: exit %d, want 2", c)
	}
}

// selfSignedCA writes a fresh CA certificate (PEM) that signed nothing.
func selfSignedCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "other-ca.pem")
	os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	return p
}

// TestUnrecordedMarketExit1: a market the command line selected that never
// sends a change is named at the end, and the run exits 1 instead of 0.
func TestUnrecordedMarketExit1(t *testing.T) {
	info, _ := startExchange(t, exchange.Faults{})
	dest, spool := t.TempDir(), t.TempDir()
	st, _ := store.NewDir(dest)
	err := record(t, st, "", spool, 1, "--exchange-info", info, "--spool", spool, "--dest", dest,
		"--market-ids", "1.197931750,1.999999999", "--close-grace", "10ms", "--sync", "20ms", "--log-level", "error")
	if err == nil || cli.ExitCode(err) != cli.ExitFailure || !strings.Contains(err.Error(), "1.999999999") || strings.Contains(err.Error(), "1.197931750") {
		t.Fatalf("err = %v (exit %d), want exit 1 naming 1.999999999 only", err, cli.ExitCode(err))
	}
}

// TestConnectionLimitAdvice: the feed's connection-limit error exits 2 and
// names the --markets-per-connection that fits.
func TestConnectionLimitAdvice(t *testing.T) {
	err := exitError(fmt.Errorf("run: %w", &feed.ConnectionLimitError{
		Err: &esa.StatusError{Code: "MAX_CONNECTION_LIMIT_EXCEEDED"}, Markets: 1500, Connections: 15, Accepted: 10, PerConnection: 150}))
	if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "--markets-per-connection 150") || !strings.Contains(err.Error(), "MAX_CONNECTION_LIMIT_EXCEEDED") {
		t.Errorf("err = %v (exit %d)", err, cli.ExitCode(err))
	}
}

// TestSpoolInUseExit2: record flush (and run) beside a recorder holding the
// spool exits 2 naming the holder's pid, and touches nothing.
func TestSpoolInUseExit2(t *testing.T) {
	dir := t.TempDir()
	spool, dest := filepath.Join(dir, "spool"), filepath.Join(dir, "tapes")
	st, _ := store.NewDir(dest)
	holder, err := recorder.New(recorder.Config{Spool: spool, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Shutdown()
	tape := filepath.Join(spool, "closed", "1.197931750.jsonl")
	if err := os.WriteFile(tape, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := newRootCmd()
	root.SetArgs([]string{"flush", "--spool", spool, "--dest", dest, "--log-level", "error"})
	root.SetOut(io.Discard)
	err = root.Execute()
	if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), fmt.Sprintf("process %d", os.Getpid())) {
		t.Errorf("err = %v (exit %d), want exit 2 naming pid %d", err, cli.ExitCode(err), os.Getpid())
	}
	if _, err := os.Stat(tape); err != nil {
		t.Errorf("the waiting tape: %v", err)
	}
}

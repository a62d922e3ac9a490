package betting

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/internal/testenv"
)

// Secrets the tests use; none may show in a log line or an error.
const (
	testUser    = "alice-user-7f3"
	testPass    = "hunter2-Pa55word-9x"
	testAppKey  = "AppKey-Zq81kLm0"
	testSession = "SessTok-b7d2c9e1="
)

func shared(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testenv.Shared(t, "data/api/"+name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeIdentity answers like Betfair's identity and betting services, with the
// real response bodies given per path.
type fakeIdentity struct {
	mu      sync.Mutex
	bodies  map[string][]byte // path -> body
	ctype   map[string]string
	seen    []*http.Request
	forms   []map[string]string
	headers []http.Header
}

func (f *fakeIdentity) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = r.ParseForm()
	form := map[string]string{}
	for k, v := range r.PostForm {
		form[k] = v[0]
	}
	f.forms = append(f.forms, form)
	f.headers = append(f.headers, r.Header.Clone())
	f.seen = append(f.seen, r)
	b, ok := f.bodies[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	ct := "application/json"
	if c, ok := f.ctype[r.URL.Path]; ok {
		ct = c
	}
	w.Header().Set("Content-Type", ct)
	w.Write(b)
}

func newServer(t *testing.T, f *fakeIdentity, clientCert bool) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(f)
	if clientCert {
		srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, ca
}

// clientPair writes a self-signed client certificate and its key.
func clientPair(t *testing.T) (certFile, keyFile string, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bot"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, keyPEM, 0o600)
	return certFile, keyFile, keyPEM
}

func TestJurisdiction(t *testing.T) {
	for _, tc := range []struct {
		name, identity string
		ok             bool
	}{
		{"com", "https://identitysso.betfair.com", true},
		{"com.au", "https://identitysso.betfair.com.au", true},
		{".com.au", "https://identitysso.betfair.com.au", true},
		{"betfair.it", "https://identitysso.betfair.it", true},
		{"COM", "https://identitysso.betfair.com", true},
		{"de", "", false},
	} {
		e, err := Jurisdiction(tc.name)
		if (err == nil) != tc.ok || e.Identity != tc.identity {
			t.Errorf("Jurisdiction(%q) = %+v, %v", tc.name, e, err)
		}
		if tc.ok && (e.Validate() != nil || !strings.Contains(e.CertIdentity, "-cert")) {
			t.Errorf("Jurisdiction(%q): bad endpoints %+v", tc.name, e)
		}
	}
}

// TestEndpointsHTTPS: every endpoint must be https; plain http is refused
// with a message saying why, whatever the host.
func TestEndpointsHTTPS(t *testing.T) {
	ok := Local("https://127.0.0.1:8443", "https://127.0.0.1:8443", "127.0.0.1:9443")
	if err := ok.Validate(); err != nil {
		t.Errorf("https endpoints: %v", err)
	}
	for _, e := range []Endpoints{
		Local("http://127.0.0.1:8080", "https://127.0.0.1:8443", "127.0.0.1:9443"),
		Local("https://127.0.0.1:8443", "http://127.0.0.1:8080", "127.0.0.1:9443"),
		{Identity: "https://identitysso.betfair.com", CertIdentity: "http://identitysso-cert.betfair.com", Betting: "https://api.betfair.com"},
	} {
		err := e.Validate()
		if err == nil || !strings.Contains(err.Error(), "plain http") {
			t.Errorf("%+v: err = %v, want plain http refused", e, err)
		}
		if _, err := New(Config{Endpoints: e, AppKey: "k"}); err == nil {
			t.Errorf("New accepted %+v", e)
		}
	}
	if err := Local("ftp://x", "https://x", "x:1").Validate(); err == nil {
		t.Error("ftp accepted")
	}
}

func TestCertLoginKeepAliveLogout(t *testing.T) {
	f := &fakeIdentity{bodies: map[string][]byte{
		"/api/certlogin": shared(t, "cert_login.json"),
		"/api/keepAlive": shared(t, "keep_alive.json"),
		"/api/logout":    shared(t, "logout.json"),
	}}
	srv, ca := newServer(t, f, true)
	certFile, keyFile, _ := clientPair(t)
	c, err := New(Config{Endpoints: Local(srv.URL, srv.URL, ""), AppKey: testAppKey, Username: testUser, Password: testPass, CertFile: certFile, KeyFile: keyFile, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.SessionToken(ctx); err == nil {
		t.Error("SessionToken before login: want an error")
	}
	if err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	if tok, _ := c.SessionToken(ctx); tok != "xxxsessionTokenxxx=" {
		t.Errorf("session = %q", tok)
	}
	if f.forms[0]["username"] != testUser || f.forms[0]["password"] != testPass {
		t.Errorf("certlogin form = %v", f.forms[0])
	}
	if f.headers[0].Get("X-Application") != testAppKey {
		t.Errorf("certlogin X-Application = %q", f.headers[0].Get("X-Application"))
	}
	if f.seen[0].TLS == nil || len(f.seen[0].TLS.PeerCertificates) != 1 {
		t.Error("certlogin sent no client certificate")
	}
	if err := c.KeepAlive(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.headers[1].Get("X-Authentication"); got != "xxxsessionTokenxxx=" {
		t.Errorf("keepAlive X-Authentication = %q", got)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SessionToken(ctx); err == nil {
		t.Error("session kept after logout")
	}
}

func TestInteractiveLogin(t *testing.T) {
	f := &fakeIdentity{bodies: map[string][]byte{
		"/api/login":     shared(t, "login_success.json"),
		"/api/keepAlive": shared(t, "keep_alive_success.json"),
	}}
	srv, _ := newServer(t, f, false)
	c, err := New(Config{Endpoints: Local(srv.URL, srv.URL, ""), AppKey: testAppKey, Username: testUser, Password: testPass, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tok, _ := c.SessionToken(context.Background()); tok != "session_token" {
		t.Errorf("session = %q", tok)
	}
	if f.seen[0].URL.Path != "/api/login" || f.headers[0].Get("Accept") != "application/json" {
		t.Errorf("login request %s accept %q", f.seen[0].URL.Path, f.headers[0].Get("Accept"))
	}
	if err := c.KeepAlive(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// objectMoved is the page Betfair's identity service answers with when the
// account belongs to another jurisdiction or is locked.
const objectMoved = `<html><head><title>Object moved</title></head><body>
<h2>Object moved to <a href="/#/error.html">here</a>.</h2>
</body></html>
`

func TestLoginErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, ctype string
		html              bool
		want              []string
	}{
		{"html page", objectMoved, "text/html; charset=utf-8", true, []string{"HTML page", "Object moved to /#/error.html", "/api/login", "jurisdiction", "locked"}},
		{"html as json", objectMoved, "application/json", true, []string{"HTML page", "Object moved to /#/error.html"}},
		{"refused", `{"token":"","product":"x","status":"FAIL","error":"INVALID_USERNAME_OR_PASSWORD"}`, "", false, []string{"INVALID_USERNAME_OR_PASSWORD", "check the username and password"}},
		{"cert refused", `{"loginStatus":"CERT_AUTH_REQUIRED"}`, "", false, []string{"CERT_AUTH_REQUIRED", "--cert"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeIdentity{bodies: map[string][]byte{"/api/login": []byte(tc.body)}, ctype: map[string]string{}}
			if tc.ctype != "" {
				f.ctype["/api/login"] = tc.ctype
			}
			srv, _ := newServer(t, f, false)
			c, _ := New(Config{Endpoints: Local(srv.URL, srv.URL, ""), AppKey: testAppKey, Username: testUser, Password: testPass, HTTPClient: srv.Client()})
			err := c.Login(context.Background())
			var le *LoginError
			if !errors.As(err, &le) || le.HTML != tc.html {
				t.Fatalf("err = %v (%T), want a LoginError with HTML=%v", err, err, tc.html)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(strings.ToLower(err.Error()), "invalid character") {
				t.Errorf("error %q looks like a JSON parse error", err)
			}
		})
	}
}

func TestListMarketCatalogue(t *testing.T) {
	for _, tc := range []struct {
		file    string
		markets int
		check   func(t *testing.T, cats []MarketCatalogue)
	}{
		{"list_market_catalogue.json", 1, func(t *testing.T, cats []MarketCatalogue) {
			m := cats[0]
			if m.MarketID != "1.125818641" || m.Event.ID != "606287" || m.EventType.ID != "1" || m.Competition.Name != "Austrian Bundesliga" {
				t.Errorf("market = %+v", m)
			}
			if m.Description.LineRangeInfo == nil || m.Description.LineRangeInfo.Interval != 0.5 || m.Description.PriceLadderDescription.Type != "CLASSIC" {
				t.Errorf("description = %+v", m.Description)
			}
			if len(m.Runners) != 10 || m.Runners[0].Meta("runnerId") != "3158851" {
				t.Errorf("runners = %+v", m.Runners)
			}
		}},
		{"betting/list_market_catalog.json", 100, func(t *testing.T, cats []MarketCatalogue) {
			nulls := 0
			for _, m := range cats {
				for _, r := range m.Runners {
					for _, v := range r.Metadata {
						if v == nil {
							nulls++
						}
					}
				}
			}
			if nulls == 0 {
				t.Error("no null metadata values kept as nil")
			}
		}},
		{"betting/list_market_catalog_bet_delay_models.json", 10, func(t *testing.T, cats []MarketCatalogue) {
			if d := cats[0].Description; len(d.BetDelayModels) != 1 || d.BetDelayModels[0] != "PASSIVE" {
				t.Errorf("betDelayModels = %v", d.BetDelayModels)
			}
		}},
		{"betting/list_market_catalog_colours_filename_url.json", 68, func(t *testing.T, cats []MarketCatalogue) {
			u := cats[0].Runners[0].ColoursURL()
			if !strings.HasPrefix(u, "https://content.betfair.com/feeds_images/") || u != cats[0].Runners[0].Meta("COLOURS_FILENAME_URL") {
				t.Errorf("colours URL = %q", u)
			}
		}},
		{"betting/list_market_catalog_invalid_cloth_number.json", 9, func(t *testing.T, cats []MarketCatalogue) {
			var bad, good int
			for _, m := range cats {
				for _, r := range m.Runners {
					if _, ok := r.ClothNumber(); ok {
						good++
					} else if r.Meta("CLOTH_NUMBER") == "1A" {
						bad++
					}
				}
			}
			if bad != 1 || good == 0 {
				t.Errorf("cloth numbers: %d invalid \"1A\", %d numeric", bad, good)
			}
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			body := shared(t, tc.file)
			f := &fakeIdentity{bodies: map[string][]byte{"/exchange/betting/json-rpc/v1": body, "/api/login": shared(t, "login_success.json")}}
			srv, _ := newServer(t, f, false)
			c, _ := New(Config{Endpoints: Local(srv.URL, srv.URL, ""), AppKey: testAppKey, Username: testUser, Password: testPass, HTTPClient: srv.Client()})
			ctx := context.Background()
			if err := c.Login(ctx); err != nil {
				t.Fatal(err)
			}
			cats, err := c.ListMarketCatalogue(ctx, CatalogueRequest{Filter: MarketFilter{MarketIDs: []string{"1.1"}}, MarketProjection: AllProjections, Sort: "FIRST_TO_START"})
			if err != nil {
				t.Fatal(err)
			}
			if len(cats) != tc.markets {
				t.Fatalf("%d markets, want %d", len(cats), tc.markets)
			}
			for _, m := range cats {
				if !bytes.HasPrefix(m.Raw, []byte("{")) || !bytes.Contains(m.Raw, []byte(m.MarketID)) {
					t.Fatalf("raw of %s = %.40s", m.MarketID, m.Raw)
				}
			}
			tc.check(t, cats)
			req := f.seen[1]
			if req.Header.Get("X-Authentication") != "session_token" || req.Header.Get("X-Application") != testAppKey {
				t.Errorf("headers = %v", req.Header)
			}
		})
	}
}

func TestRPCErrors(t *testing.T) {
	for _, tc := range []struct{ file, code string }{
		{"accounts/get_account_funds_error_no_appkey.json", "NO_APP_KEY"},
		{"accounts/get_account_funds_error_invalid_parameters.json", "DSC-0018"},
	} {
		_, err := ParseCatalogue(shared(t, tc.file))
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != tc.code {
			t.Errorf("%s: err = %v, want code %s", tc.file, err, tc.code)
		}
	}
}

// TestSecretsNeverLogged runs every call, succeeding and failing, with a debug
// logger, and checks no secret reaches a log line or an error.
func TestSecretsNeverLogged(t *testing.T) {
	certFile, keyFile, keyPEM := clientPair(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []string
	record := func(err error) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	bodies := []map[string][]byte{
		{ // success everywhere
			"/api/certlogin":                []byte(`{"sessionToken":"` + testSession + `","loginStatus":"SUCCESS"}`),
			"/api/login":                    []byte(`{"token":"` + testSession + `","product":"` + testAppKey + `","status":"SUCCESS","error":""}`),
			"/api/keepAlive":                []byte(`{"token":"` + testSession + `","product":"` + testAppKey + `","status":"SUCCESS","error":""}`),
			"/api/logout":                   []byte(`{"token":"` + testSession + `","product":"` + testAppKey + `","status":"SUCCESS","error":""}`),
			"/exchange/betting/json-rpc/v1": []byte(`{"jsonrpc":"2.0","error":{"code":-32099,"message":"ANGX-0003","data":{"APINGException":{"errorCode":"INVALID_SESSION_INFORMATION","errorDetails":"` + testSession + `"}}}}`),
		},
		{ // failures that echo the secrets back in the body
			"/api/certlogin":                []byte(`{"loginStatus":"INVALID_USERNAME_OR_PASSWORD","sessionToken":"","user":"` + testUser + `","password":"` + testPass + `"}`),
			"/api/login":                    []byte(`<html>` + testPass + testAppKey + `Object moved</html>`),
			"/api/keepAlive":                []byte(`{"token":"` + testSession + `","product":"` + testAppKey + `","status":"FAIL","error":"NO_SESSION"}`),
			"/api/logout":                   []byte(`not json ` + testSession),
			"/exchange/betting/json-rpc/v1": []byte(`<html>` + testSession + `</html>`),
		},
	}
	for _, b := range bodies {
		f := &fakeIdentity{bodies: b}
		srv, ca := newServer(t, f, true)
		ctx := context.Background()
		for _, cert := range []bool{true, false} {
			cfg := Config{Endpoints: Local(srv.URL, srv.URL, ""), AppKey: testAppKey, Username: testUser, Password: testPass, CAFile: ca, Logger: logger}
			if cert {
				cfg.CertFile, cfg.KeyFile = certFile, keyFile
			}
			c, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			record(c.Login(ctx))
			c.setSession(testSession)
			record(c.KeepAlive(ctx))
			_, err = c.ListMarketCatalogue(ctx, CatalogueRequest{})
			record(err)
			c.setSession(testSession)
			record(c.Logout(ctx))
		}
	}
	// An unreachable endpoint and a bad key file.
	c, _ := New(Config{Endpoints: Local("https://127.0.0.1:1", "https://127.0.0.1:1", ""), AppKey: testAppKey, Username: testUser, Password: testPass, Logger: logger})
	record(c.Login(context.Background()))
	bad := filepath.Join(t.TempDir(), "bad.key")
	os.WriteFile(bad, append([]byte("garbage "), keyPEM[:60]...), 0o600)
	_, err := New(Config{Endpoints: Local("https://x", "https://x", ""), AppKey: testAppKey, CertFile: certFile, KeyFile: bad})
	record(err)
	if len(errs) < 8 {
		t.Fatalf("only %d errors seen: %q", len(errs), errs)
	}
	all := logs.String() + strings.Join(errs, "\n")
	for _, s := range []string{testPass, testAppKey, testSession, string(keyPEM[40:80])} {
		if strings.Contains(all, s) {
			t.Errorf("secret %q found in logs or errors:\n%s", s, all)
		}
	}
	if _, err := io.Discard.Write(nil); err != nil {
		t.Fatal(err)
	}
}

// TestKeepAliveLoop: the loop keeps the session alive and logs in again
// when a keep-alive is refused (an expired session).
func TestKeepAliveLoop(t *testing.T) {
	// Read the answers here: shared may skip the test, which only the
	// test's own goroutine may do, never a handler's.
	loginOK, keepOK := shared(t, "login_success.json"), shared(t, "keep_alive_success.json")
	var mu sync.Mutex
	logins, keeps := 0, 0
	enough := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/api/login", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		logins++
		mu.Unlock()
		w.Write(loginOK)
	})
	mux.HandleFunc("/api/keepAlive", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		keeps++
		switch {
		case keeps == 2:
			w.Write([]byte(`{"token":"","product":"x","status":"FAIL","error":"NO_SESSION"}`))
		default:
			w.Write(keepOK)
		}
		if keeps == 4 {
			close(enough)
		}
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	c, _ := New(Config{Endpoints: Local(srv.URL, srv.URL, ""), AppKey: testAppKey, Username: testUser, Password: testPass, HTTPClient: srv.Client()})
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.KeepAliveLoop(ctx, time.Millisecond) }()
	<-enough
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("loop returned %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if logins != 2 {
		t.Errorf("%d logins, want 2 (the first and one after the refused keep-alive)", logins)
	}
}

package betting

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Client.
type Config struct {
	// Endpoints are the services to use (Jurisdiction("com") for Betfair).
	Endpoints Endpoints
	// AppKey is the application key, sent as X-Application.
	AppKey string
	// Username and Password are the account's credentials.
	Username, Password string
	// CertFile and KeyFile, when both set, make Login use certificate login
	// with this client certificate and private key (PEM files).
	CertFile, KeyFile string
	// CAFile adds a PEM certificate to trust (for a private endpoint such as
	// `trade serve`); the system roots are trusted too.
	CAFile string
	// HTTPClient, if set, is used as is (CertFile/CAFile are then ignored);
	// tests pass the client of an httptest TLS server.
	HTTPClient *http.Client
	// Logger receives login and keep-alive events; never a secret.
	Logger *slog.Logger
	// Timeout bounds each request; default 30 s.
	Timeout time.Duration
	// Observe, when set, is told of each Betting and Accounts API call
	// (login and keep-alive aside): its method, how long it took and its
	// error as the caller gets it (an order request's *ExecutionError
	// included). It is called from the caller's goroutine, for metrics.
	Observe func(method string, took time.Duration, err error)
	// DryRun sends no order-changing request (placeOrders, cancelOrders,
	// replaceOrders, updateOrders): each is logged at Info as it would
	// have been sent and fails with ErrDryRun. Reads still go.
	DryRun bool
}

// Client logs in to Betfair and calls the Betting API. It is safe for
// concurrent use; the session token it holds is refreshed by Login and
// KeepAlive.
type Client struct {
	cfg  Config
	http *http.Client // plain TLS: login, keep-alive, betting
	cert *http.Client // with the client certificate: certlogin
	log  *slog.Logger

	mu      sync.Mutex
	session string
	// dry is DryRun, which SetDryRun may change.
	dry atomic.Bool
}

// New checks cfg and returns a client; it makes no request.
func New(cfg Config) (*Client, error) {
	if err := cfg.Endpoints.Validate(); err != nil {
		return nil, err
	}
	if cfg.AppKey == "" {
		return nil, errors.New("betting: no application key (--app-key or TAPEDECK_APP_KEY)")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	c := &Client{cfg: cfg, log: cfg.Logger}
	c.dry.Store(cfg.DryRun)
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient != nil {
		c.http, c.cert = cfg.HTTPClient, cfg.HTTPClient
		return c, nil
	}
	base := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("betting: CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("betting: CA file %s holds no PEM certificate", cfg.CAFile)
		}
		base.RootCAs = pool
	}
	c.http = &http.Client{Timeout: cfg.Timeout, Transport: transport(base)}
	c.cert = c.http
	if cfg.CertFile != "" || cfg.KeyFile != "" {
		if cfg.CertFile == "" || cfg.KeyFile == "" {
			return nil, errors.New("betting: certificate login needs both a certificate and a key file")
		}
		pair, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			// The error of LoadX509KeyPair names files and formats, never
			// key material; keep only the file names to be sure.
			return nil, fmt.Errorf("betting: client certificate %s / key %s: cannot load the pair (check both are PEM and belong together)", cfg.CertFile, cfg.KeyFile)
		}
		ct := base.Clone()
		ct.Certificates = []tls.Certificate{pair}
		c.cert = &http.Client{Timeout: cfg.Timeout, Transport: transport(ct)}
	}
	return c, nil
}

// transport is the HTTP transport of the Betting API's calls. An order
// call's answer can take as long as the exchange's matching (the bet delay
// in play), so a busy strategy has many calls open at once: HTTP/2 (when
// the server offers it) carries them on one connection, and otherwise up
// to maxIdle connections stay open between calls, where net/http's default
// of two would make most calls pay a new TLS handshake (measured: a 4 ms
// median from market change to request on the wire, 0.4 ms with them kept;
// internal/tools/livebench). maxIdle matches the live engine's bound on
// requests on the wire (engine.DefaultMaxRequests).
func transport(tc *tls.Config) *http.Transport {
	const maxIdle = 256
	return &http.Transport{TLSClientConfig: tc, Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true,
		MaxIdleConns: maxIdle, MaxIdleConnsPerHost: maxIdle, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second}
}

// Endpoints returns the endpoints the client uses.
func (c *Client) Endpoints() Endpoints { return c.cfg.Endpoints }

// SessionToken returns the current session token ("" before Login). It has
// the signature esa.ClientConfig.Session wants.
func (c *Client) SessionToken(context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == "" {
		return "", errors.New("betting: not logged in")
	}
	return c.session, nil
}

func (c *Client) setSession(s string) {
	c.mu.Lock()
	c.session = s
	c.mu.Unlock()
}

// LoginError is a login the identity service refused, or answered with
// something other than its JSON.
type LoginError struct {
	// Endpoint is the URL that was called (it never holds a secret).
	Endpoint string
	// Status is the service's loginStatus/error code, such as
	// "INVALID_USERNAME_OR_PASSWORD"; empty for an HTML answer.
	Status string
	// HTML is set when the service answered with a web page instead of JSON.
	HTML bool
	// Detail says what the page said, when recognised.
	Detail string
}

// Error says what happened and what to check.
func (e *LoginError) Error() string {
	if e.HTML {
		d := "an HTML page"
		if e.Detail != "" {
			d += fmt.Sprintf(" (%q)", e.Detail)
		}
		return fmt.Sprintf("betting: %s answered with %s instead of JSON: Betfair does this when the endpoint is not your account's jurisdiction (check --jurisdiction: com, com.au, ...) or the account is locked or needs attention (log in on the website to see)", e.Endpoint, d)
	}
	return fmt.Sprintf("betting: %s refused the login: %s%s", e.Endpoint, e.Status, loginHint(e.Status))
}

func loginHint(status string) string {
	switch status {
	case "INVALID_USERNAME_OR_PASSWORD":
		return " (check the username and password)"
	case "CERT_AUTH_REQUIRED":
		return " (certificate login needed: give --cert and --key)"
	case "INVALID_APP_KEY", "APP_KEY_CREATION_FAILED":
		return " (check the application key)"
	case "ACCOUNT_NOW_LOCKED", "ACCOUNT_ALREADY_LOCKED", "SUSPENDED", "CLOSED", "SELF_EXCLUDED":
		return " (the account cannot log in: see betfair's website)"
	case "NO_SESSION", "INVALID_SESSION_INFORMATION":
		return " (the session expired: log in again)"
	}
	return ""
}

// identityResponse covers both shapes the identity service answers with:
// certlogin's {"sessionToken","loginStatus"} and login/keepAlive/logout's
// {"token","product","status","error"}.
type identityResponse struct {
	SessionToken string `json:"sessionToken"`
	LoginStatus  string `json:"loginStatus"`
	Token        string `json:"token"`
	Status       string `json:"status"`
	Error        string `json:"error"`
}

func (r *identityResponse) token() string {
	if r.SessionToken != "" {
		return r.SessionToken
	}
	return r.Token
}

func (r *identityResponse) status() string {
	if r.LoginStatus != "" {
		return r.LoginStatus
	}
	if r.Status == "SUCCESS" || r.Error == "" {
		return r.Status
	}
	return r.Error
}

// Login logs in with the certificate when one is configured, else
// interactively, and keeps the session token.
func (c *Client) Login(ctx context.Context) error {
	if c.cfg.CertFile != "" {
		return c.CertLogin(ctx)
	}
	return c.InteractiveLogin(ctx)
}

// CertLogin logs in at the certificate identity service ("non-interactive
// login"), the way Betfair recommends for bots.
func (c *Client) CertLogin(ctx context.Context) error {
	return c.login(ctx, c.cert, strings.TrimSuffix(c.cfg.Endpoints.CertIdentity, "/")+"/api/certlogin")
}

// InteractiveLogin logs in at the identity service with username and
// password only.
func (c *Client) InteractiveLogin(ctx context.Context) error {
	return c.login(ctx, c.http, strings.TrimSuffix(c.cfg.Endpoints.Identity, "/")+"/api/login")
}

func (c *Client) login(ctx context.Context, hc *http.Client, endpoint string) error {
	if c.cfg.Username == "" || c.cfg.Password == "" {
		return errors.New("betting: login needs a username and a password (--username/TAPEDECK_USERNAME, TAPEDECK_PASSWORD)")
	}
	form := url.Values{"username": {c.cfg.Username}, "password": {c.cfg.Password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("betting: login at %s: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var r identityResponse
	if err := c.identity(hc, req, endpoint, &r); err != nil {
		return err
	}
	if r.status() != "SUCCESS" || r.token() == "" {
		st := r.status()
		if st == "" {
			st = "no session token in the answer"
		}
		return &LoginError{Endpoint: endpoint, Status: st}
	}
	c.setSession(r.token())
	c.log.Info("logged in", "endpoint", endpoint)
	return nil
}

// KeepAlive extends the session; Betfair's sessions expire after some hours
// without one (12 h on .com, less elsewhere).
func (c *Client) KeepAlive(ctx context.Context) error {
	return c.sessionCall(ctx, "/api/keepAlive", true)
}

// Logout ends the session.
func (c *Client) Logout(ctx context.Context) error {
	err := c.sessionCall(ctx, "/api/logout", false)
	if err == nil {
		c.setSession("")
		c.log.Info("logged out")
	}
	return err
}

func (c *Client) sessionCall(ctx context.Context, path string, keep bool) error {
	endpoint := strings.TrimSuffix(c.cfg.Endpoints.Identity, "/") + path
	tok, err := c.SessionToken(ctx)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, nil)
	if err != nil {
		return fmt.Errorf("betting: %s: %w", endpoint, err)
	}
	req.Header.Set("X-Authentication", tok)
	var r identityResponse
	if err := c.identity(c.http, req, endpoint, &r); err != nil {
		return err
	}
	if r.Status != "SUCCESS" {
		return &LoginError{Endpoint: endpoint, Status: r.status()}
	}
	if keep && r.Token != "" {
		c.setSession(r.Token)
	}
	return nil
}

// KeepAliveLoop calls KeepAlive every interval until ctx ends, and logs in
// again when a keep-alive fails (a session can expire while the machine
// sleeps). It returns ctx's error.
func (c *Client) KeepAliveLoop(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = 30 * time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if err := c.KeepAlive(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c.log.Warn("keep-alive failed; logging in again", "err", err)
			if err := c.Login(ctx); err != nil && ctx.Err() == nil {
				c.log.Error("login after failed keep-alive failed", "err", err)
			}
			continue
		}
		c.log.Debug("session kept alive")
	}
}

// identity sends req with the headers the identity service wants and decodes
// its JSON answer into out, recognising an HTML page for what it is.
func (c *Client) identity(hc *http.Client, req *http.Request, endpoint string, out *identityResponse) error {
	req.Header.Set("X-Application", c.cfg.AppKey)
	req.Header.Set("Accept", "application/json")
	body, resp, err := c.do(hc, req, endpoint)
	if err != nil {
		return err
	}
	if isHTML(resp, body) {
		return &LoginError{Endpoint: endpoint, HTML: true, Detail: htmlDetail(body)}
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("betting: %s: HTTP %d, answer is not the identity service's JSON (%d bytes)", endpoint, resp.StatusCode, len(body))
	}
	return nil
}

// maxBody bounds how much of an answer is read: a catalogue of 1,000 markets
// with runner metadata is a few MB.
const maxBody = 256 << 20

func (c *Client) do(hc *http.Client, req *http.Request, endpoint string) ([]byte, *http.Response, error) {
	resp, err := hc.Do(req)
	if err != nil {
		// *url.Error names the method and URL (no secret: those travel in
		// headers and the body) and the cause.
		return nil, nil, fmt.Errorf("betting: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, fmt.Errorf("betting: %s: reading the answer: %w", endpoint, err)
	}
	return body, resp, nil
}

func isHTML(resp *http.Response, body []byte) bool {
	if strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		return true
	}
	b := bytes.TrimSpace(body)
	return len(b) > 0 && b[0] == '<'
}

// htmlDetail picks the recognisable sentence out of an identity error page,
// such as "Object moved to /#/error.html"; nothing else of the page is kept
// (it is not ours to echo).
func htmlDetail(body []byte) string {
	s := string(body)
	const marker = "Object moved to "
	if i := strings.Index(s, marker); i >= 0 {
		// "Object moved to <a href="/#/error.html">here</a>": report the
		// target page.
		rest := s[i+len(marker):]
		if j := strings.Index(rest, "href=\""); j >= 0 && j < 40 {
			rest = rest[j+len("href=\""):]
			if k := strings.IndexByte(rest, '"'); k > 0 && k < 100 {
				return marker + rest[:k]
			}
		}
	}
	if strings.Contains(s, "Object moved") {
		return "Object moved"
	}
	if i := strings.Index(strings.ToLower(s), "<title>"); i >= 0 {
		rest := s[i+len("<title>"):]
		if k := strings.Index(strings.ToLower(rest), "</title>"); k > 0 && k < 120 {
			return strings.TrimSpace(rest[:k])
		}
	}
	return ""
}

package esa

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tapedeck/tapedeck/internal/backoff"
)

// Request ids the client uses: one per request kind, so that a change
// message's id says which subscription it belongs to.
const (
	authID        = 1
	marketSubID   = 2
	orderSubID    = 3
	defaultHBMs   = 5000
	connectPeriod = 15 * time.Second // Betfair closes a connection idle this long before auth
)

// ClientConfig configures a Client. Addr, AppKey, Session and at least one
// subscription are required.
type ClientConfig struct {
	// Addr is the stream endpoint, "stream-api.betfair.com:443".
	Addr string
	// TLS, if set, is used as is. Otherwise the system roots verify the
	// server, plus the certificates in CAFile when set (for a private
	// endpoint such as `trade serve`).
	TLS    *tls.Config
	CAFile string

	// AppKey is the application key sent in authentication.
	AppKey string
	// Session returns the current session token; it is called on every
	// connect so that a token refreshed elsewhere (keep-alive) is used.
	Session func(ctx context.Context) (string, error)
	// Relogin, if set, is called when the server rejects the session
	// (INVALID_SESSION_INFORMATION, NO_SESSION); it should log in again so
	// that the next Session call returns a fresh token. Without it such a
	// rejection stops the client.
	Relogin func(ctx context.Context) error

	// Market and Order are the subscriptions; either may be nil. Their
	// InitialClk/Clk are managed by the client.
	Market *MarketSubscription
	Order  *OrderSubscription

	// Handler receives every line read, as its bytes without the line ending
	// and decoded. Both are valid only during the call. An error stops the
	// client. With WholeImages, the segments of an image are held back
	// until SEG_END and then handed over one by one, so that a connection
	// lost mid-image never delivers part of one.
	Handler     func(line []byte, m *Message) error
	WholeImages bool

	// MinBackoff and MaxBackoff bound the reconnect delay, which doubles per
	// failed attempt with jitter (defaults 500 ms and 30 s).
	MinBackoff, MaxBackoff time.Duration
	// LimitTries is how many connections in a row the server may refuse
	// with MAX_CONNECTION_LIMIT_EXCEEDED before Run gives up and returns
	// that *StatusError (default 5): the account's connections are taken,
	// and waiting rarely frees one.
	LimitTries int
	// Watchdog is how long the client waits for any line before it
	// reconnects; default twice the subscription's heartbeatMs.
	Watchdog time.Duration
	// MaxLine limits one line's length (DefaultMaxFrame when 0).
	MaxLine int
	// Logger receives connection events; secrets are never logged.
	Logger *slog.Logger
	// OnDisconnect, if set, is called on Run's goroutine each time a
	// connection that was made ends, before the back-off, with the reason:
	// every line of that connection has been handed to Handler by then,
	// and none of the next one has. A trader uses it to stop adding
	// exposure at once while its data is stale.
	OnDisconnect func(err error)
}

// StatusError is a FAILURE status from the server. Fatal ones stop the
// client: the user must change something (the app key, the subscription,
// the account's permissions) before trying again.
type StatusError struct {
	Code    string // errorCode, "SUBSCRIPTION_LIMIT_EXCEEDED"
	Message string // errorMessage
	ID      int64  // the request id the status answers
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("esa: stream status %s (request %d): %s", e.Code, e.ID, e.Message)
}

// Fatal reports whether retrying cannot help: the app key, permissions or
// subscription must be changed first.
func (e *StatusError) Fatal() bool {
	switch e.Code {
	case "SUBSCRIPTION_LIMIT_EXCEEDED", "INVALID_APP_KEY", "NO_APP_KEY", "NOT_AUTHORIZED":
		return true
	}
	return false
}

// ErrWatchdog is the reason for a reconnect when nothing arrived in time.
var ErrWatchdog = errors.New("esa: no message within the watchdog interval")

// Stats are the client's counters, for metrics.
type Stats struct {
	Messages   int64 // lines read
	Bytes      int64 // bytes read, line endings included
	Reconnects int64 // connections after the first
	Status503  int64 // change messages flagged status 503 (stale data)
	Conflated  int64 // market changes flagged con (conflated)
	Heartbeats int64 // ct HEARTBEAT messages
	Relogins   int64
}

// Client keeps one stream connection alive: it connects, authenticates,
// subscribes, reads, and after any failure reconnects with back-off and
// resubscribes from the last whole message's clock.
//
// Clocks and segments: a subscription's initialClk and clk are taken only
// from whole messages (unsegmented, or the SEG_END of a segmented one), as
// the specification says, so a resubscription never claims part of an image
// it did not finish. Lines are handed to the handler as they arrive, except
// that with ClientConfig.WholeImages the segments SEG_START..SEG_END are
// held (copied) and handed over together when SEG_END arrives; if the
// connection drops first they are discarded, and the resubscription, with
// the older clocks or none, brings a whole image again. A recorder sets
// WholeImages, so that it never writes part of an image as if it were whole.
//
// Status handling follows the specification: a change message with status
// 503 is counted and logged, not a disconnect; INVALID_SESSION_INFORMATION
// and NO_SESSION call Relogin, then reconnect; SUBSCRIPTION_LIMIT_EXCEEDED,
// INVALID_APP_KEY, NO_APP_KEY and NOT_AUTHORIZED stop Run with a
// *StatusError (Fatal); TOO_MANY_REQUESTS and MAX_CONNECTION_LIMIT_EXCEEDED
// reconnect after a longer back-off; INVALID_CLOCK drops the clocks and
// subscribes afresh; any other failure reconnects. MAX_CONNECTION_LIMIT_EXCEEDED
// on ClientConfig.LimitTries connections in a row stops Run with its
// *StatusError.
type Client struct {
	cfg ClientConfig
	log *slog.Logger
	tls *tls.Config

	messages, bytes, reconnects, s503, conflated, heartbeats, relogins atomic.Int64

	mu                 sync.Mutex // guards the clocks, read by Clocks from other goroutines
	mktInitial, mktClk string
	ordInitial, ordClk string
	connID             string
	dec                *Decoder
	msg                Message
	held               [][]byte // segments held back (WholeImages)
	fr                 *FrameReader
	mktHB, ordHB       int64 // heartbeatMs the server says it uses

	// conn is the connection in use (nil between connections), for
	// Heartbeat; wmu orders writes to it.
	connMu sync.Mutex
	conn   net.Conn
	wmu    sync.Mutex
}

// NewClient checks cfg and returns a client ready to Run.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Addr == "" || cfg.AppKey == "" || cfg.Session == nil {
		return nil, errors.New("esa: client needs Addr, AppKey and Session")
	}
	if cfg.Market == nil && cfg.Order == nil {
		return nil, errors.New("esa: client needs a market or an order subscription")
	}
	if cfg.Handler == nil {
		return nil, errors.New("esa: client needs a Handler")
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	if cfg.LimitTries <= 0 {
		cfg.LimitTries = 5
	}
	c := &Client{cfg: cfg, log: cfg.Logger, dec: NewDecoder()}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Market != nil {
		m := *cfg.Market
		m.Op, m.ID = OpMarketSubscription, marketSubID
		c.cfg.Market = &m
		c.mktInitial, c.mktClk = m.InitialClk, m.Clk
	}
	if cfg.Order != nil {
		o := *cfg.Order
		o.Op, o.ID = OpOrderSubscription, orderSubID
		c.cfg.Order = &o
		c.ordInitial, c.ordClk = o.InitialClk, o.Clk
	}
	var err error
	if c.tls, err = clientTLS(cfg); err != nil {
		return nil, err
	}
	return c, nil
}

// clientTLS builds the TLS configuration: verification always on, with the
// CA file's certificates trusted besides the system's.
func clientTLS(cfg ClientConfig) (*tls.Config, error) {
	if cfg.TLS != nil {
		return cfg.TLS.Clone(), nil
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("esa: stream address %q: %w", cfg.Addr, err)
	}
	t := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("esa: CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("esa: CA file %s: no PEM certificate in it", cfg.CAFile)
		}
		t.RootCAs = pool
	}
	return t, nil
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats {
	return Stats{
		Messages: c.messages.Load(), Bytes: c.bytes.Load(), Reconnects: c.reconnects.Load(),
		Status503: c.s503.Load(), Conflated: c.conflated.Load(), Heartbeats: c.heartbeats.Load(),
		Relogins: c.relogins.Load(),
	}
}

// MarketClocks returns the market subscription's initialClk and clk as of
// the last whole message ("" before any).
func (c *Client) MarketClocks() (initialClk, clk string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mktInitial, c.mktClk
}

// OrderClocks returns the order subscription's initialClk and clk.
func (c *Client) OrderClocks() (initialClk, clk string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ordInitial, c.ordClk
}

// errRelogin asks Run to log in again before the next connect.
type errRelogin struct{ st *StatusError }

func (e *errRelogin) Error() string { return e.st.Error() }

// errBackoff asks Run for a longer wait (TOO_MANY_REQUESTS and the like).
type errBackoff struct{ st *StatusError }

func (e *errBackoff) Error() string { return e.st.Error() }

// Run connects and reads until ctx is done (it then returns ctx.Err()), the
// handler fails, the server's certificate does not verify, or the server
// answers with a fatal status (a *StatusError whose Fatal is true) or
// rejects the session when no Relogin is set. Call it once.
func (c *Client) Run(ctx context.Context) error {
	attempt := 0
	relogged := false // the last connection followed a fresh login
	limited := 0      // connections refused in a row for the connection limit
	for first := true; ; first = false {
		if !first {
			c.reconnects.Add(1)
		}
		got, err := c.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var st *StatusError
		var hErr *handlerError
		var rl *errRelogin
		var bo *errBackoff
		switch {
		case errors.As(err, &hErr):
			return hErr.err
		case IsCertError(err):
			// The server's certificate does not verify: retrying cannot
			// help until the CA file (or the address) is fixed.
			return fmt.Errorf("%w (for a private endpoint such as trade serve, pass its certificate as the CA file)", err)
		case errors.As(err, &st) && st.Fatal():
			c.log.Error("stream refused", "code", st.Code, "message", st.Message)
			return st
		case errors.As(err, &rl):
			if c.cfg.Relogin == nil {
				return rl.st
			}
			if relogged && !got {
				// A fresh session was refused too: do not hammer the
				// identity service; wait as for any failure.
				if err := c.sleep(ctx, c.backoff(attempt)); err != nil {
					return err
				}
				attempt++
			}
			c.relogins.Add(1)
			c.log.Warn("stream session rejected; logging in again", "code", rl.st.Code)
			if lerr := c.cfg.Relogin(ctx); lerr != nil {
				return fmt.Errorf("esa: login again after %s: %w", rl.st.Code, errors.Join(lerr, rl.st))
			}
			relogged = true
			continue // a fresh session: connect at once
		case errors.As(err, &bo) && bo.st.Code == "MAX_CONNECTION_LIMIT_EXCEEDED":
			limited++
			if limited >= c.cfg.LimitTries {
				c.log.Error("stream refused: connection limit", "code", bo.st.Code, "tries", limited)
				return bo.st
			}
			attempt += 2
		case errors.As(err, &bo):
			attempt += 2 // a rate limit: wait longer than for a network error
		case got:
			attempt = 0 // the connection worked for a while: start over
		}
		relogged = false
		if !errors.As(err, &bo) || bo.st.Code != "MAX_CONNECTION_LIMIT_EXCEEDED" {
			limited = 0
		}
		d := c.backoff(attempt)
		attempt++
		c.log.Warn("stream disconnected; reconnecting", "err", err, "in", d)
		if err := c.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// IsCertError reports a failure to verify the server's certificate (an
// unknown or wrong CA, a name mismatch, an expired certificate): a setting
// to fix, which retrying cannot help.
func IsCertError(err error) bool {
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	var hn x509.HostnameError
	var tv *tls.CertificateVerificationError
	return errors.As(err, &ua) || errors.As(err, &ci) || errors.As(err, &hn) || errors.As(err, &tv)
}

// sleep waits d or until ctx ends.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	return backoff.Wait(ctx, d)
}

// backoff returns the wait before attempt n: MinBackoff doubled n times,
// capped at MaxBackoff, jittered down by up to half so that many clients
// cut off together do not reconnect together.
func (c *Client) backoff(n int) time.Duration {
	return backoff.Policy{Min: c.cfg.MinBackoff, Max: c.cfg.MaxBackoff}.Delay(n)
}

type handlerError struct{ err error }

func (e *handlerError) Error() string { return e.err.Error() }

// session runs one connection from dial to failure. got reports whether any
// change message arrived, which resets the back-off.
func (c *Client) session(ctx context.Context) (got bool, err error) {
	token, err := c.cfg.Session(ctx)
	if err != nil {
		return false, fmt.Errorf("esa: session token: %w", err)
	}
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}, Config: c.tls}
	conn, err := d.DialContext(ctx, "tcp", c.cfg.Addr)
	if err != nil {
		return false, fmt.Errorf("esa: connect %s: %w", c.cfg.Addr, err)
	}
	defer conn.Close()
	// Close the socket when ctx ends so that a blocked read returns.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c.held = c.held[:0] // segments of a lost connection are never delivered

	var out []byte
	out, _ = AppendRequest(out, Authentication{Op: OpAuthentication, ID: authID, AppKey: c.cfg.AppKey, Session: token})
	c.mu.Lock()
	if m := c.cfg.Market; m != nil {
		s := *m
		s.InitialClk, s.Clk = c.mktInitial, c.mktClk
		out, err = AppendRequest(out, s)
	}
	if o := c.cfg.Order; o != nil && err == nil {
		s := *o
		s.InitialClk, s.Clk = c.ordInitial, c.ordClk
		out, err = AppendRequest(out, s)
	}
	c.mu.Unlock()
	if err != nil {
		return false, err
	}
	c.wmu.Lock()
	_, err = conn.Write(out)
	c.wmu.Unlock()
	if err != nil {
		return false, fmt.Errorf("esa: send requests to %s: %w", c.cfg.Addr, err)
	}
	c.setConn(conn)
	defer func() {
		c.setConn(nil)
		if c.cfg.OnDisconnect != nil {
			c.cfg.OnDisconnect(err)
		}
	}()
	c.log.Info("stream connected", "addr", c.cfg.Addr, "market", c.cfg.Market != nil, "order", c.cfg.Order != nil)

	// The watchdog is a read deadline renewed before each read from the
	// socket: a read that returns bytes means something arrived. Until the
	// first change message it allows at least the server's own idle limit.
	wd := &watchdogReader{conn: conn, d: max(c.watchdog(), connectPeriod/2)}
	if c.fr == nil {
		c.fr = NewFrameReader(wd, c.cfg.MaxLine)
	}
	fr := c.fr
	fr.Reset(wd) // keeps the buffer grown for earlier images
	var counted int64
	for {
		if got {
			wd.d = c.watchdog()
		}
		line, err := fr.Next()
		c.bytes.Add(fr.Bytes() - counted)
		counted = fr.Bytes()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
				return got, ErrWatchdog
			}
			return got, fmt.Errorf("esa: read from %s: %w", c.cfg.Addr, err)
		}
		c.messages.Add(1)
		isChange, err := c.line(line)
		if err != nil {
			return got, err
		}
		got = got || isChange
	}
}

// watchdogReader renews the connection's read deadline before each read.
type watchdogReader struct {
	conn net.Conn
	d    time.Duration
}

func (w *watchdogReader) Read(p []byte) (int, error) {
	w.conn.SetReadDeadline(time.Now().Add(w.d))
	return w.conn.Read(p)
}

// watchdog is twice the heartbeat interval in force, unless set: each
// subscription promises a message at least every heartbeatMs (the value the
// server echoes in its image, else the one asked for, bounded to 500..5000
// as the server does, 5000 when none), so the connection hears something at
// least every shortest of them.
func (c *Client) watchdog() time.Duration {
	if c.cfg.Watchdog > 0 {
		return c.cfg.Watchdog
	}
	eff := func(asked, echoed int64) int64 {
		if echoed > 0 {
			return echoed
		}
		if asked <= 0 {
			return defaultHBMs
		}
		return min(max(asked, 500), 5000)
	}
	hb := int64(defaultHBMs)
	if c.cfg.Market != nil {
		hb = eff(c.cfg.Market.HeartbeatMs, c.mktHB)
	}
	if c.cfg.Order != nil {
		o := eff(c.cfg.Order.HeartbeatMs, c.ordHB)
		if c.cfg.Market == nil || o < hb {
			hb = o
		}
	}
	return 2 * time.Duration(hb) * time.Millisecond
}

// line handles one line: decodes it, acts on status and clocks, and hands
// it to the handler. isChange reports an mcm or ocm.
func (c *Client) line(line []byte) (isChange bool, err error) {
	m := &c.msg
	if err := c.dec.Decode(line, m); err != nil {
		// A line we cannot decode is still data: hand it over raw so that a
		// recorder keeps it, with the op unknown.
		c.log.Warn("stream line not decoded", "err", err, "bytes", len(line))
		m.Reset()
		return false, c.deliver(line, m)
	}
	switch m.Op {
	case OpConnection:
		c.connID = string(m.ConnectionID)
		c.log.Info("stream connection", "connectionId", c.connID)
	case OpStatus:
		if err := c.deliver(line, m); err != nil {
			return false, err
		}
		return false, c.status(m)
	case OpMCM, OpOCM:
		isChange = true
		if m.Status == 503 {
			c.s503.Add(1)
			c.log.Warn("stream data stale (status 503)", "op", m.Op.String())
		}
		// Betfair marks conflation on each market change ("con" in an mc
		// element); the message-level flag is counted when no element has it.
		con := 0
		for i := range m.MC {
			if m.MC[i].Con {
				con++
			}
		}
		if con == 0 && m.Con {
			con = 1
		}
		if con > 0 {
			c.conflated.Add(int64(con))
		}
		if m.Ct == ChangeTypeHeartbeat {
			c.heartbeats.Add(1)
		}
		if m.HeartbeatMs > 0 {
			if m.Op == OpMCM {
				c.mktHB = m.HeartbeatMs
			} else {
				c.ordHB = m.HeartbeatMs
			}
		}
		if c.cfg.WholeImages && (m.SegmentType == SegmentStart || m.SegmentType == Segment) {
			c.hold(line)
			return true, nil
		}
		if c.cfg.WholeImages && m.SegmentType == SegmentEnd && len(c.held) > 0 {
			// Copy this line too: replaying the held segments reuses the
			// decoder and so the Message m aliases.
			c.hold(line)
			err := c.release()
			c.clocks(m.Op, line)
			return true, err
		}
		if m.SegmentType == SegmentNone || m.SegmentType == SegmentEnd {
			c.setClocks(m)
		}
	}
	return isChange, c.deliver(line, m)
}

func (c *Client) deliver(line []byte, m *Message) error {
	if err := c.cfg.Handler(line, m); err != nil {
		return &handlerError{fmt.Errorf("esa: stream handler: %w", err)}
	}
	return nil
}

// hold keeps a copy of a segment line until its image is whole.
func (c *Client) hold(line []byte) {
	c.held = append(c.held, append([]byte(nil), line...))
}

// release hands the held segments to the handler, in order.
func (c *Client) release() error {
	held := c.held
	c.held = c.held[:0]
	for _, l := range held {
		if err := c.dec.Decode(l, &c.msg); err != nil {
			return fmt.Errorf("esa: re-decoding a held segment: %w", err)
		}
		if err := c.deliver(l, &c.msg); err != nil {
			return err
		}
	}
	return nil
}

// clocks re-reads the clocks of a whole message whose Message was
// overwritten (see line).
func (c *Client) clocks(_ Op, line []byte) {
	var m Message
	if NewDecoder().DecodeShallow(line, &m) == nil {
		c.setClocks(&m)
	}
}

// setClocks keeps the clocks of a whole message for resubscription.
func (c *Client) setClocks(m *Message) {
	if m.InitialClk == nil && m.Clk == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ini, clk := &c.mktInitial, &c.mktClk
	if m.Op == OpOCM {
		ini, clk = &c.ordInitial, &c.ordClk
	}
	if m.InitialClk != nil && !bytes.Equal([]byte(*ini), m.InitialClk) {
		*ini = string(m.InitialClk)
	}
	if m.Clk != nil {
		*clk = string(m.Clk)
	}
}

// status acts on a status message: a FAILURE ends the connection with an
// error saying what to do next.
func (c *Client) status(m *Message) error {
	if string(m.StatusCode) != "FAILURE" {
		return nil
	}
	st := &StatusError{Code: string(m.ErrorCode), Message: string(m.ErrorMessage), ID: m.ID}
	switch st.Code {
	case "INVALID_SESSION_INFORMATION", "NO_SESSION":
		return &errRelogin{st}
	case "TOO_MANY_REQUESTS", "MAX_CONNECTION_LIMIT_EXCEEDED":
		return &errBackoff{st}
	case "INVALID_CLOCK":
		// The clocks cannot be resumed from: start over with a new image.
		c.mu.Lock()
		c.mktInitial, c.mktClk, c.ordInitial, c.ordClk = "", "", "", ""
		c.mu.Unlock()
	}
	return st
}

// Package exchange is the local Betfair-compatible exchange behind `trade
// serve`: it replays tapes over the Exchange Stream API protocol (TLS,
// authentication, market subscription with filter, images, deltas,
// heartbeats, resubscription from a clock) and answers login and
// listMarketCatalogue over HTTPS, so that any stream client or recorder can
// be tested against real data with no Betfair account. Fault switches
// (dropped connections, 503 status, stalls, refused logins, subscription
// limit) let tests prove a client survives them.
package exchange

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tapedeck/tapedeck/tape"
)

// Config configures an Exchange. Tapes is required.
type Config struct {
	// Tapes are the inputs to replay: files, directories, globs, archives,
	// as every tapedeck command takes them. A file <market_id>.json among
	// them, beside a tape or in ../catalogues/ from it, is that market's
	// listMarketCatalogue entry.
	Tapes []string
	// Catalogues are more directories to look for <market_id>.json in.
	Catalogues []string
	// Addr is the stream's listen address; HTTPAddr the identity and betting
	// API's. Both default to "127.0.0.1:0" (a free port).
	Addr, HTTPAddr string
	// Speed is the replay speed: 1 is real time, 10 ten times faster, 0 as
	// fast as each client reads.
	Speed float64
	// CertFile is where the generated certificate (PEM) is written for
	// clients to trust; default cert.pem in a new temporary directory.
	CertFile string
	// AppKey, if set, is the only application key accepted.
	AppKey string
	// SegmentBytes is the size above which an image is split into
	// SEG_START..SEG_END messages for clients that enable segmentation;
	// default 256 KiB.
	SegmentBytes int
	// MarketLimit, if above 0, refuses (SUBSCRIPTION_LIMIT_EXCEEDED) a
	// subscription matching more markets, as Betfair does above an
	// account's limit (200 by default).
	MarketLimit int
	// IdleTimeout is how long a connection may stay without a subscription
	// before it is closed with TIMEOUT, as Betfair does after 15 s (the
	// default).
	IdleTimeout time.Duration
	// MaxConnections, if above 0, is how many authenticated stream
	// connections may be open at once; one more is refused with
	// MAX_CONNECTION_LIMIT_EXCEEDED (Betfair's default limit is 10 per app
	// key), and authentication answers say how many are left.
	MaxConnections int
	// Betting, when set, takes bets (trade serve --betting): the Betting
	// and Account APIs' order methods and an order stream made from its
	// ledger instead of the tapes' recorded order changes.
	Betting Betting
	// Lockstep makes the replay a deterministic clock: after each market
	// change message (the image included) a connection is sent nothing
	// more of the replay until the client answers with a heartbeat request
	// whose id is the number of order requests it has sent in all, and
	// until the betting API has received that many.
	Lockstep bool
	// Faults switch on misbehaviour for tests.
	Faults Faults
	// Logger receives connection events and warnings about bad input; nil
	// discards them.
	Logger *slog.Logger
	// Strict refuses tapes with a bad line, a cut or an unreadable input
	// (see tape.Rules); otherwise those are reported and skipped.
	Strict bool
	// Sources says how s3:// tapes are read.
	Sources tape.Sources
}

// Faults are the misbehaviours a test can ask for. Counts are of change
// messages (mcm/ocm lines, images and heartbeats included) sent by the whole
// exchange, so a test controls where in the stream a fault lands.
type Faults struct {
	// DropAfter closes the connection right after the Nth change message;
	// once, or after every Nth with DropEvery.
	DropAfter int
	DropEvery bool
	// Status503After sends one {"op":"mcm","id":...,"status":503} after the
	// Nth change message.
	Status503After int
	// StallAfter stops sending anything, heartbeats included, for StallFor
	// after the Nth change message (once).
	StallAfter int
	StallFor   time.Duration
	// RefuseLogin makes every login fail and the stream reject every
	// session (INVALID_SESSION_INFORMATION).
	RefuseLogin bool
	// SubscriptionLimit answers every market subscription with
	// SUBSCRIPTION_LIMIT_EXCEEDED.
	SubscriptionLimit bool
	// RefuseOrderResume answers an order subscription with a clock
	// INVALID_CLOCK, so the client must start again from a fresh image.
	RefuseOrderResume bool

	// The betting faults (with Betting). DropOrdersAfter closes a
	// connection with an order subscription right after the Nth order
	// change message it is sent (once).
	DropOrdersAfter int
	// StreamBeforeReply holds each order request's answer until every
	// order change made by then has been sent on the order stream.
	StreamBeforeReply bool
	// DropReplyAfter carries out the Nth order request (by arrival) and
	// drops its answer: the connection closes with no reply (once).
	DropReplyAfter int
	// APIError answers betting requests with this error instead:
	// TIMEOUT (an order request is carried out and answered with status
	// TIMEOUT; any other with TIMEOUT_ERROR), TOO_MANY_REQUESTS or
	// INVALID_SESSION_INFORMATION (nothing is done). It hits the
	// APIErrorAfter-th betting request (default the first), once, or with
	// APIErrorEvery every APIErrorAfter-th.
	APIError      string
	APIErrorAfter int
	APIErrorEvery bool
}

// Info is where an exchange listens, as written to `trade serve --info`.
type Info struct {
	Stream   string `json:"stream"`   // host:port of the stream API
	Identity string `json:"identity"` // base URL of login: Identity+"/api/login"
	Betting  string `json:"betting"`  // base URL of the betting API: Betting+"/exchange/betting/json-rpc/v1"
	CA       string `json:"ca"`       // PEM file of the certificate to trust
}

// Exchange is a running local exchange. It listens from New on, serves from
// Serve (called once) until its context ends, and is safe for concurrent
// use.
type Exchange struct {
	cfg      Config
	log      *slog.Logger
	replay   *replay
	tls      *tls.Config
	certPath string
	tmpDir   string
	streamLn net.Listener
	httpLn   net.Listener
	start    time.Time // the replay clock's zero (Speed > 0)

	sent                       atomic.Int64 // change messages sent, for faults
	open                       atomic.Int64 // authenticated stream connections
	did503, didStall, didDrop  atomic.Bool
	connSeq                    atomic.Int64
	mu                         sync.Mutex
	sessions                   map[string]bool
	conns                      sync.WaitGroup
	connected, served, dropped atomic.Int64

	// The betting side: every order request received (for lockstep), the
	// count of all betting requests, and which replayed changes the
	// ledger has been handed (betNext: the first of those not all before
	// it are; betDone: changes handed early, for images).
	recv        received
	betRequests atomic.Int64
	betMu       sync.Mutex
	betNext     int
	betDone     []bool
	wakeMu      sync.Mutex
	wake        chan struct{}
	// Fault state: order requests seen, whether the one-off faults have
	// fired, and how far the order stream has been sent (the most any
	// connection has sent).
	orderSeq                        atomic.Int64
	didDropReply, didAPIErr, didOrd atomic.Bool
	ordSent                         received
	ordersSentAll                   atomic.Int64
	// acks counts lockstep heartbeats that released a change; an order
	// request's answer waits for the next one (see betCall).
	acks       received
	replayDone atomic.Bool
}

// New loads the tapes, generates the certificate and opens both listeners,
// so Addr and Info are valid before Serve is called.
func New(cfg Config) (*Exchange, error) {
	if len(cfg.Tapes) == 0 {
		return nil, errors.New("exchange: no tapes to serve")
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	if cfg.Speed < 0 {
		return nil, fmt.Errorf("exchange: speed %v is negative", cfg.Speed)
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 15 * time.Second
	}
	if cfg.SegmentBytes <= 0 {
		cfg.SegmentBytes = 256 << 10
	}
	e := &Exchange{cfg: cfg, log: cfg.Logger, sessions: map[string]bool{}}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if e.replay, err = loadReplay(context.Background(), &cfg); err != nil {
		return nil, err
	}
	e.certPath = cfg.CertFile
	if e.certPath == "" {
		if e.tmpDir, err = os.MkdirTemp("", "tapedeck-exchange-"); err != nil {
			return nil, fmt.Errorf("exchange: %w", err)
		}
		e.certPath = filepath.Join(e.tmpDir, "cert.pem")
	}
	cert, err := newCertificate(e.certPath)
	if err != nil {
		e.cleanup()
		return nil, err
	}
	// Certificate login presents a client certificate; any is accepted
	// (this exchange has no accounts), so it is requested, not verified.
	e.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
		ClientAuth: tls.RequestClientCert}
	if e.streamLn, err = net.Listen("tcp", cfg.Addr); err != nil {
		e.cleanup()
		return nil, fmt.Errorf("exchange: stream listen %s: %w", cfg.Addr, err)
	}
	if e.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		e.streamLn.Close()
		e.cleanup()
		return nil, fmt.Errorf("exchange: https listen %s: %w", cfg.HTTPAddr, err)
	}
	e.betDone = make([]bool, len(e.replay.events))
	e.start = time.Now()
	return e, nil
}

func (e *Exchange) cleanup() {
	if e.tmpDir != "" {
		os.RemoveAll(e.tmpDir)
	}
}

// Addr returns the stream's address, "127.0.0.1:PORT".
func (e *Exchange) Addr() string { return e.streamLn.Addr().String() }

// HTTPAddr returns the identity and betting API's address.
func (e *Exchange) HTTPAddr() string { return e.httpLn.Addr().String() }

// CAFile returns the path of the certificate clients should trust.
func (e *Exchange) CAFile() string { return e.certPath }

// Info returns the addresses and certificate path.
func (e *Exchange) Info() Info {
	base := "https://" + e.HTTPAddr()
	return Info{Stream: e.Addr(), Identity: base, Betting: base, CA: e.certPath}
}

// WriteInfo writes Info as JSON to path (atomically: a reader polling for
// the file never sees half of it).
func (e *Exchange) WriteInfo(path string) error {
	b, err := json.Marshal(e.Info())
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("exchange: info file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("exchange: info file: %w", err)
	}
	return nil
}

// Markets returns how many markets and market changes the tapes hold.
func (e *Exchange) Markets() (markets, changes int) {
	return len(e.replay.markets), len(e.replay.events)
}

// NewSession issues a session token as a successful login would, for tests
// that skip the login call.
func (e *Exchange) NewSession() string {
	var b [16]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	e.mu.Lock()
	e.sessions[tok] = true
	e.mu.Unlock()
	return tok
}

func (e *Exchange) validSession(tok string) bool {
	if e.cfg.Faults.RefuseLogin {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sessions[tok]
}

func (e *Exchange) endSession(tok string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	ok := e.sessions[tok]
	delete(e.sessions, tok)
	return ok
}

// Serve accepts connections until ctx ends, then closes the listeners and
// every connection, waits for them, and returns nil.
func (e *Exchange) Serve(ctx context.Context) error {
	defer e.cleanup()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &http.Server{Handler: e.httpHandler(), ErrorLog: slog.NewLogLogger(e.log.Handler(), slog.LevelDebug),
		ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(tls.NewListener(e.httpLn, e.tls)) }()
	go func() {
		<-ctx.Done()
		e.streamLn.Close()
		shut, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		srv.Shutdown(shut)
	}()
	e.log.Info("exchange serving", "stream", e.Addr(), "https", e.HTTPAddr(), "ca", e.certPath,
		"markets", len(e.replay.markets), "changes", len(e.replay.events), "speed", e.cfg.Speed)
	var err error
	for {
		var c net.Conn
		c, err = e.streamLn.Accept()
		if err != nil {
			break
		}
		e.conns.Add(1)
		go func() {
			defer e.conns.Done()
			e.serveConn(ctx, tls.Server(c, e.tls))
		}()
	}
	stopped := ctx.Err() != nil
	cancel()
	e.conns.Wait()
	herr := <-httpDone
	if stopped {
		if herr != nil && !errors.Is(herr, http.ErrServerClosed) {
			return fmt.Errorf("exchange: https: %w", herr)
		}
		return nil
	}
	return fmt.Errorf("exchange: accept: %w", err)
}

// Close releases an exchange that will not be served: it closes the
// listeners and removes the temporary certificate. Serve does this itself
// when its context ends.
func (e *Exchange) Close() error {
	e.streamLn.Close()
	e.httpLn.Close()
	e.cleanup()
	return nil
}

// Stats are the exchange's counters.
type Stats struct {
	Connections int64 // stream connections accepted
	Changes     int64 // change messages sent
	Dropped     int64 // connections dropped by the DropAfter fault
	// BettingRequests counts every Betting and Account API call but
	// listMarketCatalogue; OrderRequests the distinct order requests
	// (placeOrders, cancelOrders, replaceOrders, updateOrders) queued.
	BettingRequests int64
	OrderRequests   int64
}

// Stats returns the counters.
func (e *Exchange) Stats() Stats {
	return Stats{Connections: e.connected.Load(), Changes: e.sent.Load(), Dropped: e.dropped.Load(),
		BettingRequests: e.betRequests.Load(), OrderRequests: e.recv.count()}
}

// Package recorder turns a live Exchange Stream into per-market tapes: each
// market change is appended, byte for byte as received, to its market's tape
// in a spool directory; a tape whose market has closed (or gone quiet) is
// compressed and uploaded to a store with its catalogue, and leaves the
// spool only once the store has confirmed the object whole.
//
// The spool holds three directories:
//
//	open/     tapes still being written: <market_id>.jsonl (orders:
//	          <market_id>.orders.jsonl), and <market_id>.json catalogues
//	closed/   tapes waiting for upload, with their catalogues
//	done/     an empty <market_id> marker per uploaded market, so that a
//	          restart does not start a second tape for a market already
//	          shipped (a resubscription image repeats closed markets)
//	quarantine/stream.jsonl
//	          what the stream sent that names no valid market (an id not
//	          of Betfair's form, a line that did not decode): kept, never
//	          uploaded, never used as a path
//	lock      flocked by the recorder using the spool; holds its pid
//
// A restart resumes appending to the tapes in open/; the first line after a
// restart is the resubscription's image, which resets the market for any
// reader, as in every tape.
package recorder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/store"
)

// Defaults for Config's zero values.
const (
	DefaultSync         = time.Second
	DefaultCloseGrace   = 10 * time.Second
	DefaultMarketExpiry = 6 * time.Hour
	DefaultLayout       = "{event_type_id}/{yyyy}/{mm}/{dd}/{event_id}/{market_id}.jsonl.zst"
	DefaultOrdersLayout = "orders/{yyyy}/{mm}/{dd}/{market_id}.orders.jsonl.zst"
)

// CatalogueFunc fetches the catalogues of some markets, returning each
// market's JSON (as listMarketCatalogue sent it) by market id. Markets it
// does not know are left out.
type CatalogueFunc func(ctx context.Context, marketIDs []string) (map[string][]byte, error)

// Config configures a Recorder. Spool and Store are required.
type Config struct {
	// Spool is the directory holding open and closed tapes.
	Spool string
	// Store and Prefix are where closed tapes go: key Prefix+layout.
	Store  store.Store
	Prefix string
	// Layout is the key template of a market tape (DefaultLayout); see
	// Expand for its placeholders. OrdersLayout is that of order tapes.
	Layout, OrdersLayout string
	// Compress is "zstd" (default), "gzip" or "none".
	Compress string
	// Sync is how often buffered lines are written and fsynced.
	Sync time.Duration
	// CloseGrace is how long after a CLOSED definition a tape stays open
	// for late changes (settlement, BSP reconciliation).
	CloseGrace time.Duration
	// MarketExpiry closes a tape that has had no change for this long.
	MarketExpiry time.Duration
	// Orders records the order stream too.
	Orders bool
	// Catalogue, if set, fetches catalogues when a market's definition
	// version changes; otherwise catalogues are built from definitions.
	Catalogue CatalogueFunc
	// Upload retries: the delay doubles from MinBackoff to MaxBackoff, jittered
	// (defaults 1 s and 2 min). Attempts bounds the tries per tape in
	// UploadClosed (0: until the context ends).
	MinBackoff, MaxBackoff time.Duration
	Attempts               int
	// Rescan is how often Run's uploader looks in closed/ for tapes it has
	// not stored yet (queued when the queue was full, or given up on for a
	// while); default a minute.
	Rescan time.Duration
	// Now is the clock (time.Now); tests drive it.
	Now func() time.Time
	// OpenFile opens spool files (append); tests make it fail.
	OpenFile OpenFunc
	// Metrics receives counters; nil makes a private set.
	Metrics *Metrics
	// Logger receives tape and upload events.
	Logger *slog.Logger
}

// Recorder writes stream lines into tapes. Handle may be called from several
// stream connections at once.
type Recorder struct {
	cfg Config
	log *slog.Logger
	m   *Metrics
	up  *uploader

	mu      sync.Mutex
	tapes   map[string]*tape // key: market id, or market id + ".orders"
	late    map[string]bool  // markets closed or uploaded: later changes are counted, not written
	pending map[string]bool  // markets whose catalogue should be fetched
	err     error            // the first spool error; Handle returns it from then on
	queue   chan string      // closed tape paths for the uploader

	spoolDir *os.File // held open for syncfs
	lock     *os.File // the spool's lock file, flocked until Shutdown

	quar        File  // the quarantine file, opened at its first line
	quarantined int64 // lines written to it by this run
}

// unlock releases the spool for another recorder.
func (r *Recorder) unlock() {
	if r.lock != nil {
		r.lock.Close()
		r.lock = nil
	}
}

// New opens the spool (creating it), locks it against a second recorder
// (a *LockedError names the holder), resumes its open tapes and returns a
// recorder. Shutdown releases the lock.
func New(cfg Config) (*Recorder, error) {
	if cfg.Spool == "" {
		return nil, errors.New("recorder: no spool directory")
	}
	if cfg.Store == nil {
		return nil, errors.New("recorder: no destination store")
	}
	if cfg.Layout == "" {
		cfg.Layout = DefaultLayout
	}
	if cfg.OrdersLayout == "" {
		cfg.OrdersLayout = DefaultOrdersLayout
	}
	for _, l := range []string{cfg.Layout, cfg.OrdersLayout} {
		if err := CheckLayout(l); err != nil {
			return nil, err
		}
	}
	if _, err := suffixFor(cfg.Compress); err != nil {
		return nil, err
	}
	if cfg.Sync <= 0 {
		cfg.Sync = DefaultSync
	}
	if cfg.CloseGrace <= 0 {
		cfg.CloseGrace = DefaultCloseGrace
	}
	if cfg.MarketExpiry <= 0 {
		cfg.MarketExpiry = DefaultMarketExpiry
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.Rescan <= 0 {
		cfg.Rescan = time.Minute
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 2 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OpenFile == nil {
		cfg.OpenFile = openAppend
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Spool, 0o755); err != nil {
		return nil, fmt.Errorf("recorder: spool: %w", err)
	}
	lock, err := lockSpool(cfg.Spool)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"open", "closed", "done"} {
		if err := os.MkdirAll(filepath.Join(cfg.Spool, d), 0o755); err != nil {
			lock.Close()
			return nil, fmt.Errorf("recorder: spool: %w", err)
		}
	}
	r := &Recorder{lock: lock,
		cfg: cfg, log: cfg.Logger, m: cfg.Metrics,
		tapes: map[string]*tape{}, late: map[string]bool{}, pending: map[string]bool{},
		queue: make(chan string, 1<<16),
	}
	r.up = &uploader{cfg: &r.cfg, log: r.log, m: r.m}
	sd, err := os.Open(filepath.Join(cfg.Spool, "open"))
	if err != nil {
		r.unlock()
		return nil, fmt.Errorf("recorder: spool: %w", err)
	}
	r.spoolDir = sd
	r.m.openGauge = r.openCount
	if err := r.resume(); err != nil {
		r.Shutdown()
		return nil, err
	}
	return r, nil
}

// Metrics returns the recorder's metrics.
func (r *Recorder) Metrics() *Metrics { return r.m }

func (r *Recorder) openCount() (markets, bytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.tapes {
		if !t.orders {
			markets++
		}
		bytes += t.size + int64(len(t.buf))
	}
	return markets, bytes
}

// resume reopens the tapes left in open/ by an earlier run, cutting any
// half-written last line, and notes the markets already closed or shipped.
func (r *Recorder) resume() error {
	open := filepath.Join(r.cfg.Spool, "open")
	ents, err := os.ReadDir(open)
	if err != nil {
		return fmt.Errorf("recorder: spool: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".jsonl") {
			// A catalogue fetched just as its tape closed, or a temporary
			// file of an interrupted write: nothing to resume.
			if base, ok := strings.CutSuffix(name, ".json"); ok {
				if _, err := os.Stat(filepath.Join(open, base+".jsonl")); err == nil {
					continue
				}
			}
			os.Remove(filepath.Join(open, name))
			continue
		}
		path := filepath.Join(open, name)
		size, err := repairTail(path)
		if err != nil {
			return fmt.Errorf("recorder: resuming %s: %w", path, err)
		}
		f, err := r.cfg.OpenFile(path)
		if err != nil {
			return &SpoolError{Path: path, Op: "open", Err: err}
		}
		base := strings.TrimSuffix(name, ".jsonl")
		t := &tape{path: path, f: f, size: size, resumedSize: size, last: r.cfg.Now()}
		if st, err := os.Stat(path); err == nil {
			t.last = st.ModTime()
		}
		t.id, t.orders = strings.CutSuffix(base, ".orders")
		r.tapes[base] = t
		r.log.Info("resuming tape", "market", t.id, "orders", t.orders, "bytes", size)
	}
	for _, d := range []string{"closed", "done"} {
		ents, err := os.ReadDir(filepath.Join(r.cfg.Spool, d))
		if err != nil {
			return fmt.Errorf("recorder: spool: %w", err)
		}
		for _, e := range ents {
			if id, ok := strings.CutSuffix(e.Name(), ".jsonl"); ok || d == "done" {
				if !ok {
					id = e.Name()
				}
				r.late[id] = true
				if d == "done" {
					// Markers older than a week guard nothing any more: no
					// resubscription image repeats a market that long.
					if info, err := e.Info(); err == nil && r.cfg.Now().Sub(info.ModTime()) > 7*24*time.Hour {
						os.Remove(filepath.Join(r.cfg.Spool, d, e.Name()))
					}
				}
				if d == "closed" {
					if info, err := e.Info(); err == nil {
						r.m.closedBytes.Add(info.Size())
					}
					select {
					case r.queue <- filepath.Join(r.cfg.Spool, d, e.Name()):
					default: // the uploader's periodic scan finds it
					}
				}
			}
		}
	}
	return nil
}

// Handle records one stream line: raw is the line as received, m its
// decoding. Market changes go to their markets' tapes (order changes too
// with Config.Orders); other messages are only counted. It returns an error
// once the spool cannot be written, and from then on.
func (r *Recorder) Handle(ctx context.Context, raw []byte, m *esa.Message) error {
	now := r.cfg.Now()
	r.m.Messages.Add(1)
	r.m.Bytes.Add(int64(len(raw)) + 2)
	switch m.Op {
	case esa.OpMCM:
		if m.Status == 503 {
			r.m.Status503.Add(1)
		}
	case esa.OpOCM:
		if !r.cfg.Orders {
			return nil
		}
	case esa.OpUnknown:
		// A line the stream client could not decode (a change without a
		// market id, say) belongs to no tape but is still data.
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.err != nil {
			return r.err
		}
		return r.quarantine(append(append([]byte(nil), raw...), '\n'), "line not decoded")
	default:
		return nil
	}
	if m.Con {
		r.m.Conflated.Add(1)
	}
	if m.Pt > 0 && (len(m.MC) > 0 || len(m.OC) > 0) {
		r.m.Latency.Observe(float64(now.UnixMilli()-m.Pt) / 1000)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	for i := range m.MC {
		mc := &m.MC[i]
		if !esa.ValidMarketID(mc.ID) {
			if err := r.quarantine(appendLine(nil, "mcm", m, mc.Raw), "market id "+quoteID(mc.ID)); err != nil {
				return err
			}
			continue
		}
		if err := r.write(now, string(mc.ID), false, "mcm", m, mc.Raw, mc.Def, false); err != nil {
			return err
		}
	}
	for i := range m.OC {
		oc := &m.OC[i]
		if !esa.ValidMarketID(oc.ID) {
			if err := r.quarantine(appendLine(nil, "ocm", m, oc.Raw), "order market id "+quoteID(oc.ID)); err != nil {
				return err
			}
			continue
		}
		if err := r.write(now, string(oc.ID), true, "ocm", m, oc.Raw, nil, oc.Closed); err != nil {
			return err
		}
	}
	return nil
}

// quarantineName is the spool file holding what the stream sent that
// belongs to no tape: changes whose market id is not of Betfair's form (it
// would name a file, and "../../x" one outside the spool) and lines the
// client could not decode. It is never uploaded and never deleted.
const quarantineName = "quarantine/stream.jsonl"

// quarantine appends line (newline-terminated) to the quarantine file and
// logs why. r.mu is held.
func (r *Recorder) quarantine(line []byte, why string) error {
	path := filepath.Join(r.cfg.Spool, quarantineName)
	if r.quar == nil {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			r.err = &SpoolError{Path: path, Market: "quarantine", Op: "open", Err: err}
			return r.err
		}
		f, err := r.cfg.OpenFile(path)
		if err != nil {
			r.err = &SpoolError{Path: path, Market: "quarantine", Op: "open", Err: err}
			return r.err
		}
		r.quar = f
	}
	if _, err := r.quar.Write(line); err != nil {
		r.err = &SpoolError{Path: path, Market: "quarantine", Op: "write", Err: err}
		return r.err
	}
	r.quarantined++
	r.log.Warn("stream line kept in quarantine: it names no valid market", "why", why, "file", path, "quarantined", r.quarantined)
	return nil
}

// quoteID quotes an id from the stream for a log line, shortened: it may
// be anything, of any length.
func quoteID(id []byte) string {
	const max = 64
	if len(id) > max {
		return strconv.Quote(string(id[:max])) + "..."
	}
	return strconv.Quote(string(id))
}

// write appends one line to a tape, opening the tape if needed. r.mu is held.
func (r *Recorder) write(now time.Time, id string, orders bool, op string, m *esa.Message, raw []byte, def *esa.MarketDefinition, ordersClosed bool) error {
	key := id
	if orders {
		key += ".orders"
	}
	t := r.tapes[key]
	if t == nil {
		if r.late[key] {
			r.m.Late.Add(1)
			return nil
		}
		path := filepath.Join(r.cfg.Spool, "open", key+".jsonl")
		f, err := r.cfg.OpenFile(path)
		if err != nil {
			r.err = &SpoolError{Path: path, Market: id, Op: "open", Err: err}
			return r.err
		}
		t = &tape{id: id, orders: orders, path: path, f: f}
		r.tapes[key] = t
		r.log.Info("tape opened", "market", id, "orders", orders)
	}
	t.last = now
	if t.firstPt == 0 {
		t.firstPt = m.Pt
	}
	r.m.Changes.Add(1)
	t.buf = appendLine(t.buf, op, m, raw)
	if def != nil {
		t.def = def
		if def.Version != t.version {
			t.version = def.Version
			if r.cfg.Catalogue != nil {
				r.pending[id] = true
			}
		}
		if def.Status == "CLOSED" {
			if t.closeAt.IsZero() {
				t.closeAt = now.Add(r.cfg.CloseGrace)
			}
		} else {
			t.closeAt = time.Time{}
		}
	}
	if ordersClosed && t.closeAt.IsZero() {
		// The order stream's "closed": the market is closed, no more orders.
		t.closeAt = now.Add(r.cfg.CloseGrace)
	}
	if len(t.buf) >= flushAt {
		if err := t.flush(); err != nil {
			r.err = err
			return err
		}
	}
	return nil
}

// Tick writes and fsyncs every tape's buffered lines and closes the tapes
// that are due (CLOSED plus the grace, or idle past the expiry), queueing
// them for upload. Run calls it every Config.Sync.
func (r *Recorder) Tick(ctx context.Context) error {
	now := r.cfg.Now()
	r.mu.Lock()
	if r.err != nil {
		r.mu.Unlock()
		return r.err
	}
	var dirty, due []*tape
	for key, t := range r.tapes {
		if err := t.flush(); err != nil {
			r.err = err
			r.mu.Unlock()
			return err
		}
		if t.dirty {
			// Cleared now, under the lock; a line appended while the sync
			// below runs marks the tape dirty again for the next tick.
			t.dirty = false
			dirty = append(dirty, t)
		}
		if (!t.closeAt.IsZero() && !now.Before(t.closeAt)) || now.Sub(t.last) >= r.cfg.MarketExpiry {
			due = append(due, t)
			delete(r.tapes, key)
			r.late[key] = true
		}
	}
	r.mu.Unlock()
	// fsync outside the lock so that the stream is not held up by the disk;
	// only this goroutine closes tapes, so the files stay open meanwhile.
	if err := r.syncTapes(dirty); err != nil {
		r.fail(err)
		return err
	}
	sort.Slice(due, func(i, j int) bool { return due[i].path < due[j].path })
	for _, t := range due {
		reason := "expired"
		if !t.closeAt.IsZero() && !now.Before(t.closeAt) {
			reason = "market closed"
		}
		if err := r.closeTape(t, reason); err != nil {
			r.fail(err)
			return err
		}
	}
	return nil
}

// syncMany is the number of dirty tapes from which one syncfs of the spool's
// filesystem is cheaper than an fsync each.
const syncMany = 8

// syncTapes makes the tapes' written lines durable.
func (r *Recorder) syncTapes(dirty []*tape) error {
	if len(dirty) >= syncMany && r.spoolDir != nil {
		if ok, err := syncFS(r.spoolDir); ok {
			if err != nil {
				return &SpoolError{Path: r.cfg.Spool, Market: fmt.Sprintf("%d open", len(dirty)), Op: "sync", Err: err}
			}
			return nil
		}
	}
	for _, t := range dirty {
		if err := t.f.Sync(); err != nil {
			return &SpoolError{Path: t.path, Market: t.id, Op: "sync", Err: err}
		}
	}
	return nil
}

func (r *Recorder) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
}

// closeTape moves a finished tape (and its catalogue) to closed/ and queues
// it for upload.
func (r *Recorder) closeTape(t *tape, reason string) error {
	if err := t.flush(); err != nil {
		return err
	}
	if err := t.sync(); err != nil {
		return err
	}
	if err := t.f.Close(); err != nil {
		return &SpoolError{Path: t.path, Market: t.id, Op: "close", Err: err}
	}
	closed := filepath.Join(r.cfg.Spool, "closed", filepath.Base(t.path))
	closedBase := strings.TrimSuffix(closed, ".jsonl")
	if !t.orders {
		cat := strings.TrimSuffix(t.path, ".jsonl") + ".json"
		if _, err := os.Stat(cat); err == nil {
			if err := os.Rename(cat, closedBase+".json"); err != nil {
				return &SpoolError{Path: cat, Market: t.id, Op: "close", Err: err}
			}
		} else if t.def != nil {
			if b, err := CatalogueFromDefinition(t.id, t.def); err == nil {
				if err := writeFileAtomic(closedBase+".json", b); err != nil {
					return &SpoolError{Path: closedBase + ".json", Market: t.id, Op: "close", Err: err}
				}
			}
		}
	}
	if t.def != nil || t.firstPt != 0 {
		// The sidecar spares the uploader reading the tape for its key. A
		// tape resumed after a restart without a definition since has
		// none, and the uploader reads the tape instead.
		info := TapeInfo{MarketID: t.id, Def: t.def, FirstPt: t.firstPt}
		info.fill()
		if t.def != nil || t.resumedSize == 0 {
			b, _ := json.Marshal(metaOf(info))
			if err := writeFileAtomic(closedBase+".meta", b); err != nil {
				return &SpoolError{Path: closedBase + ".meta", Market: t.id, Op: "close", Err: err}
			}
		}
	}
	if err := os.Rename(t.path, closed); err != nil {
		return &SpoolError{Path: t.path, Market: t.id, Op: "close", Err: err}
	}
	syncDir(filepath.Dir(t.path))
	syncDir(filepath.Dir(closed))
	r.log.Info("tape closed", "market", t.id, "orders", t.orders, "reason", reason, "bytes", t.size)
	r.m.closedBytes.Add(t.size)
	select {
	case r.queue <- closed:
	default: // the uploader's next scan of closed/ finds it
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Shutdown writes and fsyncs every open tape and closes its file, leaving it
// in open/ for the next run to resume. Call it once the stream has stopped;
// the recorder takes no more lines after it.
func (r *Recorder) Shutdown() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first error
	var dirty []*tape
	for _, t := range r.tapes {
		if err := t.flush(); err != nil && first == nil {
			first = err
		}
		if t.dirty {
			dirty = append(dirty, t)
		}
	}
	if err := r.syncTapes(dirty); err != nil && first == nil {
		first = err
	}
	for _, t := range r.tapes {
		if err := t.f.Close(); err != nil && first == nil {
			first = &SpoolError{Path: t.path, Market: t.id, Op: "close", Err: err}
		}
	}
	r.tapes = map[string]*tape{}
	if r.quar != nil {
		if err := r.quar.Sync(); err != nil && first == nil {
			first = &SpoolError{Path: filepath.Join(r.cfg.Spool, quarantineName), Market: "quarantine", Op: "sync", Err: err}
		}
		r.quar.Close()
		r.quar = nil
	}
	if r.err == nil {
		r.err = errors.New("recorder: shut down")
	}
	if r.spoolDir != nil {
		r.spoolDir.Close()
		r.spoolDir = nil
	}
	r.unlock()
	return first
}

// CloseAll closes every open tape now, as if each had expired: what
// `record flush` does before uploading.
func (r *Recorder) CloseAll() error {
	r.mu.Lock()
	ts := make([]*tape, 0, len(r.tapes))
	for key, t := range r.tapes {
		ts = append(ts, t)
		delete(r.tapes, key)
		r.late[key] = true
	}
	r.mu.Unlock()
	for _, t := range ts {
		if err := r.closeTape(t, "flush"); err != nil {
			return err
		}
	}
	return nil
}

// Run ticks every Config.Sync, fetches catalogues and uploads closed tapes
// (retrying with back-off) until ctx ends, then writes and fsyncs every open
// tape (Shutdown) and returns nil. A spool error stops it and is returned.
func (r *Recorder) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.uploadLoop(ctx)
	}()
	if r.cfg.Catalogue != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.catalogueLoop(ctx)
		}()
	}
	t := time.NewTicker(r.cfg.Sync)
	defer t.Stop()
	var err error
	for err == nil {
		select {
		case <-ctx.Done():
		case <-t.C:
			err = r.Tick(ctx)
			continue
		}
		break
	}
	cancel()
	wg.Wait()
	if serr := r.Shutdown(); err == nil {
		err = serr
	}
	return err
}

// loopAttempts bounds the tries of one tape in a row in Run's uploader, so
// that a tape the store keeps refusing does not hold up the others; the
// periodic scan of closed/ comes back to it.
const loopAttempts = 8

// uploadLoop uploads closed tapes as they are queued, and every
// Config.Rescan whatever closed/ still holds, until ctx ends.
func (r *Recorder) uploadLoop(ctx context.Context) {
	t := time.NewTicker(r.cfg.Rescan)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case path := <-r.queue:
			if _, err := os.Stat(path); err != nil {
				continue // uploaded already (queued twice)
			}
			_ = r.up.uploadRetry(ctx, path, loopAttempts)
		case <-t.C:
			dir := filepath.Join(r.cfg.Spool, "closed")
			ents, err := os.ReadDir(dir)
			if err != nil {
				r.log.Error("reading the spool", "dir", dir, "err", err)
				continue
			}
			for _, e := range ents {
				if ctx.Err() != nil {
					return
				}
				if strings.HasSuffix(e.Name(), ".jsonl") {
					_ = r.up.uploadRetry(ctx, filepath.Join(dir, e.Name()), loopAttempts)
				}
			}
		}
	}
}

// UploadClosed uploads every tape in closed/, each tried up to
// Config.Attempts times (0: until ctx ends). It returns how many were
// stored and the errors of those that were not.
func (r *Recorder) UploadClosed(ctx context.Context) (int, error) {
	return r.up.uploadDir(ctx, filepath.Join(r.cfg.Spool, "closed"))
}

// catalogueLoop fetches the catalogues of markets whose definition changed
// version, every sync tick, in batches.
func (r *Recorder) catalogueLoop(ctx context.Context) {
	t := time.NewTicker(r.cfg.Sync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.FetchCatalogues(ctx)
	}
}

// catalogueBatch keeps a listMarketCatalogue request with every projection
// inside Betfair's request weight limit.
const catalogueBatch = 25

// FetchCatalogues fetches the catalogues that are due and stores each beside
// its open tape as <market_id>.json. Failures are logged: the definition
// still gives a catalogue at upload.
func (r *Recorder) FetchCatalogues(ctx context.Context) {
	r.mu.Lock()
	ids := make([]string, 0, len(r.pending))
	for id := range r.pending {
		ids = append(ids, id)
	}
	clear(r.pending)
	r.mu.Unlock()
	sort.Strings(ids)
	for len(ids) > 0 {
		n := min(len(ids), catalogueBatch)
		batch := ids[:n]
		ids = ids[n:]
		got, err := r.cfg.Catalogue(ctx, batch)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.Warn("listMarketCatalogue failed; will use the market definition", "markets", len(batch), "err", err)
			continue
		}
		for id, js := range got {
			r.mu.Lock()
			_, open := r.tapes[id]
			r.mu.Unlock()
			if !open {
				continue
			}
			path := filepath.Join(r.cfg.Spool, "open", id+".json")
			if err := writeFileAtomic(path, js); err != nil {
				r.log.Warn("writing catalogue", "market", id, "err", err)
			}
		}
	}
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

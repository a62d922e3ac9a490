package recorder

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/internal/backoff"
)

// placeholders are the names a layout may use.
var placeholders = []string{"event_type_id", "event_id", "market_id", "market_type", "country_code", "yyyy", "mm", "dd"}

// CheckLayout reports a layout that uses an unknown placeholder.
func CheckLayout(layout string) error {
	rest := layout
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return nil
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return fmt.Errorf("recorder: layout %q: unclosed {", layout)
		}
		name := rest[i+1 : i+j]
		known := false
		for _, p := range placeholders {
			known = known || p == name
		}
		if !known {
			return fmt.Errorf("recorder: layout %q: unknown placeholder {%s} (known: %s)", layout, name, strings.Join(placeholders, ", "))
		}
		rest = rest[i+j+1:]
	}
}

// TapeInfo is what a layout is expanded from: the last market definition's
// ids and the date of its market time (UTC), or of the tape's first publish
// time when it has no definition.
type TapeInfo struct {
	MarketID, EventTypeID, EventID, MarketType, CountryCode string
	Date                                                    time.Time
	// Def is the tape's last market definition, nil when it has none.
	Def *esa.MarketDefinition
	// FirstPt is the publish time of the tape's first line.
	FirstPt int64
}

// Expand fills a layout's placeholders from info; an unknown value becomes
// "unknown". The values come from the stream, which may send anything, so
// none can leave the key's folder: an id not of Betfair's form becomes
// "invalid", and a market type or country code keeps only letters, digits,
// '_', '-' and inner dots.
func Expand(layout string, info TapeInfo) string {
	id := func(s string, ok func(string) bool) string {
		switch {
		case s == "":
			return "unknown"
		case !ok(s):
			return "invalid"
		}
		return s
	}
	d := info.Date.UTC()
	return strings.NewReplacer(
		"{event_type_id}", id(info.EventTypeID, esa.ValidNumericID[string]), "{event_id}", id(info.EventID, esa.ValidNumericID[string]),
		"{market_id}", id(info.MarketID, esa.ValidMarketID[string]), "{market_type}", safeSegment(info.MarketType),
		"{country_code}", safeSegment(info.CountryCode),
		"{yyyy}", fmt.Sprintf("%04d", d.Year()), "{mm}", fmt.Sprintf("%02d", int(d.Month())), "{dd}", fmt.Sprintf("%02d", d.Day()),
	).Replace(layout)
}

// safeSegment makes s usable as one segment of a key or path: bytes other
// than ASCII letters, digits, '_', '-' and '.' become '_', and a leading dot
// (".", "..", a hidden file) gets a '_' before it. Betfair's market types
// and country codes ("WIN", "ASIAN_HANDICAP", "GB") pass unchanged.
func safeSegment(s string) string {
	if s == "" {
		return "unknown"
	}
	const max = 64
	if len(s) > max {
		s = s[:max]
	}
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
		default:
			b[i] = '_'
		}
	}
	if b[0] == '.' {
		return "_" + string(b)
	}
	return string(b)
}

// suffixFor returns the file suffix a compression gives.
func suffixFor(compress string) (string, error) {
	switch compress {
	case "", "zstd":
		return ".zst", nil
	case "gzip":
		return ".gz", nil
	case "none":
		return "", nil
	}
	return "", fmt.Errorf("recorder: unknown compression %q (zstd, gzip or none)", compress)
}

// withSuffix makes a key's compression suffix agree with the compression:
// the default layout ends in .jsonl.zst, which --compress gzip turns into
// .jsonl.gz.
func withSuffix(key, suffix string) string {
	for _, s := range []string{".zst", ".gz", ".bz2"} {
		if k, ok := strings.CutSuffix(key, s); ok {
			return k + suffix
		}
	}
	return key + suffix
}

// ScanTape reads a spool tape and returns what its key and catalogue are
// made from.
func ScanTape(p string) (TapeInfo, error) {
	f, err := os.Open(p)
	if err != nil {
		return TapeInfo{}, err
	}
	defer f.Close()
	base := strings.TrimSuffix(filepath.Base(p), ".jsonl")
	info := TapeInfo{MarketID: strings.TrimSuffix(base, ".orders")}
	br := bufio.NewReaderSize(f, 1<<20)
	dec := esa.NewDecoder()
	var m esa.Message
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: read it whole.
			rest, err2 := br.ReadBytes('\n')
			line = append(append([]byte(nil), line...), rest...)
			err = err2
		}
		if len(line) > 1 {
			// Only the first line (for its pt) and lines with a definition
			// matter here; the rest are not decoded at all.
			if info.FirstPt != 0 && !bytes.Contains(line, []byte(`"marketDefinition"`)) {
				if err == io.EOF {
					break
				}
				if err != nil {
					return info, err
				}
				continue
			}
			m.Reset()
			if derr := dec.Decode(line, &m); derr != nil {
				return info, fmt.Errorf("%s:%d: %w", p, n, derr)
			}
			if info.FirstPt == 0 {
				info.FirstPt = m.Pt
			}
			for i := range m.MC {
				if d := m.MC[i].Def; d != nil {
					info.Def = d
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return info, err
		}
	}
	info.fill()
	return info, nil
}

// fill sets the ids and date from the definition and first pt.
func (info *TapeInfo) fill() {
	if d := info.Def; d != nil {
		info.EventTypeID, info.EventID, info.MarketType, info.CountryCode = d.EventTypeID, d.EventID, d.MarketType, d.CountryCode
		if t, err := time.Parse(time.RFC3339, d.MarketTime); err == nil {
			info.Date = t
		}
	}
	if info.Date.IsZero() && info.FirstPt > 0 {
		info.Date = time.UnixMilli(info.FirstPt)
	}
}

// tapeMeta is the sidecar <tape>.meta a closing tape gets, so that the
// uploader need not read the tape to name it.
type tapeMeta struct {
	MarketID    string    `json:"market_id"`
	EventTypeID string    `json:"event_type_id"`
	EventID     string    `json:"event_id"`
	MarketType  string    `json:"market_type"`
	CountryCode string    `json:"country_code"`
	Date        time.Time `json:"date"`
}

func metaOf(info TapeInfo) tapeMeta {
	return tapeMeta{info.MarketID, info.EventTypeID, info.EventID, info.MarketType, info.CountryCode, info.Date}
}

// readMeta returns a closed tape's sidecar, if it has a whole one.
func readMeta(tapePath string) (TapeInfo, bool) {
	b, err := os.ReadFile(strings.TrimSuffix(tapePath, ".jsonl") + ".meta")
	if err != nil {
		return TapeInfo{}, false
	}
	var m tapeMeta
	if json.Unmarshal(b, &m) != nil || m.MarketID == "" {
		return TapeInfo{}, false
	}
	return TapeInfo{MarketID: m.MarketID, EventTypeID: m.EventTypeID, EventID: m.EventID, MarketType: m.MarketType, CountryCode: m.CountryCode, Date: m.Date}, true
}

// CatalogueFromDefinition builds a listMarketCatalogue-shaped entry from a
// market definition, for markets whose catalogue was never fetched.
func CatalogueFromDefinition(id string, d *esa.MarketDefinition) ([]byte, error) {
	c := betting.MarketCatalogue{MarketID: id}
	if d != nil {
		c.MarketName = d.Name
		c.MarketStartTime = d.MarketTime
		c.Description = &betting.MarketDescription{
			PersistenceEnabled: d.PersistenceEnabled, BspMarket: d.BspMarket,
			MarketTime: d.MarketTime, SuspendTime: d.SuspendTime, SettleTime: d.SettledTime,
			BettingType: d.BettingType, TurnInPlayEnabled: d.TurnInPlayEnabled, MarketType: d.MarketType,
			MarketBaseRate: d.MarketBaseRate, DiscountAllowed: d.DiscountAllowed,
			EachWayDivisor: d.EachWayDivisor, RaceType: d.RaceType, BetDelayModels: d.BetDelayModels,
		}
		if d.PriceLadderType != "" {
			c.Description.PriceLadderDescription = &betting.PriceLadderDescription{Type: d.PriceLadderType}
		}
		if len(d.Regulators) > 0 {
			c.Description.Regulator = d.Regulators[0]
		}
		for _, r := range d.Runners {
			c.Runners = append(c.Runners, betting.RunnerCatalog{SelectionID: r.ID, RunnerName: r.Name, Handicap: r.Hc, SortPriority: r.SortPriority})
		}
		c.EventType = &betting.EventType{ID: d.EventTypeID}
		c.Event = &betting.Event{ID: d.EventID, Name: d.EventName, CountryCode: d.CountryCode, Timezone: d.Timezone, Venue: d.Venue, OpenDate: d.OpenDate}
	}
	return json.Marshal(c)
}

// uploader ships closed tapes to the store.
type uploader struct {
	cfg *Config
	log *slog.Logger
	m   *Metrics

	mu sync.Mutex    // one upload at a time: the encoder is shared
	zw *zstd.Encoder // reused across tapes
}

// upload compresses one closed tape into the store, then writes its
// catalogue, and only when both are confirmed whole removes them from the
// spool and leaves a done marker.
func (u *uploader) upload(ctx context.Context, p string) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	info, ok := readMeta(p)
	if !ok {
		var err error
		if info, err = ScanTape(p); err != nil {
			return "", fmt.Errorf("recorder: reading %s: %w", p, err)
		}
	}
	orders := strings.HasSuffix(p, ".orders.jsonl")
	layout := u.cfg.Layout
	if orders {
		layout = u.cfg.OrdersLayout
	}
	key, err := u.chooseKey(ctx, p, withSuffix(path.Join(u.cfg.Prefix, Expand(layout, info)), mustSuffix(u.cfg.Compress)))
	if err != nil {
		return key, err
	}
	if err := u.put(ctx, key, p); err != nil {
		return key, err
	}
	catPath := strings.TrimSuffix(p, ".jsonl") + ".json"
	if !orders {
		cat, err := os.ReadFile(catPath)
		if err != nil {
			if !ok {
				// No sidecar, so info.Def is the tape's last definition.
			} else if info, err = ScanTape(p); err != nil {
				return key, fmt.Errorf("recorder: reading %s: %w", p, err)
			}
			if cat, err = CatalogueFromDefinition(info.MarketID, info.Def); err != nil {
				return key, err
			}
		}
		catKey := path.Join(path.Dir(key), Expand("{market_id}", info)+".json")
		if err := u.putBytes(ctx, catKey, cat); err != nil {
			return key, err
		}
	}
	st, _ := os.Stat(p)
	base := strings.TrimSuffix(filepath.Base(p), ".jsonl")
	if err := os.WriteFile(filepath.Join(u.cfg.Spool, "done", base), nil, 0o644); err != nil {
		return key, fmt.Errorf("recorder: done marker: %w", err)
	}
	if err := os.Remove(p); err != nil {
		return key, fmt.Errorf("recorder: removing uploaded %s: %w", p, err)
	}
	os.Remove(catPath)
	os.Remove(strings.TrimSuffix(p, ".jsonl") + ".meta")
	os.Remove(strings.TrimSuffix(p, ".jsonl") + ".key")
	syncDir(filepath.Dir(p))
	if st != nil {
		u.m.closedBytes.Add(-st.Size())
	}
	return key, nil
}

func mustSuffix(compress string) string {
	s, _ := suffixFor(compress)
	return s
}

// chooseKey picks the key a tape is stored under, once: the layout's key,
// or, when an object is already there (a market recorded by an earlier run
// whose spool is gone, or reopened after its upload), the same key with
// ".part2", ".part3"... before ".jsonl", so that nothing stored is ever
// replaced by a shorter recording. The choice is kept beside the tape as
// <tape>.key, so that a retried upload writes the same object again rather
// than a new part.
func (u *uploader) chooseKey(ctx context.Context, p, key string) (string, error) {
	keyFile := strings.TrimSuffix(p, ".jsonl") + ".key"
	if b, err := os.ReadFile(keyFile); err == nil && len(b) > 0 {
		return string(b), nil
	}
	base, ext, ok := strings.Cut(key, ".jsonl")
	if !ok {
		base, ext = key, ""
	}
	chosen := key
	for n := 2; ; n++ {
		exists, err := u.cfg.Store.Exists(ctx, chosen)
		if err != nil {
			return chosen, err
		}
		if !exists {
			break
		}
		chosen = fmt.Sprintf("%s.part%d.jsonl%s", base, n, ext)
		if !ok {
			chosen = fmt.Sprintf("%s.part%d", base, n)
		}
	}
	if chosen != key {
		u.log.Warn("an object is already stored under the tape's key; storing this one beside it", "key", key, "as", chosen)
	}
	if err := writeFileAtomic(keyFile, []byte(chosen)); err != nil {
		return chosen, fmt.Errorf("recorder: %w", err)
	}
	return chosen, nil
}

// put streams a tape through the compressor into the store; the Writer's
// Close returns only once the store holds the whole object.
func (u *uploader) put(ctx context.Context, key, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := u.cfg.Store.Create(ctx, key)
	if err != nil {
		return err
	}
	var cw io.WriteCloser
	switch u.cfg.Compress {
	case "", "zstd":
		// One encoder, reset per tape: a new one allocates megabytes of
		// tables, which at a thousand tapes an evening adds up.
		if u.zw == nil {
			u.zw, err = zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
		} else {
			u.zw.Reset(w)
		}
		cw = u.zw
	case "gzip":
		cw = gzip.NewWriter(w)
	default:
		cw = nopCloser{w}
	}
	if err == nil {
		_, err = io.Copy(cw, f)
	}
	if err == nil {
		err = cw.Close()
	}
	if err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

func (u *uploader) putBytes(ctx context.Context, key string, b []byte) error {
	w, err := u.cfg.Store.Create(ctx, key)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// uploadRetry uploads one tape, retrying with back-off (doubling, jittered,
// from MinBackoff to MaxBackoff) up to attempts tries (0: until ctx ends).
func (u *uploader) uploadRetry(ctx context.Context, p string, attempts int) error {
	bo := backoff.Policy{Min: u.cfg.MinBackoff, Max: u.cfg.MaxBackoff}
	for try := 1; ; try++ {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return nil // stored meanwhile (queued and found by a scan)
		}
		key, err := u.upload(ctx, p)
		if err == nil {
			u.m.Uploads.Add(1)
			u.log.Info("tape uploaded", "tape", filepath.Base(p), "key", key, "store", u.cfg.Store.URL())
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		u.m.UploadFailures.Add(1)
		if attempts > 0 && try >= attempts {
			u.log.Error("upload failed; the tape stays in the spool", "tape", p, "key", key, "attempts", try, "err", err)
			return err
		}
		delay := bo.Delay(try - 1)
		u.log.Warn("upload failed; retrying", "tape", p, "key", key, "attempt", try, "in", delay, "err", err)
		if err := backoff.Wait(ctx, delay); err != nil {
			return err
		}
	}
}

func (u *uploader) uploadDir(ctx context.Context, dir string) (int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("recorder: spool: %w", err)
	}
	var errs []error
	n := 0
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".jsonl") {
			continue
		}
		if err := u.uploadRetry(ctx, filepath.Join(dir, e.Name()), u.cfg.Attempts); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.Name(), err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

package exchange

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/tape"
)

// event is one market change of a tape: what the exchange sends as one
// delta message, in publish-time order across every tape.
type event struct {
	pt     int64
	market int32  // index into replay.markets
	raw    []byte // the mc element exactly as recorded
}

// market is what the exchange knows of one market of the tapes.
type market struct {
	id    string
	first int // index of its first event
	// firstImg says its first change (in tape order) is a full image
	// (img:true, as recorders write it), which an image on subscribe can
	// then send as recorded.
	firstImg bool
	// def is the last definition seen while loading, for the filter and
	// for a catalogue built when the tapes bring none.
	def *esa.MarketDefinition
	// catalogue is the tape's <market_id>.json, raw, when one was found.
	catalogue json.RawMessage
}

// replay is every tape loaded into memory, ready to be served to any number
// of connections: a connection's position is an index into events, which is
// also the clock it is handed, so a resubscription resumes exactly there.
type replay struct {
	events  []event
	markets []*market
	byID    map[string]int32
	// orders are the order changes (oc elements of ocm lines) of tapes
	// that hold them, in publish-time order; an order subscription's clock
	// is an index into them.
	orders []OrderChange
	// startPt is the earliest publish time of any change: the replay clock
	// starts there.
	startPt int64
}

// loadReplay reads the tapes named by cfg.Tapes (files, directories, globs,
// archives, s3://: anything tape.Walk accepts), with bad input handled by
// tape.Rules. Files named <market_id>.json are catalogues, as are those in
// cfg.Catalogues and beside each local tape.
func loadReplay(ctx context.Context, cfg *Config) (*replay, error) {
	inputs, catalogueDirs := cfg.Tapes, cfg.Catalogues
	r := &replay{byID: make(map[string]int32)}
	rules := &tape.Rules{Strict: cfg.Strict, Log: cfg.Logger}
	dirs := map[string]bool{}
	catalogues := map[string]json.RawMessage{}
	var seq []event
	err := tape.NewWalker(1, rules, cfg.Sources).Walk(ctx, inputs, func(ctx context.Context, t *tape.Tape) error {
		base := filepath.Base(t.Name)
		if strings.HasSuffix(base, ".json") {
			rc, err := t.Open()
			if err != nil {
				return err
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return t.ErrorAt(0, err)
			}
			if json.Valid(b) {
				catalogues[strings.TrimSuffix(base, ".json")] = b
			}
			return nil
		}
		if t.Member == "" && !strings.Contains(t.Path, "://") {
			dirs[filepath.Dir(t.Path)] = true
		}
		start := len(seq)
		_, err := tape.Play(ctx, t, rules, func(l *tape.Line) error {
			msg := l.Msg
			if msg.Op == esa.OpOCM && msg.Ct != esa.ChangeTypeHeartbeat {
				for i := range msg.OC {
					r.orders = append(r.orders, OrderChange{Pt: msg.Pt, OC: append([]byte(nil), msg.OC[i].Raw...), Strategy: strategyOf(&msg.OC[i])})
				}
				return nil
			}
			if msg.Op != esa.OpMCM || msg.Ct == esa.ChangeTypeHeartbeat {
				return nil
			}
			for i := range msg.MC {
				mc := &msg.MC[i]
				mi, ok := r.byID[string(mc.ID)]
				if !ok {
					mi = int32(len(r.markets))
					r.byID[string(mc.ID)] = mi
					r.markets = append(r.markets, &market{id: string(mc.ID), firstImg: mc.Img})
				}
				if mc.Def != nil {
					r.markets[mi].def = mc.Def
				}
				seq = append(seq, event{pt: msg.Pt, market: mi, raw: append([]byte(nil), mc.Raw...)})
			}
			return nil
		})
		if err != nil {
			return err
		}
		// Each tape is in order already; a stable sort of this tape's run
		// keeps equal publish times in recorded order.
		run := seq[start:]
		sort.SliceStable(run, func(i, j int) bool { return run[i].pt < run[j].pt })
		return nil
	})
	if err == nil {
		err = rules.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("exchange: loading tapes: %w", err)
	}
	// Merge the tapes by publish time; stable, so a tape's own order and
	// input order break ties.
	sort.SliceStable(seq, func(i, j int) bool { return seq[i].pt < seq[j].pt })
	r.events = seq
	sort.SliceStable(r.orders, func(i, j int) bool { return r.orders[i].Pt < r.orders[j].Pt })
	switch {
	case len(r.events) > 0 && len(r.orders) > 0:
		r.startPt = min(r.events[0].pt, r.orders[0].Pt)
	case len(r.events) > 0:
		r.startPt = r.events[0].pt
	case len(r.orders) > 0:
		r.startPt = r.orders[0].Pt
	}
	for _, m := range r.markets {
		m.first = -1
	}
	for i := range r.events {
		if m := r.markets[r.events[i].market]; m.first < 0 {
			m.first = i
		}
	}
	for _, m := range r.markets {
		if c, ok := catalogues[m.id]; ok {
			m.catalogue = c
			continue
		}
		if !esa.ValidMarketID(m.id) {
			// An id from a tape names a file only when it has Betfair's
			// form: "../../x" would serve whatever JSON lies there.
			continue
		}
		var candidates []string
		for d := range dirs {
			candidates = append(candidates, filepath.Join(d, m.id+".json"), filepath.Join(d, "..", "catalogues", m.id+".json"))
		}
		for _, d := range catalogueDirs {
			candidates = append(candidates, filepath.Join(d, m.id+".json"))
		}
		for _, p := range candidates {
			if b, err := os.ReadFile(p); err == nil && json.Valid(b) {
				m.catalogue = b
				break
			}
		}
	}
	if len(r.events) == 0 && len(r.orders) == 0 {
		return nil, fmt.Errorf("exchange: no market or order changes in %s", strings.Join(inputs, ", "))
	}
	return r, nil
}

// encodeClk and decodeClk turn a position in the replay into the opaque
// clock token handed to clients, and back.
func encodeClk(pos int) string { return strconv.Itoa(pos) }

func decodeClk(s string, n int) (int, bool) {
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > n {
		return 0, false
	}
	return v, true
}

// matches reports whether market m passes the subscription's filter. A
// market with no definition passes only filters that ask nothing of one.
func matches(f *esa.MarketFilter, m *market) bool {
	if f == nil {
		return true
	}
	if len(f.MarketIDs) > 0 && !contains(f.MarketIDs, m.id) {
		return false
	}
	needDef := f.BspMarket != nil || f.TurnInPlayEnabled != nil || len(f.BettingTypes) > 0 ||
		len(f.EventTypeIDs) > 0 || len(f.EventIDs) > 0 || len(f.MarketTypes) > 0 ||
		len(f.Venues) > 0 || len(f.CountryCodes) > 0 || len(f.RaceTypes) > 0
	if !needDef {
		return true
	}
	d := m.def
	if d == nil {
		return false
	}
	switch {
	case f.BspMarket != nil && *f.BspMarket != d.BspMarket,
		f.TurnInPlayEnabled != nil && *f.TurnInPlayEnabled != d.TurnInPlayEnabled,
		len(f.BettingTypes) > 0 && !contains(f.BettingTypes, d.BettingType),
		len(f.EventTypeIDs) > 0 && !contains(f.EventTypeIDs, d.EventTypeID),
		len(f.EventIDs) > 0 && !contains(f.EventIDs, d.EventID),
		len(f.MarketTypes) > 0 && !contains(f.MarketTypes, d.MarketType),
		len(f.Venues) > 0 && !contains(f.Venues, d.Venue),
		len(f.CountryCodes) > 0 && !contains(f.CountryCodes, d.CountryCode),
		len(f.RaceTypes) > 0 && !contains(f.RaceTypes, d.RaceType):
		return false
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// esaFilter is the stream's market filter, which listMarketCatalogue's
// filter is mapped onto.
type esaFilter = esa.MarketFilter

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// strategyOf is the customerStrategyRef of an order change's orders, the
// first one found.
func strategyOf(oc *esa.OrderMarketChange) string {
	for _, rc := range oc.ORC {
		for _, uo := range rc.UO {
			if uo.CustomerStrategyRef != "" {
				return uo.CustomerStrategyRef
			}
		}
	}
	return ""
}

package interop

// The reference side of the interop test: what the README's queries should
// answer, computed from `convert books` output (betfairlightweight's
// MarketBook JSON, one line per market change) with encoding/json alone,
// sharing no code with pipeline/tables.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

type priceSize struct {
	Price float64 `json:"price"`
	Size  float64 `json:"size"`
}

type bookRunner struct {
	SelectionID      int64    `json:"selectionId"`
	Handicap         float64  `json:"handicap"`
	Status           string   `json:"status"`
	LastPriceTraded  *float64 `json:"lastPriceTraded"`
	AdjustmentFactor *float64 `json:"adjustmentFactor"`
	Ex               struct {
		ATB []priceSize `json:"availableToBack"`
		ATL []priceSize `json:"availableToLay"`
		TV  []priceSize `json:"tradedVolume"`
	} `json:"ex"`
	SP struct {
		Near              spPrice     `json:"nearPrice"`
		Far               spPrice     `json:"farPrice"`
		BackStakeTaken    []priceSize `json:"backStakeTaken"`
		LayLiabilityTaken []priceSize `json:"layLiabilityTaken"`
		ActualSP          *float64    `json:"actualSP"`
	} `json:"sp"`
}

// spPrice is a projected SP as books write it: a number, null, or the
// strings "NaN", "Infinity" and "-Infinity" Betfair sends for no value;
// p is nil for all but a finite number.
type spPrice struct{ p *float64 }

func (s *spPrice) UnmarshalJSON(b []byte) error {
	if b[0] == '"' || string(b) == "null" {
		s.p = nil
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	s.p = &v
	return nil
}

type bookLine struct {
	MarketID         string       `json:"marketId"`
	PublishTime      int64        `json:"publishTime"`
	Status           string       `json:"status"`
	InPlay           bool         `json:"inplay"`
	BspReconciled    bool         `json:"bspReconciled"`
	Runners          []bookRunner `json:"runners"`
	MarketDefinition *struct {
		MarketTime  time.Time `json:"marketTime"`
		EventID     string    `json:"eventId"`
		CountryCode string    `json:"countryCode"`
		Name        string    `json:"name"`
		Status      string    `json:"status"`
		InPlay      bool      `json:"inPlay"`
		Venue       string    `json:"venue"`
		MarketType  string    `json:"marketType"`
		EventTypeID string    `json:"eventTypeId"`
		Runners     []struct {
			ID     int64    `json:"id"`
			Hc     float64  `json:"hc"`
			Status string   `json:"status"`
			Bsp    *float64 `json:"bsp"`
			Name   string   `json:"name"`
		} `json:"runners"`
	} `json:"marketDefinition"`
}

// runnerKey is (selection_id, handicap).
type runnerKey struct {
	sel int64
	hc  float64
}

// runnerAt is one runner in the book after one line.
type runnerAt struct {
	key       runnerKey
	status    string
	back, lay *float64
	traded    float64 // sum of the traded ladder
	// What the snapshot cells hold, as the book shows it: the traded
	// ladder's sum of price × size (for its WAP), the three best levels a
	// side, last traded price, reduction factor, SP projections and the SP
	// ladders' sums.
	tradedPV float64
	// backs and lays hold nBacks and nLays levels, inline: a point per
	// line of a 3 GB archive adds up.
	backs, lays       [3]priceSize
	nBacks, nLays     int8
	ltp, af, spn, spf *float64
	spBack, spLay     float64
}

// point is a market's book after one line.
type point struct {
	pt         int64
	marketTime int64 // the definition's scheduled start, ms
	status     string
	inPlay     bool
	runners    []runnerAt
}

// refMarket is everything the checks need about one market.
type refMarket struct {
	id    string
	venue string
	// marketType, status and voided are the final definition's; voided
	// when it removes every runner (an abandoned meeting).
	marketType, status, eventTypeID string
	eventID, marketName             string
	voided                          bool
	// finalStatus and name of each runner in the final definition.
	finalStatus, name map[runnerKey]string
	points            []point
	winners           map[runnerKey]bool
	bsp               map[runnerKey]*float64
	// last non-empty traded ladder of each runner (Betfair empties it at
	// settlement).
	traded map[runnerKey]map[float64]float64
	// phased is the traded volume at each price by phase: what the
	// ladder gained on lines in play [2], on lines neither in play nor OPEN
	// (SP reconciliation) [1], and on the rest (pre-play) [0].
	phased map[runnerKey]map[float64]*[3]float64
	// tut holds the books the Betfair Data Scientists' tutorials read
	// (tutorials_test.go).
	tut tutorialBooks
}

// readBooks reads `convert books` output into markets by id.
func readBooks(r io.Reader) (map[string]*refMarket, error) {
	markets := map[string]*refMarket{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	n := 0
	for sc.Scan() {
		n++
		var b bookLine
		if err := json.Unmarshal(sc.Bytes(), &b); err != nil {
			return nil, fmt.Errorf("books line %d: %w", n, err)
		}
		if b.MarketDefinition == nil {
			continue
		}
		m := markets[b.MarketID]
		if m == nil {
			m = &refMarket{id: b.MarketID, traded: map[runnerKey]map[float64]float64{},
				phased: map[runnerKey]map[float64]*[3]float64{}}
			markets[b.MarketID] = m
		}
		d := b.MarketDefinition
		m.tut.observe(&b)
		p := point{pt: b.PublishTime, marketTime: d.MarketTime.UnixMilli(), status: d.Status, inPlay: d.InPlay}
		for _, r := range b.Runners {
			k := runnerKey{r.SelectionID, r.Handicap}
			ra := runnerAt{key: k, status: r.Status, ltp: r.LastPriceTraded, af: r.AdjustmentFactor,
				spn: r.SP.Near.p, spf: r.SP.Far.p, spBack: sumSizes(r.SP.BackStakeTaken), spLay: sumSizes(r.SP.LayLiabilityTaken)}
			// Copies, so a point does not keep the line's whole ladders.
			if len(r.Ex.ATB) > 0 {
				ra.back = new(r.Ex.ATB[0].Price)
			}
			if len(r.Ex.ATL) > 0 {
				ra.lay = new(r.Ex.ATL[0].Price)
			}
			ra.nBacks = int8(copy(ra.backs[:], r.Ex.ATB))
			ra.nLays = int8(copy(ra.lays[:], r.Ex.ATL))
			if len(r.Ex.TV) > 0 {
				l := map[float64]float64{}
				for _, ps := range r.Ex.TV {
					l[ps.Price] = ps.Size
					ra.traded += ps.Size
					ra.tradedPV += ps.Price * ps.Size
				}
				m.addPhased(k, l, phaseOf(d.InPlay, d.Status))
				m.traded[k] = l
			} else if l := m.traded[k]; l != nil && d.Status != "OPEN" {
				// Betfair empties the ladder when it settles the market:
				// the money stays matched (the dataset leaves these resets
				// out of every volume), so the book keeps the last ladder.
				for price, size := range l {
					ra.traded += size
					ra.tradedPV += price * size
				}
			}
			p.runners = append(p.runners, ra)
		}
		m.points = append(m.points, p)
		// The final definition wins: venue, winners, BSPs.
		m.venue, m.marketType, m.status, m.eventTypeID = d.Venue, d.MarketType, d.Status, d.EventTypeID
		m.eventID, m.marketName = d.EventID, d.Name
		m.finalStatus, m.name = map[runnerKey]string{}, map[runnerKey]string{}
		m.winners = map[runnerKey]bool{}
		m.bsp = map[runnerKey]*float64{}
		removed := 0
		for _, r := range d.Runners {
			k := runnerKey{r.ID, r.Hc}
			m.winners[k] = r.Status == "WINNER"
			m.bsp[k] = r.Bsp
			m.finalStatus[k], m.name[k] = r.Status, r.Name
			if strings.HasPrefix(r.Status, "REMOVED") {
				removed++
			}
		}
		m.voided = len(d.Runners) > 0 && removed == len(d.Runners)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("books line %d: %w", n+1, err)
	}
	return markets, nil
}

// sumSizes is the total size of a ladder.
func sumSizes(l []priceSize) float64 {
	var s float64
	for _, ps := range l {
		s += ps.Size
	}
	return s
}

// phaseOf is the phase of a line's trades: 2 in play, 1 SP-matched (not
// in play, not OPEN), 0 pre-play.
func phaseOf(inPlay bool, status string) int {
	switch {
	case inPlay:
		return 2
	case status != "OPEN":
		return 1
	}
	return 0
}

// addPhased credits what a runner's traded ladder gained (or lost) since
// its last non-empty state to phase; an emptied ladder (settlement) is
// never passed in.
func (m *refMarket) addPhased(k runnerKey, now map[float64]float64, phase int) {
	prev := m.traded[k]
	if m.phased[k] == nil {
		m.phased[k] = map[float64]*[3]float64{}
	}
	add := func(price, d float64) {
		if d == 0 {
			return
		}
		x := m.phased[k][price]
		if x == nil {
			x = &[3]float64{}
			m.phased[k][price] = x
		}
		x[phase] += d
	}
	for price, size := range now {
		add(price, size-prev[price])
	}
	for price, size := range prev {
		if _, ok := now[price]; !ok {
			add(price, -size)
		}
	}
}

// off is the off by the rule: the first line in play; else the
// last OPEN→SUSPENDED that no OPEN follows. It returns the off's time and
// the index of its line in points.
func (m *refMarket) off() (int64, int, bool) {
	for i, p := range m.points {
		if p.inPlay {
			return p.pt, i, true
		}
	}
	cand := -1
	prev := ""
	for i, p := range m.points {
		switch {
		case prev == "OPEN" && p.status == "SUSPENDED":
			cand = i
		case p.status == "OPEN":
			cand = -1
		}
		prev = p.status
	}
	if cand < 0 {
		return 0, -1, false
	}
	return m.points[cand].pt, cand, true
}

// asOf is the book after the last of points with pt <= t, or nil before
// the first.
func asOf(points []point, t int64) *point {
	var at *point
	for i := range points {
		if points[i].pt > t {
			break
		}
		at = &points[i]
	}
	return at
}

// atOff is the book seconds before the off, or nil. At and before the off
// it is the book before the off's line: that line (the suspension) and
// what shares its millisecond are the market after the off.
func (m *refMarket) atOff(seconds int64) *point {
	t, i, ok := m.off()
	if !ok {
		return nil
	}
	points := m.points
	if seconds >= 0 {
		points = points[:i]
	}
	return asOf(points, t-seconds*1000)
}

// ladderCents lists Betfair's standard price ladder in hundredths:
// 1.01 … 1000, 350 prices, each band with its own increment.
func ladderCents() map[int64]int64 {
	bands := []struct{ to, step int64 }{
		{200, 1}, {300, 2}, {400, 5}, {600, 10}, {1000, 20},
		{2000, 50}, {3000, 100}, {5000, 200}, {10000, 500}, {100000, 1000},
	}
	idx := map[int64]int64{101: 0}
	c := int64(101)
	for _, b := range bands {
		for c+b.step <= b.to {
			c += b.step
			idx[c] = int64(len(idx))
		}
	}
	return idx
}

// tickOf is a price's index on the standard ladder, if on it.
func tickOf(ladder map[int64]int64, p *float64) *int64 {
	if p == nil {
		return nil
	}
	c := math.Round(*p * 100)
	if math.Abs(c-*p*100) > 1e-6 {
		return nil
	}
	i, ok := ladder[int64(c)]
	if !ok {
		return nil
	}
	return &i
}

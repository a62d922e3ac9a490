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
	"maps"
	"math"
)

type priceSize struct {
	Price float64 `json:"price"`
	Size  float64 `json:"size"`
}

type bookRunner struct {
	SelectionID int64   `json:"selectionId"`
	Handicap    float64 `json:"handicap"`
	Status      string  `json:"status"`
	Ex          struct {
		ATB []priceSize `json:"availableToBack"`
		ATL []priceSize `json:"availableToLay"`
		TV  []priceSize `json:"tradedVolume"`
	} `json:"ex"`
}

type bookLine struct {
	MarketID         string       `json:"marketId"`
	PublishTime      int64        `json:"publishTime"`
	Runners          []bookRunner `json:"runners"`
	MarketDefinition *struct {
		Status  string `json:"status"`
		InPlay  bool   `json:"inPlay"`
		Venue   string `json:"venue"`
		Runners []struct {
			ID     int64    `json:"id"`
			Hc     float64  `json:"hc"`
			Status string   `json:"status"`
			Bsp    *float64 `json:"bsp"`
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
}

// point is a market's book after one line.
type point struct {
	pt      int64
	status  string
	inPlay  bool
	runners []runnerAt
}

// refMarket is everything the checks need about one market.
type refMarket struct {
	id      string
	venue   string
	points  []point
	winners map[runnerKey]bool
	bsp     map[runnerKey]*float64
	// last non-empty traded ladder of each runner (Betfair empties it at
	// settlement), and the ladders before the first in-play line.
	traded, preplay map[runnerKey]map[float64]float64
	inPlaySeen      bool
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
			m = &refMarket{id: b.MarketID, traded: map[runnerKey]map[float64]float64{}}
			markets[b.MarketID] = m
		}
		d := b.MarketDefinition
		if d.InPlay && !m.inPlaySeen {
			m.inPlaySeen = true
			m.preplay = cloneLadders(m.traded)
		}
		p := point{pt: b.PublishTime, status: d.Status, inPlay: d.InPlay}
		for _, r := range b.Runners {
			k := runnerKey{r.SelectionID, r.Handicap}
			ra := runnerAt{key: k, status: r.Status}
			// Copies, so a point does not keep the line's whole ladders.
			if len(r.Ex.ATB) > 0 {
				ra.back = new(r.Ex.ATB[0].Price)
			}
			if len(r.Ex.ATL) > 0 {
				ra.lay = new(r.Ex.ATL[0].Price)
			}
			if len(r.Ex.TV) > 0 {
				l := map[float64]float64{}
				for _, ps := range r.Ex.TV {
					l[ps.Price] = ps.Size
					ra.traded += ps.Size
				}
				m.traded[k] = l
			}
			p.runners = append(p.runners, ra)
		}
		m.points = append(m.points, p)
		// The final definition wins: venue, winners, BSPs.
		m.venue = d.Venue
		m.winners = map[runnerKey]bool{}
		m.bsp = map[runnerKey]*float64{}
		for _, r := range d.Runners {
			k := runnerKey{r.ID, r.Hc}
			m.winners[k] = r.Status == "WINNER"
			m.bsp[k] = r.Bsp
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("books line %d: %w", n+1, err)
	}
	for _, m := range markets {
		if m.preplay == nil {
			m.preplay = m.traded
		}
	}
	return markets, nil
}

func cloneLadders(in map[runnerKey]map[float64]float64) map[runnerKey]map[float64]float64 {
	out := make(map[runnerKey]map[float64]float64, len(in))
	for k, l := range in {
		out[k] = maps.Clone(l)
	}
	return out
}

// off is the time of the off by the rule: the first line in play;
// else the last OPEN→SUSPENDED that no OPEN follows.
func (m *refMarket) off() (int64, bool) {
	for _, p := range m.points {
		if p.inPlay {
			return p.pt, true
		}
	}
	var cand int64
	found := false
	prev := ""
	for _, p := range m.points {
		switch {
		case prev == "OPEN" && p.status == "SUSPENDED":
			cand, found = p.pt, true
		case p.status == "OPEN":
			found = false
		}
		prev = p.status
	}
	return cand, found
}

// asOf is the book after the last line with pt <= t, or nil before the
// first line.
func (m *refMarket) asOf(t int64) *point {
	var at *point
	for i := range m.points {
		if m.points[i].pt > t {
			break
		}
		at = &m.points[i]
	}
	return at
}

// atOff is the book seconds before the off, or nil.
func (m *refMarket) atOff(seconds int64) *point {
	off, ok := m.off()
	if !ok {
		return nil
	}
	return m.asOf(off - seconds*1000)
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

package engine_test

import (
	"sync"
	"testing"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// counter counts the books one replay unit sees, per market, and keeps the
// status of the last one.
type counter struct {
	books map[string]int64
	last  map[string]string
	clock int64
	back  bool // the clock went backwards
}

func (c *counter) Book(b *book.Market, now int64) {
	c.books[b.ID]++
	c.last[b.ID] = string(b.Status())
	if now < c.clock {
		c.back = true
	}
	c.clock = now
}

func TestObserverSeesEveryBook(t *testing.T) {
	for _, group := range []bool{false, true} {
		var (
			mu   sync.Mutex
			seen []*counter
		)
		inputs := []string{testenv.Testdata(t, "tapes")}
		res := replay(t, inputs, engine.Config{NewStrategy: builtin(t, "passive-back"), EventGroup: group,
			NewObserver: func() engine.Observer {
				c := &counter{books: map[string]int64{}, last: map[string]string{}}
				mu.Lock()
				seen = append(seen, c)
				mu.Unlock()
				return c
			}})
		books := map[string]int64{}
		last := map[string]string{}
		for _, c := range seen {
			if c.back {
				t.Errorf("event group %v: an observer's clock went backwards", group)
			}
			for id, n := range c.books {
				books[id] += n
				last[id] = c.last[id]
			}
		}
		if len(res.Markets) == 0 {
			t.Fatal("no markets replayed")
		}
		for _, m := range res.Markets {
			if books[m.MarketID] != m.Updates {
				t.Errorf("event group %v: market %s: observer saw %d books, the replay counted %d updates", group, m.MarketID, books[m.MarketID], m.Updates)
			}
			if last[m.MarketID] != string(m.Status) {
				t.Errorf("event group %v: market %s: observer's last status %q, result's %q", group, m.MarketID, last[m.MarketID], m.Status)
			}
		}
	}
}

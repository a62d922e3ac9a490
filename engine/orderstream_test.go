package engine

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// ocmLines reads a file of one order-stream message or an array of them.
func ocmLines(t *testing.T, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(testenv.Shared(t, "data/messages/"+name))
	if err != nil {
		t.Fatal(err)
	}
	var many []json.RawMessage
	if json.Unmarshal(b, &many) != nil {
		many = []json.RawMessage{b}
	}
	var lines [][]byte
	for _, m := range many {
		var v any
		json.Unmarshal(m, &v)
		line, _ := json.Marshal(v)
		lines = append(lines, line)
	}
	return lines
}

// TestOrderStream feeds Betfair's real order-stream messages to a loop
// holding the orders they are about (placed, bet ids not yet known) and
// checks the life-cycle rules: the bet id learnt by reference, fills as the
// rise of cumulative matched size, a repeated message adding nothing, the
// final EC completing the order, another strategy's order left alone.
func TestOrderStream(t *testing.T) {
	lines := ocmLines(t, "ocm_duplicate_execution.json")
	u := &unit{markets: map[string][]*marketState{}}
	sl := &slot{name: "Test-001", ref: StrategyRef("Test-001")}
	st := &marketState{sl: sl, id: "1.180604981"}
	st.report = func(r Report) { u.apply(st, r) }
	u.markets[st.id] = []*marketState{st}
	o := &Order{s: OrderState{MarketID: st.id, SelectionID: 1209555, Side: Lay, Type: Limit, Price: 1.75, Size: 10,
		CustomerRef: "O-20210418-015047-001-001-3", Status: Pending}, holdsLive: true}
	st.add(o)
	st.ctx(1209555, 0).live = 1
	dec := esa.NewDecoder()
	var msg esa.Message
	feed := func(line []byte) []esa.Order {
		if err := dec.Decode(line, &msg); err != nil {
			t.Fatal(err)
		}
		return u.orderMessage(&msg)
	}

	if unknown := feed(lines[0]); len(unknown) != 0 {
		t.Errorf("unrecognised %v", unknown)
	}
	if o.Status() != Executable || o.BetID() != "230486317487" || o.SizeMatched() != 1.12 || o.AvgPriceMatched() != 1.73 || len(o.Matched()) != 1 {
		t.Fatalf("after the first change: %s bet %q matched %g@%g fills %v", o.Status(), o.BetID(), o.SizeMatched(), o.AvgPriceMatched(), o.Matched())
	}
	feed(lines[0]) // the same change again (a resubscription's replay)
	if len(o.Matched()) != 1 || o.SizeMatched() != 1.12 {
		t.Errorf("a repeated change counted: fills %v", o.Matched())
	}
	feed(lines[1])
	if o.Status() != ExecutionComplete || o.SizeCancelled() != 8.88 || o.SizeMatched() != 1.12 || len(o.Matched()) != 1 || st.ctx(1209555, 0).live != 0 {
		t.Errorf("after EC: %s cancelled %g matched %g fills %v live %d", o.Status(), o.SizeCancelled(), o.SizeMatched(), o.Matched(), st.ctx(1209555, 0).live)
	}
	feed(lines[0]) // a stale executable view after completion
	if o.Status() != ExecutionComplete {
		t.Errorf("a finished order went back to %s", o.Status())
	}
	// Orders of a strategy this loop does not run come back unrecognised.
	unknown := feed(lines[2])
	if len(unknown) != 1 || unknown[0].ID != "230487922962" || unknown[0].CustomerStrategyRef != "Kobe-001" {
		t.Errorf("unrecognised %v", unknown)
	}
}

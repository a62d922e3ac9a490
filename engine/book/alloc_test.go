package book

import (
	"testing"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// TestSteadyStateDoesNotAllocate checks that, once a market's runners and
// ladders exist, decoding and applying a line without a definition and
// writing its book allocate nothing.
func TestSteadyStateDoesNotAllocate(t *testing.T) {
	lines := readInput(t, testdataDir+"/tapes/1.205822330.bz2")
	d := esa.NewDecoder()
	c := NewMarketCache(Options{CumulativeRunnerTv: true, CalculateMarketTv: true})
	var msg esa.Message
	var deltas [][]byte
	var buf []byte
	for _, l := range lines {
		if err := d.Decode(l, &msg); err != nil {
			t.Fatal(err)
		}
		for _, m := range c.Apply(&msg) {
			buf = m.AppendLightweightJSON(buf[:0], JSONOptions{})
		}
		if len(msg.MC) > 0 && msg.MC[0].Def == nil {
			deltas = append(deltas, l)
		}
	}
	i := 0
	allocs := testing.AllocsPerRun(len(deltas), func() {
		if err := d.Decode(deltas[i%len(deltas)], &msg); err != nil {
			t.Fatal(err)
		}
		i++
		for _, m := range c.Apply(&msg) {
			buf = m.AppendLightweightJSON(buf[:0], JSONOptions{Snap: true})
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per line, want 0", allocs)
	}
}

package book

import (
	"encoding/json"
	"testing"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// FuzzApply feeds decodable lines, seeded from real tapes, to a cache that
// has already seen a real market: Apply and the book writer must never
// panic and must always write valid JSON.
func FuzzApply(f *testing.F) {
	lines := readInput(f, testdataDir+"/tapes/1.164917629.bz2")
	for _, l := range lines[:50] {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		d := esa.NewDecoder()
		var msg esa.Message
		if err := d.Decode(line, &msg); err != nil {
			return
		}
		c := NewMarketCache(Options{CumulativeRunnerTv: true, CalculateMarketTv: true})
		for _, l := range lines[:3] {
			var m esa.Message
			if err := d.Decode(l, &m); err != nil {
				t.Fatal(err)
			}
			c.Apply(&m)
		}
		if err := d.Decode(line, &msg); err != nil {
			t.Fatal(err)
		}
		for _, m := range c.Apply(&msg) {
			b := m.AppendLightweightJSON(nil, JSONOptions{})
			if !json.Valid(b) {
				t.Fatalf("invalid book JSON: %.500s", b)
			}
		}
		oc := NewOrderCache()
		oc.Apply(&msg)
	})
}

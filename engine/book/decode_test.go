package book

import (
	"testing"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/esa/esatest"
)

// decode is the decoder the tests use: engine/esa's, as production code.
func decode(line []byte, msg *esa.Message) error { return esa.NewDecoder().Decode(line, msg) }

// TestDecodersAgree builds books from the same real lines with engine/esa's
// decoder and with the reference decoder (esatest.Decode, encoding/json) and
// checks they are identical, so the golden test's verdict does not hinge on
// one decoder.
func TestDecodersAgree(t *testing.T) {
	for _, input := range []string{"1.164917629.bz2", "1.197931750", "BASIC-1.132153978"} {
		t.Run(input, func(t *testing.T) {
			fast, ref := NewMarketCache(Options{}), NewMarketCache(Options{})
			d := esa.NewDecoder()
			var m1 esa.Message
			var b1, b2 []byte
			for i, line := range readInput(t, testdataDir+"/tapes/"+input) {
				if err := d.Decode(line, &m1); err != nil {
					t.Fatalf("line %d: esa: %v", i+1, err)
				}
				m2, err := esatest.Decode(line, false)
				if err != nil {
					t.Fatalf("line %d: ref: %v", i+1, err)
				}
				c1, c2 := fast.Apply(&m1), ref.Apply(m2)
				if len(c1) != len(c2) {
					t.Fatalf("line %d: %d vs %d markets changed", i+1, len(c1), len(c2))
				}
				for j := range c1 {
					b1 = c1[j].AppendLightweightJSON(b1[:0], JSONOptions{})
					b2 = c2[j].AppendLightweightJSON(b2[:0], JSONOptions{})
					if string(b1) != string(b2) {
						t.Fatalf("line %d: books differ:\nesa: %.1500s\nref: %.1500s", i+1, b1, b2)
					}
				}
			}
		})
	}
}

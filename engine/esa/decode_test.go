package esa_test

import (
	"bytes"
	"testing"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/esa/esatest"
)

// TestDecodeDifferential decodes every real line available with Decoder and
// with the encoding/json reference decoder and compares every field. One
// Decoder and one Message are used for all lines, as a reader would, so
// that slices reused from an earlier line are exercised too.
func TestDecodeDifferential(t *testing.T) {
	perFile := 0
	if testing.Short() {
		perFile = 300
	}
	d := esa.NewDecoder()
	var m, shallow esa.Message
	lines, failures := 0, 0
	forEachSample(t, perFile, func(s sample) {
		lines++
		want, wantErr := esatest.Decode(s.line, false)
		err := d.Decode(s.line, &m)
		if (err != nil) != (wantErr != nil) {
			failures++
			if failures <= 10 {
				t.Errorf("%s: Decode error %v, reference error %v", s.name, err, wantErr)
			}
			return
		}
		if err != nil {
			return
		}
		if got, want := esatest.Dump(&m), esatest.Dump(want); got != want {
			failures++
			if failures <= 10 {
				t.Errorf("%s: Decode differs from reference at %s", s.name, esatest.FirstDiff(got, want))
			}
			return
		}
		if err := d.DecodeShallow(s.line, &shallow); err != nil {
			t.Errorf("%s: DecodeShallow: %v", s.name, err)
			return
		}
		if shallow.Op != m.Op || shallow.Pt != m.Pt || !bytes.Equal(shallow.Clk, m.Clk) ||
			len(shallow.MC) != len(m.MC) || len(shallow.OC) != len(m.OC) {
			t.Errorf("%s: DecodeShallow header differs from Decode", s.name)
			return
		}
		for i := range m.MC {
			if !bytes.Equal(shallow.MC[i].ID, m.MC[i].ID) || !bytes.Equal(shallow.MC[i].Raw, m.MC[i].Raw) {
				t.Errorf("%s: DecodeShallow mc[%d] differs from Decode", s.name, i)
			}
		}
		for i := range m.OC {
			if !bytes.Equal(shallow.OC[i].ID, m.OC[i].ID) || !bytes.Equal(shallow.OC[i].Raw, m.OC[i].Raw) {
				t.Errorf("%s: DecodeShallow oc[%d] differs from Decode", s.name, i)
			}
		}
	})
	t.Logf("%d lines compared, %d differ", lines, failures)
}

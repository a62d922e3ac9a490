package esa_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/esa/esatest"
)

// FuzzDecode feeds Decode arbitrary bytes, seeded with real lines.
// Properties: it never panics; on a valid JSON object it fails only when the
// reference decoder (which checks every known key's type) fails too; and
// when both succeed they agree on every field.
func FuzzDecode(f *testing.F) {
	seeds := 0
	forEachSample(f, 3, func(s sample) {
		if len(s.line) <= 4096 {
			f.Add(s.line)
			seeds++
		}
	})
	for _, s := range []string{
		`{"op":"mcm","mc":[{"id":"1.2","rc":[{"spn":"NaN","spf":"Infinity","id":"42","hc":-0.5}]}]}`,
		`{"op":"ocm","oc":[{"id":"1.2","orc":[{"id":1,"smc":{"a":{"mb":[[1.5,2]]},"b":null}}]}]}`,
		`{"op":"mcm","clk":null,"x":{"y":[1,{"z":"\u00e9\"]"}]},"mc":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := esa.NewDecoder()
		var m esa.Message
		err := d.Decode(data, &m)
		// Decoding again into the used Message must give the same result.
		var again esa.Message
		again.MC = append(again.MC, esa.MarketChange{RC: []esa.RunnerChange{{Fields: esa.FieldAtb | esa.FieldBdatl, Atb: []esa.PriceSize{{1, 2}}}}})
		err2 := d.Decode(data, &again)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("decoding twice: %v, then %v", err, err2)
		}
		if err == nil && esatest.Dump(&m) != esatest.Dump(&again) {
			t.Fatalf("reused Message differs: %s", esatest.FirstDiff(esatest.Dump(&again), esatest.Dump(&m)))
		}
		var sh esa.Message
		shErr := d.DecodeShallow(data, &sh)
		trimmed := bytes.TrimSpace(data)
		if !json.Valid(data) || len(trimmed) == 0 || trimmed[0] != '{' {
			return
		}
		if hasDuplicateKeys(data) {
			// The reference keeps only the last of duplicate keys, so it
			// cannot say what a wrong type in an earlier one means.
			return
		}
		if err != nil {
			if _, refErr := esatest.Decode(data, true); refErr == nil {
				t.Fatalf("Decode: %v; the reference decodes it", err)
			}
			return
		}
		if shErr != nil {
			t.Fatalf("DecodeShallow: %v; Decode decodes it", shErr)
		}
		want, refErr := esatest.Decode(data, false)
		if refErr != nil {
			return // Decode is lenient after op "rcm"/"ccm" and in smc
		}
		if g, w := esatest.Dump(&m), esatest.Dump(want); g != w {
			t.Fatalf("differs from reference at %s", esatest.FirstDiff(g, w))
		}
	})
}

// hasDuplicateKeys reports whether any object in a valid JSON text repeats
// a key.
func hasDuplicateKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		obj    bool
		keys   map[string]bool
		expect bool // next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if k, ok := tok.(string); ok && top != nil && top.obj && top.expect {
			if top.keys[k] {
				return true
			}
			top.keys[k] = true
			top.expect = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, keys: map[string]bool{}, expect: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].expect = true
		}
	}
}

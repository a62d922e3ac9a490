package book

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tapedeck/tapedeck/engine/esa"
)

func TestAppendFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{3, "3"},
		{-2, "-2"},
		{1.5, "1.5"},
		{1.05, "1.05"},
		{-0.5, "-0.5"},
		{-0.05, "-0.05"},
		{364.45, "364.45"},
		{1000.1, "1000.1"},
		{math.Nextafter(0.3, 1), "0.30000000000000004"},
		{1e-7, "0.0000001"},
		{math.NaN(), "null"},
		{math.Inf(1), "null"},
	}
	for _, tt := range tests {
		if got := string(AppendFloat(nil, tt.in)); got != tt.want {
			t.Errorf("appendFloat(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
	// Whatever the path, the text must read back as the same float64.
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200000; i++ {
		var v float64
		switch i % 3 {
		case 0:
			v = float64(r.IntN(10000000)) / 100 // two-decimal values
		case 1:
			v = r.Float64() * 1000
		default:
			v = float64(r.IntN(1000))/100 + float64(r.IntN(1000))/100 // sums
		}
		if i%7 == 0 {
			v = -v
		}
		s := AppendFloat(nil, v)
		got, err := strconv.ParseFloat(string(s), 64)
		if err != nil || got != v {
			t.Fatalf("appendFloat(%v) = %s, reads back as %v (%v)", v, s, got, err)
		}
	}
}

// TestBookJSONInvalidUTF8: bytes that are not UTF-8 inside a string of the
// stream (here the venue in the market definition) are
// written as \ufffd, as encoding/json does, so that every reader (Python's
// json.loads too) takes the book; valid names are written unchanged.
func TestBookJSONInvalidUTF8(t *testing.T) {
	lines := readInput(t, testdataDir+"/tapes/1.197931750")
	first := string(lines[0])
	i := strings.Index(first, `"venue":"`)
	if i < 0 {
		t.Fatalf("no venue in the first line: %.200s", first)
	}
	i += len(`"venue":"`)
	bad := []byte(first[:i] + "Caf\xe9 \xff\xfe Gold \u00e9" + first[i:])
	d := esa.NewDecoder()
	var msg esa.Message
	if err := d.Decode(bad, &msg); err != nil {
		t.Fatal(err)
	}
	c := NewMarketCache(Options{})
	ms := c.Apply(&msg)
	if len(ms) != 1 {
		t.Fatalf("%d markets", len(ms))
	}
	out := ms[0].AppendLightweightJSON(nil, JSONOptions{})
	if !utf8.Valid(out) {
		t.Fatalf("book is not UTF-8: %q", out[:200])
	}
	var book map[string]any
	if err := json.Unmarshal(out, &book); err != nil {
		t.Fatal(err)
	}
	// encoding/json's own rendering of the bad name is the reference.
	want, _ := json.Marshal("Caf\xe9 \xff\xfe Gold \u00e9")
	if !bytes.Contains(out, want[1:len(want)-1]) {
		t.Errorf("book holds the name as %q, want encoding/json's %s", out[bytes.Index(out, []byte("Caf")):][:30], want)
	}

	// A book of valid input is byte for byte what it was.
	msg.Reset()
	if err := d.Decode(lines[0], &msg); err != nil {
		t.Fatal(err)
	}
	good := NewMarketCache(Options{}).Apply(&msg)[0].AppendLightweightJSON(nil, JSONOptions{})
	if bytes.Contains(good, []byte(`\ufffd`)) {
		t.Error("a valid line's book holds \\ufffd")
	}
}

package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// TestPrepare: each copy of a real tape has a market id of its own in every
// line, starts with the market's image at the common start, and keeps only
// publish times inside its window, in order.
func TestPrepare(t *testing.T) {
	in := testenv.Testdata(t, "tapes/1.197931750")
	out := t.TempDir()
	if err := prepare([]string{"-markets", "3", "-o", out, in}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1.19793175000", "1.19793175001", "1.19793175002"} {
		f, err := os.Open(filepath.Join(out, id))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		dec := esa.NewDecoder()
		var msg esa.Message
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		n, last := 0, int64(0)
		for sc.Scan() {
			n++
			line := sc.Bytes()
			if err := dec.Decode(line, &msg); err != nil {
				t.Fatalf("%s line %d: %v", id, n, err)
			}
			for _, mc := range msg.MC {
				if string(mc.ID) != id {
					t.Fatalf("%s line %d: market %s", id, n, mc.ID)
				}
			}
			if n == 1 && (msg.Pt != 1_700_000_000_000 || len(msg.MC) == 0 || !msg.MC[0].Img) {
				t.Fatalf("%s: first line pt %d, want the image at the common start", id, msg.Pt)
			}
			if msg.Pt < last || msg.Pt > 1_700_000_000_000+12*60_000 {
				t.Fatalf("%s line %d: pt %d after %d, outside the window", id, n, msg.Pt, last)
			}
			last = msg.Pt
			if bytes.Contains(line, []byte(`"1.197931750"`)) {
				t.Fatalf("%s line %d still names the real market", id, n)
			}
		}
		if err := sc.Err(); err != nil || n < 100 {
			t.Fatalf("%s: %d lines, %v", id, n, err)
		}
		t.Log(id, strconv.Itoa(n), "lines")
	}
}

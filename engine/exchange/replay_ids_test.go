package exchange

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tapedeck/tapedeck/internal/testenv"
)

// TestReplayHostileMarketID: a tape whose market id is a path does not make
// the exchange read (and serve as a catalogue) the JSON file it points at.
func TestReplayHostileMarketID(t *testing.T) {
	src, err := os.ReadFile(testenv.Testdata(t, "tapes/1.197931750"))
	if err != nil {
		t.Fatal(err)
	}
	top := t.TempDir()
	secret := filepath.Join(top, "secret")
	os.WriteFile(secret+".json", []byte(`{"auths":{"registry":{"auth":"c2VjcmV0"}}}`), 0o600)
	dir := filepath.Join(top, "tapes")
	os.MkdirAll(dir, 0o755)
	tape := filepath.Join(dir, "evil")
	os.WriteFile(tape, bytes.ReplaceAll(src, []byte(`"id":"1.197931750"`), []byte(`"id":"../secret"`)), 0o644)

	r, err := loadReplay(context.Background(), &Config{Tapes: []string{tape}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.markets) == 0 {
		t.Fatal("no market loaded")
	}
	for _, m := range r.markets {
		if m.catalogue != nil {
			t.Errorf("market %q got a catalogue read through its id: %s", m.id, m.catalogue)
		}
	}
}

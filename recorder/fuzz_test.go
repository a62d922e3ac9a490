package recorder

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/store"
)

// FuzzTapeNaming records one market change whose market id and definition
// ids come from the fuzzer, closes and uploads its tape, and checks where
// files went. Properties: nothing is written outside the spool and the
// destination; a market id of Betfair's form gets its tape uploaded, any
// other id's change is kept in the spool's quarantine file; it never panics.
func FuzzTapeNaming(f *testing.F) {
	f.Add("1.197931750", "4339", "31389771", "WIN", "GB")
	f.Add("../../../../home/user/.docker/config", "..", "../../..", "../", "/")
	f.Add("1.2", "4339/../..", ".", "..", "a\x00b")
	f.Add("", "", "", "", "")
	f.Fuzz(func(t *testing.T, id, eventTypeID, eventID, marketType, country string) {
		top := t.TempDir()
		// Deep enough that a "../" in any id, even repeated, stays in top.
		root := filepath.Join(top, strings.Repeat("d/", 40))
		spool, dest := filepath.Join(root, "spool"), filepath.Join(root, "dest")
		st, err := store.NewDir(dest)
		if err != nil {
			t.Fatal(err)
		}
		clk := &clock{t: time.Unix(1650392673, 0)}
		// Uncompressed: a zstd encoder per run would be most of the time.
		r := newTestRecorder(t, spool, st, clk, func(c *Config) { c.Compress = "none" })
		q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
		line := []byte(`{"op":"mcm","pt":1650392673420,"mc":[{"id":` + q(id) + `,"marketDefinition":{"eventTypeId":` + q(eventTypeID) +
			`,"eventId":` + q(eventID) + `,"marketType":` + q(marketType) + `,"countryCode":` + q(country) +
			`,"status":"CLOSED","marketTime":"2022-04-19T18:26:00.000Z"}}]}`)
		var m esa.Message
		if err := esa.NewDecoder().Decode(line, &m); err != nil {
			m.Reset() // as the stream client hands over a line it cannot decode
		}
		if err := r.Handle(context.Background(), line, &m); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Hour)
		if err := r.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := r.UploadClosed(context.Background()); err != nil {
			t.Fatal(err)
		}
		r.Shutdown()

		uploaded, quarantined := false, false
		filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			switch {
			case strings.HasPrefix(p, dest+string(filepath.Separator)):
				uploaded = uploaded || strings.HasSuffix(p, ".jsonl")
			case p == filepath.Join(spool, quarantineName):
				quarantined = true
			case strings.HasPrefix(p, spool+string(filepath.Separator)):
			default:
				t.Errorf("file written outside the spool and destination: %s", p)
			}
			return nil
		})
		if valid := esa.ValidMarketID(id); valid != uploaded || valid == quarantined {
			t.Errorf("market id %q (valid %v): uploaded %v, quarantined %v", id, valid, uploaded, quarantined)
		}
		if _, err := os.Stat(filepath.Join(spool, "open")); err != nil {
			t.Error(err)
		}
	})
}

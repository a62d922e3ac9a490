package recorder

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/store"
)

// files lists the regular files under root, relative and sorted.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(out)
	return out
}

// TestHostileMarketIDs: a stream that sends a market id that is not of
// Betfair's form ("../../x", null, "") writes nothing outside the spool and
// loses nothing: the change is kept in the spool's quarantine file, and the
// good markets of the same message go to their tapes as ever.
func TestHostileMarketIDs(t *testing.T) {
	root := t.TempDir()
	spool := filepath.Join(root, "spool")
	st, _ := store.NewDir(filepath.Join(root, "dest"))
	clk := &clock{t: time.Unix(1650392673, 0)}
	r := newTestRecorder(t, spool, st, clk, nil)

	lines := readLines(t, testenv.Testdata(t, "tapes/1.197931750"))
	good := lines[0]
	// The same message carrying a second market whose id is a path.
	i := bytes.Index(good, []byte(`"mc":[`)) + len(`"mc":[`)
	j := bytes.LastIndex(good, []byte("]}"))
	elem := good[i:j]
	evil := bytes.Replace(elem, []byte(`"id":"1.197931750"`), []byte(`"id":"../../../../dest/config"`), 1)
	two := slices.Concat(good[:j], []byte(","), evil, good[j:])

	dec := esa.NewDecoder()
	var m esa.Message
	if err := dec.Decode(two, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.MC) != 2 {
		t.Fatalf("crafted line has %d market changes", len(m.MC))
	}
	if err := r.Handle(context.Background(), two, &m); err != nil {
		t.Fatal(err)
	}
	// A null id fails to decode; the client hands such a line over raw,
	// with the op unknown.
	null := bytes.Replace(good, []byte(`"id":"1.197931750"`), []byte(`"id":null`), 1)
	if err := dec.Decode(null, &m); err == nil {
		t.Fatal("a null market id decoded")
	}
	m.Reset()
	if err := r.Handle(context.Background(), null, &m); err != nil {
		t.Fatal(err)
	}
	feed(t, r, clk, lines[1:])
	if err := r.Shutdown(); err != nil {
		t.Fatal(err)
	}

	got := files(t, root)
	want := []string{"spool/lock", "spool/open/1.197931750.jsonl", "spool/" + quarantineName}
	if !slices.Equal(got, want) {
		t.Errorf("files after the run:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	q, _ := os.ReadFile(filepath.Join(spool, quarantineName))
	qlines := bytes.Split(bytes.TrimSuffix(q, []byte("\n")), []byte("\n"))
	if len(qlines) != 2 || !bytes.Contains(qlines[0], evil) || !bytes.Equal(qlines[1], null) {
		t.Errorf("quarantine holds:\n%s\nwant the evil change, then the null-id line", q)
	}
	tape, _ := os.ReadFile(filepath.Join(spool, "open", "1.197931750.jsonl"))
	if want := append(bytes.Join(lines, []byte("\n")), '\n'); !bytes.Equal(tape, want) {
		t.Errorf("the good market's tape differs from its source (%d vs %d bytes)", len(tape), len(want))
	}
}

// TestExpandHostileFields: whatever a definition says, a tape's key stays
// in its folder under the prefix; Betfair's own values pass unchanged.
func TestExpandHostileFields(t *testing.T) {
	date := time.Date(2022, 4, 19, 18, 26, 0, 0, time.UTC)
	real := TapeInfo{MarketID: "1.197931750", EventTypeID: "4339", EventID: "31389771", MarketType: "WIN", CountryCode: "GB", Date: date}
	layout := "{event_type_id}/{country_code}/{market_type}/{yyyy}/{mm}/{dd}/{event_id}/{market_id}.jsonl.zst"
	if got, want := Expand(layout, real), "4339/GB/WIN/2022/04/19/31389771/1.197931750.jsonl.zst"; got != want {
		t.Errorf("Expand = %s, want %s", got, want)
	}
	for _, info := range []TapeInfo{
		{MarketID: "../../x", EventTypeID: "..", EventID: "../../../etc", MarketType: "../../..", CountryCode: "/", Date: date},
		{MarketID: "1.2/../../3", EventTypeID: "4339/..", EventID: "1\x00", MarketType: ".", CountryCode: "..\\..", Date: date},
	} {
		key := Expand(layout, info)
		full := path.Join("tapes", key)
		if strings.Contains(key, "..") && slices.Contains(strings.Split(key, "/"), "..") || !strings.HasPrefix(full, "tapes/") || path.Clean(full) != full || strings.Count(key, "/") != strings.Count(layout, "/") {
			t.Errorf("Expand(%+v) = %q: leaves its folder", info, key)
		}
	}
}

package record

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/pipeline"
	"github.com/tapedeck/tapedeck/store"
)

// finalBooks runs what `convert books` runs (pipeline.WriteBooks) on
// inputs and returns each market's last book, decoded.
func finalBooks(t *testing.T, inputs ...string) map[string]map[string]any {
	t.Helper()
	// Only each market's last line is kept and decoded: a day of books is
	// ~3 GB of JSON, which must not be held in memory (under -race it
	// took the test binary past the machine's memory).
	out := &lastBookWriter{last: map[string][]byte{}}
	res, err := pipeline.WriteBooks(context.Background(), inputs, out, pipeline.BooksOptions{Strict: true})
	if err != nil {
		t.Fatalf("books of %v: %v", inputs, err)
	}
	if res.BadLines != 0 || res.InputErrors != 0 {
		t.Fatalf("books of %v: %d bad lines, %d input errors", inputs, res.BadLines, res.InputErrors)
	}
	if out.err != nil {
		t.Fatalf("books of %v: %v", inputs, out.err)
	}
	last := map[string]map[string]any{}
	for id, line := range out.last {
		var b map[string]any
		if err := json.Unmarshal(line, &b); err != nil {
			t.Fatalf("books of %v, market %s: %v", inputs, id, err)
		}
		if b["marketId"] != id {
			t.Fatalf("books of %v: marketId %v decoded from a line of %s", inputs, b["marketId"], id)
		}
		last[id] = b
	}
	return last
}

// lastBookWriter receives `convert books` output and keeps each market's
// last line. Every line starts with {"marketId":"...", as the layout
// writes it.
type lastBookWriter struct {
	partial []byte
	last    map[string][]byte
	err     error
}

func (w *lastBookWriter) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	prefix := []byte(`{"marketId":"`)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := w.partial[:i]
		rest, ok := bytes.CutPrefix(line, prefix)
		id, _, found := bytes.Cut(rest, []byte(`"`))
		if (!ok || !found) && w.err == nil {
			w.err = fmt.Errorf("a line not starting with the market id: %.80s", line)
		}
		w.last[string(id)] = append(w.last[string(id)][:0], line...)
		w.partial = w.partial[i+1:]
	}
	w.partial = append(w.partial[:0:0], w.partial...)
	return len(p), nil
}

// diffBooks names the top-level fields in which two books differ.
func diffBooks(got, want map[string]any) []string {
	var keys []string
	for k := range want {
		if !reflect.DeepEqual(got[k], want[k]) {
			keys = append(keys, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// TestFinalBooks: `convert books` on the recording gives, for every market,
// the same last book as on the source tapes, field for field (publish
// time and the last streaming update included: the exchange sends each
// change with its recorded pt, and the recorder writes the bytes it got) —
// also when the connection dropped mid-stream and the recorder resumed
// with its clock.
func TestFinalBooks(t *testing.T) {
	srcs := []string{testenv.Shared(t, "data/streams/1.197931750"), testenv.Shared(t, "data/streams/1.197931751")}
	want := finalBooks(t, srcs...)
	if len(want) != 2 {
		t.Fatalf("%d markets in the sources, want 2", len(want))
	}
	for _, tc := range []struct {
		name   string
		faults exchange.Faults
	}{
		{"clean", exchange.Faults{}},
		{"dropped mid-stream", exchange.Faults{DropAfter: 40}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, sources := startExchange(t, tc.faults)
			dest, spool := t.TempDir(), t.TempDir()
			st, err := store.NewDir(dest)
			if err != nil {
				t.Fatal(err)
			}
			if err := record(t, st, "", spool, len(sources), "--exchange-info", info, "--spool", spool, "--dest", dest,
				"--close-grace", "10ms", "--sync", "20ms", "--log-level", "error"); err != nil {
				t.Fatalf("record run: %v", err)
			}
			got := finalBooks(t, dest)
			for id, w := range want {
				g, ok := got[id]
				if !ok {
					t.Errorf("market %s: no book from the recording", id)
					continue
				}
				if d := diffBooks(g, w); len(d) > 0 {
					t.Errorf("market %s: final books differ in %v", id, d)
					for _, k := range d {
						t.Logf("%s: recorded %s\nsource %s", k, short(g[k]), short(w[k]))
					}
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d markets recorded, want %d", len(got), len(want))
			}
		})
	}
}

// TestFinalBooksGreyhoundTar: the same on a day of Betfair's PRO greyhound
// files, served with the connection dropped every 5,000 changes.
func TestFinalBooksGreyhoundTar(t *testing.T) {
	testenv.Long(t)
	tarPath := testenv.Shared(t, "data/historic/pro-greyhounds-2022-03-01.tar")
	want := finalBooks(t, tarPath)
	dir := t.TempDir()
	ex, err := exchange.New(exchange.Config{Tapes: []string{tarPath}, Speed: 0, CertFile: filepath.Join(dir, "cert.pem"),
		Faults: exchange.Faults{DropAfter: 5000, DropEvery: true}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ex.Serve(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	info := filepath.Join(dir, "info.json")
	if err := ex.WriteInfo(info); err != nil {
		t.Fatal(err)
	}
	dest, spool := t.TempDir(), t.TempDir()
	st, err := store.NewDir(dest)
	if err != nil {
		t.Fatal(err)
	}
	if err := record(t, st, "", spool, len(want), "--exchange-info", info, "--spool", spool, "--dest", dest,
		"--close-grace", "10ms", "--sync", "50ms", "--log-level", "error"); err != nil {
		t.Fatalf("record run: %v", err)
	}
	got := finalBooks(t, dest)
	if len(got) != len(want) {
		t.Errorf("%d markets recorded, want %d", len(got), len(want))
	}
	for id, w := range want {
		if d := diffBooks(got[id], w); len(d) > 0 {
			t.Errorf("market %s: final books differ in %v", id, d)
		}
	}
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return fmt.Sprintf("%s... (%d bytes)", b[:300], len(b))
	}
	return string(b)
}

package tables_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/pipeline/tables"
	"github.com/tapedeck/tapedeck/tape"
)

const greyhoundTar = "data/historic/pro-greyhounds-2022-03-01.tar"

// tarMember returns the decompressed lines of the tar member whose name
// ends in suffix, read with the standard library only.
func tarMember(t testing.TB, tarPath, suffix string) [][]byte {
	t.Helper()
	f, err := os.Open(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("%s: no member ending in %s", tarPath, suffix)
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(h.Name, suffix) {
			data, err := io.ReadAll(bzip2.NewReader(tr))
			if err != nil {
				t.Fatalf("%s: %v", h.Name, err)
			}
			return splitLines(data)
		}
	}
}

// greyhound returns the lines of one market of the shared greyhound tar,
// skipping the test when the shared data is absent.
func greyhound(t testing.TB, marketID string) [][]byte {
	return tarMember(t, testenv.Shared(t, greyhoundTar), "/"+marketID+".bz2")
}

// sharedBz2 returns the lines of a bzip2 tape of the shared data,
// skipping the test when it is absent.
func sharedBz2(t *testing.T, name string) [][]byte {
	t.Helper()
	f, err := os.Open(testenv.Shared(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(bzip2.NewReader(f))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return splitLines(data)
}

// testdataTape returns the lines of an uncompressed tape in testdata/tapes.
func testdataTape(t testing.TB, name string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(testenv.Testdata(t, "tapes/"+name))
	if err != nil {
		t.Fatal(err)
	}
	return splitLines(data)
}

// testdataTapeAny returns the lines of a tape under testdata/, however it
// is compressed (the tape package sniffs it).
func testdataTapeAny(t testing.TB, name string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(testenv.Testdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	r, err := tape.NewTape(name, data).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return splitLines(plain)
}

func splitLines(data []byte) [][]byte {
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			out = append(out, bytes.Clone(sc.Bytes()))
		}
	}
	return out
}

// replay runs lines through the decoder, the market cache and a Builder:
// the code under test.
func replay(t testing.TB, lines [][]byte, grid tables.Grid) []*tables.Rows {
	t.Helper()
	return replayWith(t, lines, tables.Options{Grid: grid, Source: "test"})
}

func replayOpts(t *testing.T, lines [][]byte, opts tables.Options) *tables.Rows {
	t.Helper()
	opts.Source = "test"
	return one(t, replayWith(t, lines, opts))
}

func replayWith(t testing.TB, lines [][]byte, opts tables.Options) []*tables.Rows {
	t.Helper()
	dec := esa.NewDecoder()
	cache := book.NewMarketCache(book.Options{})
	b := tables.NewBuilder(opts)
	var msg esa.Message
	for i, l := range lines {
		if err := dec.Decode(l, &msg); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		var changed []*book.Market
		if msg.Op == esa.OpMCM {
			changed = cache.Apply(&msg)
		}
		b.Line(i+1, &msg, changed)
	}
	return b.Finish()
}

func one(t testing.TB, rows []*tables.Rows) *tables.Rows {
	t.Helper()
	if len(rows) != 1 || rows[0].Market == nil {
		t.Fatalf("want one market with a definition, got %d", len(rows))
	}
	return rows[0]
}

// The raw stream, decoded with encoding/json: the independent side of
// every test.
type rawLine struct {
	Op  string  `json:"op"`
	Pt  int64   `json:"pt"`
	MC  []rawMC `json:"mc"`
	Clk any     `json:"clk"`
}

type rawMC struct {
	ID  string  `json:"id"`
	Def *rawDef `json:"marketDefinition"`
	RC  []rawRC `json:"rc"`
}

type rawDef struct {
	Status                string  `json:"status"`
	InPlay                bool    `json:"inPlay"`
	MarketTime            string  `json:"marketTime"`
	EventTypeID           string  `json:"eventTypeId"`
	NumberOfActiveRunners int     `json:"numberOfActiveRunners"`
	Runners               []rawRD `json:"runners"`
}

type rawRD struct {
	ID               int64    `json:"id"`
	Hc               float64  `json:"hc"`
	Status           string   `json:"status"`
	AdjustmentFactor *float64 `json:"adjustmentFactor"`
	RemovalDate      string   `json:"removalDate"`
	Bsp              *float64 `json:"bsp"`
}

type rawRC struct {
	ID  int64        `json:"id"`
	Hc  float64      `json:"hc"`
	Ltp *float64     `json:"ltp"`
	Atb [][2]float64 `json:"atb"`
	Atl [][2]float64 `json:"atl"`
	Trd [][2]float64 `json:"trd"`
	Spb [][2]float64 `json:"spb"`
	Spl [][2]float64 `json:"spl"`
}

func decodeRaw(t *testing.T, lines [][]byte) []rawLine {
	t.Helper()
	out := make([]rawLine, len(lines))
	for i, l := range lines {
		if err := json.Unmarshal(l, &out[i]); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
	return out
}

func ptr[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

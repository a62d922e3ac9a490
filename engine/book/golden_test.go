package book

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// testdataDir is the repository's testdata directory, relative to this
// package.
const testdataDir = "../../testdata"

// readInput returns the lines of a stream file, plain or bz2.
func readInput(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".bz2") {
		r = bzip2.NewReader(f)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var lines [][]byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			lines = append(lines, l)
		}
	}
	return lines
}

// goldenInput finds the input a golden book file was made from.
func goldenInput(name string) (string, bool) {
	for _, p := range []string{
		filepath.Join(testdataDir, "tapes", name),
		filepath.Join(testdataDir, "tapes", name+".bz2"),
		filepath.Join(testdataDir, "messages", name+".jsonl"),
		filepath.Join(testdataDir, "messages", name),
	} {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

// goldenSpec returns the input and listener options a golden was made
// with, from the table in testdata/golden/README.md (columns: golden file,
// input relative to testdata, flags). ok is false when the README has no
// row for it.
func goldenSpec(golden string) (input string, opts Options, ok bool) {
	readme, err := os.ReadFile(filepath.Join(testdataDir, "golden", "README.md"))
	if err != nil {
		return "", opts, false
	}
	for _, line := range strings.Split(string(readme), "\n") {
		cols := strings.Split(line, "|")
		if len(cols) < 5 || strings.Trim(strings.TrimSpace(cols[1]), "`") != golden {
			continue
		}
		input = filepath.Join(testdataDir, strings.Trim(strings.TrimSpace(cols[2]), "`"))
		flags := cols[3]
		opts.CalculateMarketTv = strings.Contains(flags, "--calculate-market-tv")
		opts.CumulativeRunnerTv = strings.Contains(flags, "--cumulative-runner-tv")
		return input, opts, true
	}
	return "", opts, false
}

// TestBooksMatchBetfairlightweight replays each input a golden file was made
// from as bflw's historic generator does (after every line, a snapshot of
// every market in the cache) and compares each book with bflw's.
func TestBooksMatchBetfairlightweight(t *testing.T) {
	goldens, _ := filepath.Glob(filepath.Join(testdataDir, "golden", "books", "*.jsonl.zst"))
	if len(goldens) == 0 {
		t.Skip("no golden books in testdata/golden/books")
	}
	for _, g := range goldens {
		name := strings.TrimSuffix(filepath.Base(g), ".jsonl.zst")
		t.Run(name, func(t *testing.T) {
			input, opts, ok := goldenSpec(filepath.Base(g))
			if !ok {
				// Not in the README: <input>.calctv and <input>.cumulative
				// were made with bflw's calculate_market_tv and
				// cumulative_runner_tv options.
				base := name
				if b, cut := strings.CutSuffix(base, ".calctv"); cut {
					base, opts.CalculateMarketTv = b, true
				}
				if b, cut := strings.CutSuffix(base, ".cumulative"); cut {
					base, opts.CumulativeRunnerTv = b, true
				}
				if input, ok = goldenInput(base); !ok {
					t.Skipf("no input for %s in testdata/tapes or testdata/messages", name)
				}
			}
			want := readGolden(t, g)
			c := NewMarketCache(opts)
			var msg esa.Message
			var buf, canon []byte
			n := 0
			lines := readInput(t, input)
			for i, line := range lines {
				if err := decode(line, &msg); err != nil {
					t.Fatalf("%s:%d: %v", input, i+1, err)
				}
				c.Apply(&msg)
				for _, m := range c.Markets() {
					buf = m.AppendLightweightJSON(buf[:0], JSONOptions{Snap: true})
					if n >= len(want) {
						t.Fatalf("%s:%d: more books than the golden's %d", input, i+1, len(want))
					}
					// Comparing by value through encoding/json is slow: in
					// -short mode check every 16th book and the last.
					if testing.Short() && n%16 != 0 && !(i == len(lines)-1) {
						n++
						continue
					}
					// Equal canonical bytes are equal values: only a book
					// whose bytes still differ is compared by value, which
					// costs ten times as much.
					canon = canonicalJSON(canon[:0], buf)
					if bytes.Equal(canon, want[n]) {
						n++
						continue
					}
					if path, diff := diffJSON(buf, want[n]); diff != "" {
						t.Fatalf("%s:%d: book %d (golden line %d) differs at %s: %s\ngot:  %.2000s\nwant: %.2000s",
							input, i+1, n+1, n+1, path, diff, buf, want[n])
					}
					n++
				}
			}
			if n != len(want) {
				t.Fatalf("%d books, golden has %d", n, len(want))
			}
			t.Logf("%s: %d books match (options %+v)", name, n, opts)
		})
	}
}

func readGolden(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer zr.Close()
	var lines [][]byte
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		lines = append(lines, canonicalJSON(nil, sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return lines
}

// canonicalJSON appends b to dst without the space outside strings and
// without the ".0" of a whole number (Python writes 5.0 and ", "; Go 5 and
// ","), which leaves every value as it was: equal canonical forms are equal
// documents (unequal ones may still be equal, with keys in another order).
func canonicalJSON(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			j := i + 1
			for ; j < len(b) && b[j] != '"'; j++ {
				if b[j] == '\\' {
					j++
				}
			}
			dst = append(dst, b[i:min(j+1, len(b))]...)
			i = j
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
				j++
			}
			num := b[i:j]
			if k := bytes.IndexByte(num, '.'); k > 0 && len(bytes.Trim(num[k+1:], "0")) == 0 {
				num = num[:k]
			}
			dst = append(dst, num...)
			i = j - 1
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// diffJSON compares two JSON documents by value (numbers as float64, key
// order ignored) and returns the path and description of the first
// difference, or "" when equal.
func diffJSON(got, want []byte) (string, string) {
	var g, w any
	dg := json.NewDecoder(bytes.NewReader(got))
	dg.UseNumber()
	if err := dg.Decode(&g); err != nil {
		return "$", fmt.Sprintf("ours is not JSON: %v", err)
	}
	dw := json.NewDecoder(bytes.NewReader(want))
	dw.UseNumber()
	if err := dw.Decode(&w); err != nil {
		return "$", fmt.Sprintf("golden is not JSON: %v", err)
	}
	return diffValue("$", g, w)
}

func diffValue(path string, g, w any) (string, string) {
	switch wv := w.(type) {
	case map[string]any:
		gv, ok := g.(map[string]any)
		if !ok {
			return path, fmt.Sprintf("got %T, want object", g)
		}
		keys := make([]string, 0, len(wv))
		for k := range wv {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gx, ok := gv[k]
			if !ok {
				return path + "." + k, "missing"
			}
			if p, d := diffValue(path+"."+k, gx, wv[k]); d != "" {
				return p, d
			}
		}
		for k := range gv {
			if _, ok := wv[k]; !ok {
				return path + "." + k, "unexpected key"
			}
		}
	case []any:
		gv, ok := g.([]any)
		if !ok {
			return path, fmt.Sprintf("got %T, want array", g)
		}
		for i := 0; i < len(wv) && i < len(gv); i++ {
			if p, d := diffValue(fmt.Sprintf("%s[%d]", path, i), gv[i], wv[i]); d != "" {
				return p, d
			}
		}
		if len(gv) != len(wv) {
			return path, fmt.Sprintf("got %d elements, want %d", len(gv), len(wv))
		}
	case json.Number:
		gv, ok := g.(json.Number)
		if !ok {
			return path, fmt.Sprintf("got %v, want %v", g, w)
		}
		gf, err1 := strconv.ParseFloat(string(gv), 64)
		wf, err2 := strconv.ParseFloat(string(wv), 64)
		if err1 != nil || err2 != nil || gf != wf {
			return path, fmt.Sprintf("got %s, want %s", gv, wv)
		}
	default:
		if g != w {
			return path, fmt.Sprintf("got %#v, want %#v", g, w)
		}
	}
	return "", ""
}

// TestCanonicalJSON: the canonical form drops only what carries no value.
func TestCanonicalJSON(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"a": 5.0, "b": [1.50, -2.000, 1.0e5]}`, `{"a":5,"b":[1.50,-2,1.0e5]}`},
		{`{"s": "x: 5.0, y", "t": "q\" 1.0"}`, `{"s":"x: 5.0, y","t":"q\" 1.0"}`},
		{`{"n": null, "f": false, "v": 10}`, `{"n":null,"f":false,"v":10}`},
	} {
		if got := canonicalJSON(nil, []byte(c.in)); string(got) != c.want {
			t.Errorf("canonicalJSON(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

package book

import (
	"bytes"
	"compress/bzip2"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/engine/book/booktest"
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
			want := booktest.ReadGolden(t, g)
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
					canon = booktest.Canonical(canon[:0], buf)
					if bytes.Equal(canon, want[n]) {
						n++
						continue
					}
					if path, diff := booktest.Diff(buf, want[n]); diff != "" {
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

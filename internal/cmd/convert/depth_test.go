package convert

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// parquetTable is every row of one table of a dataset, read generically:
// its column names and, per row, each column's value.
type parquetTable struct {
	cols []string
	rows []map[string]pq.Value
}

// tablePaths lists the Parquet files of table under dest, in key order.
func tablePaths(t *testing.T, dest, table string) []string {
	t.Helper()
	var paths []string
	for _, k := range listKeys(t, filepath.Join(dest, table)) {
		if strings.HasSuffix(k, ".parquet") {
			paths = append(paths, filepath.Join(dest, table, k))
		}
	}
	return paths
}

// readTable reads every file of table under dest, in key order.
func readTable(t *testing.T, dest, table string) parquetTable {
	t.Helper()
	return readParquet(t, tablePaths(t, dest, table)...)
}

// readParquet reads every row of the Parquet files at paths, which must
// have the same columns.
func readParquet(t *testing.T, paths ...string) parquetTable {
	t.Helper()
	var out parquetTable
	out.cols = eachRow(t, paths, func(cols []string, row []pq.Value) {
		m := make(map[string]pq.Value, len(cols))
		for i, v := range row {
			m[cols[i]] = v.Clone()
		}
		out.rows = append(out.rows, m)
	})
	return out
}

// eachRow calls fn with every row of the Parquet files at paths, which must
// have the same columns: row[i] is the value of cols[i] (the last one when
// a column repeats; a zero Value, which reads as null, when it has none).
// row and its values are reused after fn returns, so fn copies what it
// keeps; this spares the tests that only count rows a map per row. It
// returns the files' columns.
func eachRow(t *testing.T, paths []string, fn func(cols []string, row []pq.Value)) []string {
	t.Helper()
	var prev []string
	for _, k := range paths {
		f, err := os.Open(k)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		pf, err := pq.OpenFile(f, fi.Size())
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		var cols []string
		for _, path := range pf.Schema().Columns() {
			cols = append(cols, path[0])
		}
		if prev != nil && strings.Join(cols, ",") != strings.Join(prev, ",") {
			t.Fatalf("%s: columns %v, other files %v", k, cols, prev)
		}
		prev = cols
		r := pq.NewReader(pf)
		buf := make([]pq.Row, 64)
		vals := make([]pq.Value, len(cols))
		for {
			n, err := r.ReadRows(buf)
			for _, row := range buf[:n] {
				clear(vals)
				for _, v := range row {
					vals[v.Column()] = v
				}
				fn(cols, vals)
			}
			if err != nil {
				break
			}
		}
		r.Close()
		f.Close()
	}
	return prev
}

// bookLine is what the depth test reads of a convert books line.
type bookLine struct {
	PublishTime int64 `json:"publishTime"`
	Runners     []struct {
		SelectionID int64   `json:"selectionId"`
		Handicap    float64 `json:"handicap"`
		Ex          struct {
			AvailableToBack []struct{ Price, Size float64 } `json:"availableToBack"`
			AvailableToLay  []struct{ Price, Size float64 } `json:"availableToLay"`
		} `json:"ex"`
	} `json:"runners"`
}

// TestParquetDepthMatchesBooks checks --depth against convert books on
// real tapes: at depth 10 and 1, every snapshot's prices and sizes a side
// are the best ones of the book as of the snapshot's instant (the last
// book published at or before it), null past the book's depth; the depth-1
// dataset has no second level; and at depth 10 every column the default
// depth writes holds the default's values.
func TestParquetDepthMatchesBooks(t *testing.T) {
	for _, name := range []string{"1.205822330.bz2", "1.197931750"} {
		t.Run(name, func(t *testing.T) {
			tape := testenv.Testdata(t, "tapes/"+name)
			dir := t.TempDir()
			booksFile := filepath.Join(dir, "books.jsonl")
			if out, err := runConvert(t, "books", tape, "-o", booksFile); err != nil {
				t.Fatalf("books: %v\n%s", err, out)
			}
			books := readBooks(t, booksFile)
			datasets := map[int]parquetTable{}
			var offTime int64
			for _, depth := range []int{1, 3, 10} {
				dest := filepath.Join(dir, fmt.Sprintf("d%d", depth))
				if out, err := runConvert(t, "parquet", "--depth", fmt.Sprint(depth), "--tables", "snapshots,markets", tape, "-o", dest); err != nil {
					t.Fatalf("parquet --depth %d: %v\n%s", depth, err, out)
				}
				datasets[depth] = readTable(t, dest, "snapshots")
				mk := readTable(t, dest, "markets").rows[0]["off_time"]
				if !mk.IsNull() {
					offTime = mk.Int64()
				}
			}
			for _, depth := range []int{1, 10} {
				checkDepth(t, datasets[depth], depth, books, offTime)
			}
			if cols := datasets[1].cols; strings.Contains(strings.Join(cols, ","), "_2") {
				t.Errorf("depth 1 columns %v", cols)
			}
			d3, d10 := datasets[3], datasets[10]
			if len(d3.rows) != len(d10.rows) {
				t.Fatalf("%d rows at depth 3, %d at depth 10", len(d3.rows), len(d10.rows))
			}
			for i, row := range d3.rows {
				for _, c := range d3.cols {
					if a, b := row[c], d10.rows[i][c]; !pq.Equal(a, b) || a.IsNull() != b.IsNull() {
						t.Fatalf("row %d %s: %v at depth 3, %v at depth 10", i, c, a, b)
					}
				}
			}
		})
	}
}

func readBooks(t *testing.T, path string) []bookLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []bookLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var b bookLine
		if err := json.Unmarshal(sc.Bytes(), &b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// checkDepth compares each snapshot of d, taken at depth, with the book
// as of its instant. A point at the off itself is left out: it is the
// state before the off's line, which may share its millisecond with
// other lines.
func checkDepth(t *testing.T, d parquetTable, depth int, books []bookLine, offTime int64) {
	t.Helper()
	checked, deep := 0, 0
	for _, row := range d.rows {
		at := row["snapshot_time"].Int64()
		if row["ref"].String() == "off" && at == offTime {
			continue
		}
		i := len(books) - 1
		for i >= 0 && books[i].PublishTime > at {
			i--
		}
		if i < 0 {
			t.Fatalf("snapshot at %d before the first book", at)
		}
		id, hc := row["selection_id"].Int64(), row["handicap"].Double()
		found := false
		for _, r := range books[i].Runners {
			if r.SelectionID != id || r.Handicap != hc {
				continue
			}
			found = true
			sides := []struct {
				name   string
				levels []struct{ Price, Size float64 }
			}{{"back", r.Ex.AvailableToBack}, {"lay", r.Ex.AvailableToLay}}
			for _, side := range sides {
				for k := 1; k <= depth; k++ {
					price, size := row[fmt.Sprintf("%s_price_%d", side.name, k)], row[fmt.Sprintf("%s_size_%d", side.name, k)]
					if k > len(side.levels) {
						if !price.IsNull() || !size.IsNull() {
							t.Fatalf("%d at %d: %s level %d is %v/%v, the book has %d levels", id, at, side.name, k, price, size, len(side.levels))
						}
						continue
					}
					want := side.levels[k-1]
					if price.IsNull() || size.IsNull() || price.Double() != want.Price || size.Double() != want.Size {
						t.Fatalf("%d at %d: %s level %d is %v/%v, the book says %v/%v", id, at, side.name, k, price, size, want.Price, want.Size)
					}
					if k > 3 {
						deep++
					}
				}
			}
		}
		if !found {
			t.Fatalf("%d at %d: not in the book", id, at)
		}
		checked++
	}
	if checked == 0 || depth > 3 && deep == 0 {
		t.Fatalf("depth %d: %d snapshots checked, %d values past the third level", depth, checked, deep)
	}
	t.Logf("depth %d: %d snapshots, %d values past the third level", depth, checked, deep)
}

// TestParquetDepthOutOfRange checks that a depth outside 1..10 is a usage
// error (exit code 2) naming the flag.
func TestParquetDepthOutOfRange(t *testing.T) {
	for _, depth := range []string{"0", "11", "-1"} {
		_, err := runConvert(t, "parquet", "--depth", depth, testenv.Testdata(t, "tapes/1.197931750"), "-o", t.TempDir())
		var usage *cli.UsageError
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), "--depth") {
			t.Errorf("--depth %s: %v, want a usage error naming --depth", depth, err)
		}
	}
}

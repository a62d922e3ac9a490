package convert

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/pipeline/parquet"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/storetest"
)

// compactInputs are real tapes converted one run each, so that the two
// greyhound markets of 2022-04-19 land in one partition as two batches of
// small files, and the horse-racing one alone in another.
var compactInputs = []string{"1.197931750", "1.197931751", "1.205822330.bz2"}

// smallFilesDataset converts compactInputs into a fresh dataset, one run
// each, and returns it and the inputs' paths.
func smallFilesDataset(t *testing.T) (string, []string) {
	t.Helper()
	dest := t.TempDir()
	var inputs []string
	for _, n := range compactInputs {
		in := testenv.Testdata(t, "tapes/"+n)
		inputs = append(inputs, in)
		if out, err := runConvert(t, "parquet", in, "-o", dest); err != nil {
			t.Fatalf("%s: %v\n%s", n, err, out)
		}
	}
	return dest, inputs
}

// datasetRows is every row a reader globbing each table's *.parquet sees,
// as text, counted.
func datasetRows(t *testing.T, dest string) map[string]int {
	t.Helper()
	rows := map[string]int{}
	for _, table := range parquet.TableNames() {
		if table == parquet.TableFiles {
			continue
		}
		var b []byte
		eachRow(t, tablePaths(t, dest, table), func(cols []string, row []pq.Value) {
			// The text %v prints (Value.String's), built without fmt's
			// cost, which was most of TestCompactInterrupted's time.
			b = append(b[:0], table...)
			for i, c := range cols {
				b = append(append(append(b, '|'), c...), '=')
				switch v := row[i]; v.Kind() {
				case pq.ByteArray, pq.FixedLenByteArray:
					b = append(b, v.ByteArray()...)
				default:
					b = append(b, v.String()...)
				}
			}
			rows[string(b)]++
		})
	}
	return rows
}

// checkFilesTable checks that the files table lists each input once, and
// that the markets file of the batch it names holds the input's markets.
func checkFilesTable(t *testing.T, dest string, inputs int) {
	t.Helper()
	files := readFiles(t, dest)
	seen := map[string]bool{}
	for _, f := range files {
		id := f.Source + ":" + f.Member
		if seen[id] {
			t.Fatalf("files table lists %s twice", id)
		}
		seen[id] = true
		var ids []string
		for _, k := range listKeys(t, filepath.Join(dest, "markets")) {
			if parquet.BatchOf(k) != f.Batch {
				continue
			}
			for _, r := range readParquet(t, filepath.Join(dest, "markets", k)).rows {
				ids = append(ids, r["market_id"].String())
			}
		}
		if !slices.Contains(ids, f.MarketIDs) {
			t.Fatalf("%s: batch %s holds markets %v, not %s", id, f.Batch, ids, f.MarketIDs)
		}
	}
	if len(seen) != inputs {
		t.Fatalf("files table lists %d inputs, want %d", len(seen), inputs)
	}
}

// partitionFiles counts the data files of each table and partition.
func partitionFiles(t *testing.T, dest string) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, k := range listKeys(t, dest) {
		if strings.HasSuffix(k, ".parquet") && !strings.HasPrefix(k, "files/") {
			n[filepath.Dir(k)]++
		}
	}
	return n
}

func TestCompact(t *testing.T) {
	dest, inputs := smallFilesDataset(t)
	before := datasetRows(t, dest)
	out, err := runConvert(t, "compact", dest)
	if err != nil {
		t.Fatalf("compact: %v\n%s", err, out)
	}
	// Two batches of the greyhound partition (8 tables) became one.
	if !strings.HasPrefix(out, "1 partitions compacted: 16 files replaced by 8") {
		t.Errorf("summary: %s", out)
	}
	for dir, n := range partitionFiles(t, dest) {
		if n != 1 {
			t.Errorf("%s: %d files after compact", dir, n)
		}
	}
	if after := datasetRows(t, dest); !equalCounts(before, after) {
		t.Fatalf("rows changed: %d distinct before, %d after", len(before), len(after))
	}
	checkFilesTable(t, dest, len(inputs))
	// Markets in id order across the merged file.
	for _, k := range listKeys(t, filepath.Join(dest, "ladder_deltas")) {
		if strings.Contains(k, "part-compact-") {
			ids := []string{}
			for _, r := range readParquet(t, filepath.Join(dest, "ladder_deltas", k)).rows {
				ids = append(ids, r["market_id"].String())
			}
			if !slices.IsSorted(ids) || len(slices.Compact(ids)) != 2 {
				t.Errorf("%s: markets %v, want two in id order", k, slices.Compact(ids))
			}
		}
	}
	// A rerun finds every input done; compacting again has nothing to do.
	out, err = runConvert(t, append([]string{"parquet", "-o", dest}, inputs...)...)
	if err != nil || !strings.Contains(out, "0 inputs converted, 3 skipped as done") {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	if out, err = runConvert(t, "compact", dest); err != nil || !strings.HasPrefix(out, "0 partitions compacted") {
		t.Fatalf("second compact: %v\n%s", err, out)
	}
	// --force redoes the inputs and removes the compacted batch.
	if out, err = runConvert(t, append([]string{"parquet", "--force", "-o", dest}, inputs...)...); err != nil {
		t.Fatalf("--force: %v\n%s", err, out)
	}
	if after := datasetRows(t, dest); !equalCounts(before, after) {
		t.Fatalf("rows after --force differ: %d distinct before, %d after", len(before), len(after))
	}
	checkFilesTable(t, dest, len(inputs))
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, n := range a {
		if b[k] != n {
			return false
		}
	}
	return true
}

// errCrash stands for a crash at one step of a compaction.
var errCrash = errors.New("crash")

// TestCompactInterrupted stops a compaction before one of its steps, as
// a crash would (no clean-up): the first and the last step of each kind
// (staging, manifest, deleting and copying data files, then the files
// table's, clean-up). At every such point a reader sees no row twice and
// no row that was not there; the next run, compact or convert parquet
// (alternately), finishes or undoes the compaction, after which every row
// is there once and the files table lists every input once, naming files
// that hold it.
func TestCompactInterrupted(t *testing.T) {
	ctx := context.Background()
	orig, inputs := smallFilesDataset(t)
	before := datasetRows(t, orig)
	copyDataset := func() (string, store.Store) {
		dest := filepath.Join(t.TempDir(), "dataset")
		if err := os.CopyFS(dest, os.DirFS(orig)); err != nil {
			t.Fatal(err)
		}
		st, err := store.NewDir(dest)
		if err != nil {
			t.Fatal(err)
		}
		return dest, st
	}
	// The steps of a whole compaction, by kind.
	var kinds []string
	_, st := copyDataset()
	if _, err := parquet.Compact(ctx, st, "", parquet.CompactOptions{Run: "all", TempDir: t.TempDir(), Step: func(name string) error {
		kind, rest, _ := strings.Cut(name, " ")
		if strings.HasPrefix(rest, "files/") {
			kind += " files"
		}
		kinds = append(kinds, kind)
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	if len(kinds) < 10 {
		t.Fatalf("%d steps: %v", len(kinds), kinds)
	}
	for k := range kinds {
		if k > 0 && k < len(kinds)-1 && kinds[k] == kinds[k-1] && kinds[k] == kinds[k+1] {
			continue
		}
		dest, st := copyDataset()
		steps := 0
		var at string
		_, err := parquet.Compact(ctx, st, "", parquet.CompactOptions{Run: fmt.Sprint("t", k), TempDir: t.TempDir(),
			Step: func(name string) error {
				if steps == k {
					at = name
					return errCrash
				}
				steps++
				return nil
			}})
		if !errors.Is(err, errCrash) {
			t.Fatalf("step %d: %v", k, err)
		}
		for row, n := range datasetRows(t, dest) {
			if n > before[row] {
				t.Fatalf("crash before %q: a reader sees %d of a row there were %d of: %s", at, n, before[row], row)
			}
		}
		var out string
		if k%2 == 0 {
			out, err = runConvert(t, "compact", dest)
		} else {
			out, err = runConvert(t, append([]string{"parquet", "-o", dest}, inputs...)...)
			if err == nil && !strings.Contains(out, "0 inputs converted, 3 skipped as done") {
				err = fmt.Errorf("inputs converted again")
			}
		}
		if err != nil {
			t.Fatalf("after a crash before %q: %v\n%s", at, err, out)
		}
		if after := datasetRows(t, dest); !equalCounts(before, after) {
			t.Fatalf("after a crash before %q and a rerun: %d distinct rows, want %d", at, len(after), len(before))
		}
		checkFilesTable(t, dest, len(inputs))
		if keys := listKeys(t, filepath.Join(dest, "_compact")); len(keys) > 0 {
			t.Fatalf("after a crash before %q and a rerun: staging left: %v", at, keys)
		}
		t.Logf("crash before %s: recovered", at)
	}
}

// TestParquetFilesWrittenCount checks the summary's file count against the
// files that exist: tables with no rows in a partition (orders, mostly)
// write no file and are not counted, and a rerun that converts one more
// input counts only the files it added.
func TestParquetFilesWrittenCount(t *testing.T) {
	written := regexp.MustCompile(`; (\d+) files written to `)
	count := func(out string) int {
		m := written.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no file count in:\n%s", out)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	parquetFiles := func(dest string) int {
		n := 0
		for _, k := range listKeys(t, dest) {
			if strings.HasSuffix(k, ".parquet") {
				n++
			}
		}
		return n
	}
	in := sampleTapes(t)
	dest := t.TempDir()
	extra := filepath.Join(in, "1.205822330.bz2")
	moved := filepath.Join(t.TempDir(), "1.205822330.bz2")
	if err := os.Rename(extra, moved); err != nil {
		t.Fatal(err)
	}
	out, err := runConvert(t, "parquet", "--workers", "2", "--tables", "all", in, "-o", dest)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	first := parquetFiles(dest)
	if got := count(out); got != first || first == 0 {
		t.Fatalf("summary says %d files written, %d exist", got, first)
	}
	out, err = runConvert(t, "parquet", "--workers", "2", "--tables", "all", in, moved, "-o", dest)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got, added := count(out), parquetFiles(dest)-first; got != added || added == 0 {
		t.Fatalf("rerun: summary says %d files written, %d were added", got, added)
	}
}

// TestParquetCompactOption checks --compact: a run adding a second market
// to a partition leaves one file per table there, every row once, and
// refuses --shard.
func TestParquetCompactOption(t *testing.T) {
	dest := t.TempDir()
	var inputs []string
	for _, n := range compactInputs[:2] {
		inputs = append(inputs, testenv.Testdata(t, "tapes/"+n))
	}
	if out, err := runConvert(t, "parquet", inputs[0], "-o", dest); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err := runConvert(t, "parquet", "--compact", inputs[1], "-o", dest)
	if err != nil || !strings.Contains(out, "\n1 partitions compacted: 16 files replaced by 8") {
		t.Fatalf("--compact: %v\n%s", err, out)
	}
	for dir, n := range partitionFiles(t, dest) {
		if n != 1 {
			t.Errorf("%s: %d files", dir, n)
		}
	}
	checkFilesTable(t, dest, 2)
	ref := t.TempDir()
	if out, err := runConvert(t, append([]string{"parquet", "-o", ref}, inputs...)...); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got, want := datasetRows(t, dest), datasetRows(t, ref); !equalCounts(got, want) {
		t.Fatalf("%d distinct rows after --compact, %d in one run", len(got), len(want))
	}
	_, err = runConvert(t, "parquet", "--compact", "--shard", "0/2", inputs[0], "-o", t.TempDir())
	var usage *cli.UsageError
	if !errors.As(err, &usage) {
		t.Errorf("--compact --shard: %v, want a usage error", err)
	}
}

// TestCompactS3 compacts a dataset under a prefix of a bucket on the test
// S3 server: two runs' batches of one partition become one, the files
// table follows, no staging is left, and a sibling prefix sharing the
// dataset's name as a string prefix ("dataset2") is left alone by convert
// and compact alike.
func TestCompactS3(t *testing.T) {
	src, opts := storetest.URL(t, "tapes/")
	ctx := context.Background()
	st, prefix, err := store.Open(ctx, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	root := strings.TrimSuffix(src, "tapes/")
	flags := []string{"--s3-endpoint", storetest.Endpoint(t), "--s3-path-style"}
	var sibling []store.Object
	for _, dest := range []string{root + "dataset2", root + "dataset"} {
		if dest == root+"dataset" {
			if sibling, err = st.List(ctx, "dataset2/"); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range compactInputs[:2] {
			data, err := os.ReadFile(testenv.Testdata(t, "tapes/"+n))
			if err != nil {
				t.Fatal(err)
			}
			storetest.Put(t, st, prefix+n, data)
			if out, err := runConvert(t, append([]string{"parquet", src, "-o", dest}, flags...)...); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
		}
	}
	out, err := runConvert(t, append([]string{"compact", root + "dataset"}, flags...)...)
	if err != nil || !strings.HasPrefix(out, "1 partitions compacted: 16 files replaced by 8") {
		t.Fatalf("compact: %v: %s", err, out)
	}
	rows, err := parquet.ReadFiles(ctx, st, "dataset")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Batch != rows[1].Batch || !strings.HasPrefix(rows[0].Batch, "compact-") {
		t.Fatalf("files table: %+v", rows)
	}
	objs, err := st.List(ctx, "dataset/")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if b := parquet.BatchOf(o.Key); b != rows[0].Batch || strings.Contains(o.Key, "_compact") {
			t.Errorf("left after compact: %s", o.Key)
		}
	}
	if after, _ := st.List(ctx, "dataset2/"); len(after) != len(sibling) {
		t.Errorf("sibling dataset2: %d objects, had %d", len(after), len(sibling))
	}
	if out, err := runConvert(t, append([]string{"parquet", src, "-o", root + "dataset"}, flags...)...); err != nil || !strings.HasPrefix(out, "0 inputs converted, 2 skipped") {
		t.Fatalf("rerun: %v: %s", err, out)
	}
}

// TestCompactLeavesInputsListedTwice: a --force run stopped before it
// removed the old rows leaves inputs listed under two batches. Compact
// leaves those batches alone (merged, the old rows could not be told from
// the new); the next convert run removes the old ones, and compact then
// merges what is left.
func TestCompactLeavesInputsListedTwice(t *testing.T) {
	dest, inputs := smallFilesDataset(t)
	want := datasetRows(t, dest)
	other, _ := smallFilesDataset(t)
	for _, k := range listKeys(t, other) {
		if strings.HasSuffix(k, ".parquet") {
			data, err := os.ReadFile(filepath.Join(other, k))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dest, k), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	out, err := runConvert(t, "compact", dest)
	if err != nil || !strings.HasPrefix(out, "0 partitions compacted") {
		t.Fatalf("compact with inputs listed twice: %v\n%s", err, out)
	}
	if out, err := runConvert(t, append([]string{"parquet", "-o", dest}, inputs...)...); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err = runConvert(t, "compact", dest)
	if err != nil || !strings.HasPrefix(out, "1 partitions compacted") {
		t.Fatalf("compact: %v\n%s", err, out)
	}
	if got := datasetRows(t, dest); !equalCounts(got, want) {
		t.Fatalf("%d distinct rows, want %d", len(got), len(want))
	}
	checkFilesTable(t, dest, len(inputs))
}

// TestCompactRowGroups checks that merged row groups close on market
// boundaries once they reach the row-group size: at one byte, each
// market of the merged partition is a row group of its own.
func TestCompactRowGroups(t *testing.T) {
	dest, _ := smallFilesDataset(t)
	st, err := store.NewDir(dest)
	if err != nil {
		t.Fatal(err)
	}
	res, err := parquet.Compact(context.Background(), st, "", parquet.CompactOptions{RowGroup: 1, Run: "rg", TempDir: t.TempDir()})
	if err != nil || res.Partitions != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
	checked := 0
	for _, k := range listKeys(t, dest) {
		if !strings.Contains(k, "part-compact-rg-0.parquet") || strings.HasPrefix(k, "files/") {
			continue
		}
		f, err := os.Open(filepath.Join(dest, k))
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		pf, err := pq.OpenFile(f, fi.Size())
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := pf.Schema().Lookup("market_id")
		var markets []string
		for _, rg := range pf.RowGroups() {
			ids := map[string]bool{}
			pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
			for {
				p, err := pages.ReadPage()
				if err != nil {
					break
				}
				vals := make([]pq.Value, p.NumValues())
				n, _ := p.Values().ReadValues(vals)
				for _, v := range vals[:n] {
					ids[v.String()] = true
				}
			}
			pages.Close()
			if len(ids) != 1 {
				t.Fatalf("%s: a row group holds markets %v", k, ids)
			}
			for id := range ids {
				markets = append(markets, id)
			}
		}
		f.Close()
		checked++
		if len(markets) != 2 || !slices.IsSorted(markets) {
			t.Errorf("%s: row groups of markets %v, want the two in id order", k, markets)
		}
	}
	if checked != 8 {
		t.Fatalf("%d merged files, want 8", checked)
	}
}

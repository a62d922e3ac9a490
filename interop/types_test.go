package interop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// convertSamples writes the dataset of the bundled sample tapes (and, when
// present, the shared horse-racing tape) with the built convert command
// and returns its directory.
func convertSamples(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	inputs := []string{filepath.Join(root, "testdata", "tapes")}
	if horse := sharedFile(root, "data/historic/1.205822330.bz2"); horse != "" {
		inputs = append(inputs, horse)
	}
	conv := buildConvert(t, root)
	ds := filepath.Join(t.TempDir(), "dataset")
	out, err := exec.Command(conv, append(append([]string{"parquet"}, inputs...), "-o", ds)...).CombinedOutput()
	if err != nil {
		t.Fatalf("convert parquet: %v\n%s", err, out)
	}
	return ds
}

// TestEventTypeIDOneType reads event_type_id with and without DuckDB's
// Hive partition columns, and with Apache Arrow's Parquet reader (an
// implementation sharing nothing with the writer's parquet-go): the
// column in the files and the partition directory must agree, in type and
// in value, so that tables join on it whichever way they were read.
func TestEventTypeIDOneType(t *testing.T) {
	ds := convertSamples(t)
	db, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	types := map[string]string{}
	for _, hive := range []string{"true", "false"} {
		res, err := Query(ctx, db, "SELECT DISTINCT typeof(event_type_id) AS ty FROM read_parquet('"+ds+"/markets/**/*.parquet', hive_partitioning = "+hive+")")
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != 1 {
			t.Fatalf("hive_partitioning = %s: types %v, want one", hive, res.Rows)
		}
		types[hive] = FormatValue(res.Rows[0][0])
	}
	if types["true"] != types["false"] || types["true"] != "BIGINT" {
		t.Errorf("event_type_id is %s with hive_partitioning and %s without; want BIGINT both", types["true"], types["false"])
	}
	// A join across the two ways of reading, as polars would refuse with
	// two types.
	res, err := Query(ctx, db, `SELECT count(*) AS n, count(*) FILTER (m.event_type_id = r.event_type_id) AS same
FROM read_parquet('`+ds+`/runners/**/*.parquet', hive_partitioning = true) r
JOIN read_parquet('`+ds+`/markets/**/*.parquet', hive_partitioning = false) m USING (market_id)`)
	if err != nil {
		t.Fatal(err)
	}
	if n, same := num(res.Rows[0][0]), num(res.Rows[0][1]); n == 0 || n != same {
		t.Errorf("runners joined to markets: %v rows, %v with the same event_type_id", n, same)
	}

	files, err := filepath.Glob(filepath.Join(ds, "markets", "event_type_id=*", "date=*", "*.parquet"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no markets files: %v", err)
	}
	seen := 0
	for _, f := range files {
		part := filepath.Base(filepath.Dir(filepath.Dir(f)))
		want, err := strconv.ParseInt(strings.TrimPrefix(part, "event_type_id="), 10, 64)
		if err != nil {
			t.Fatalf("%s: partition %q is not an integer", f, part)
		}
		for _, v := range arrowInt64Column(t, f, "event_type_id") {
			if v != want {
				t.Errorf("%s: event_type_id %d in the file, %d in the partition", f, v, want)
			}
			seen++
		}
	}
	if seen == 0 {
		t.Fatal("no markets rows read")
	}
	t.Logf("%d markets rows in %d files agree with their partition", seen, len(files))
}

// arrowInt64Column reads one column of a Parquet file with Apache Arrow's
// reader, failing unless it is int64.
func arrowInt64Column(t *testing.T, path, name string) []int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer tbl.Release()
	idx := tbl.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("%s: no column %s in %s", path, name, tbl.Schema())
	}
	if ty := tbl.Schema().Field(idx[0]).Type; ty.ID() != arrow.INT64 {
		t.Fatalf("%s: %s is %s, want int64", path, name, ty)
	}
	var out []int64
	for _, c := range tbl.Column(idx[0]).Data().Chunks() {
		out = append(out, c.(*array.Int64).Int64Values()...)
	}
	return out
}

package convert

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/internal/shard"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/pipeline/parquet"
	"github.com/tapedeck/tapedeck/pipeline/tables"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/storetest"
)

// runConvert runs the convert command with args and returns its output.
func runConvert(t testing.TB, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// sampleTapes copies a few licensed tapes into a fresh directory, so that
// their modification times belong to the test.
func sampleTapes(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range []string{"BASIC-1.132153978", "1.197931750", "1.197931751", "1.205822330.bz2", "1.164917629.bz2"} {
		data, err := os.ReadFile(testenv.Testdata(t, "tapes/"+n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readFiles(t *testing.T, dest string) []tables.File {
	t.Helper()
	st, err := store.NewDir(dest)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := parquet.ReadFiles(context.Background(), st, "")
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// marketIDs reads the market ids of every markets-table file under dest.
func marketIDs(t *testing.T, dest string) []string {
	t.Helper()
	st, _ := store.NewDir(dest)
	objs, err := st.List(context.Background(), "markets/")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range objs {
		rows, err := parquet.ReadAll[tables.Market](context.Background(), st, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			ids = append(ids, r.MarketID)
		}
	}
	slices.Sort(ids)
	return ids
}

func listKeys(t *testing.T, dest string) []string {
	t.Helper()
	var keys []string
	filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dest, p)
			keys = append(keys, filepath.ToSlash(rel))
		}
		return nil
	})
	return keys
}

func TestParquetResumeAndForce(t *testing.T) {
	in := sampleTapes(t)
	dest := filepath.Join(t.TempDir(), "ds")

	out, err := runConvert(t, "parquet", in, "-o", dest, "--workers", "2")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "5 inputs converted, 0 skipped") {
		t.Fatalf("first run: %s", out)
	}
	first := listKeys(t, dest)
	ids := marketIDs(t, dest)
	if len(ids) != 5 || len(slices.Compact(slices.Clone(ids))) != 5 {
		t.Fatalf("markets %v, want 5 distinct", ids)
	}
	files := readFiles(t, dest)
	if len(files) != 5 {
		t.Fatalf("files table has %d rows, want 5", len(files))
	}
	for _, f := range files {
		if f.Lines == 0 || f.MarketIDs == "" || f.ModTime == nil || f.Bytes <= 0 || f.DoneAt == 0 {
			t.Errorf("files row incomplete: %+v", f)
		}
	}

	out, err = runConvert(t, "parquet", in, "-o", dest)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "0 inputs converted, 5 skipped") {
		t.Fatalf("second run: %s", out)
	}
	if second := listKeys(t, dest); !slices.Equal(first, second) {
		t.Fatalf("second run changed the dataset:\n%v\n%v", first, second)
	}

	// A changed input is done again, with the other inputs of its old
	// batch, whose rows then all go: no market twice.
	p := filepath.Join(in, "BASIC-1.132153978")
	later := time.Now().Add(time.Hour)
	os.Chtimes(p, later, later)
	out, err = runConvert(t, "parquet", in, "-o", dest)
	if err != nil || strings.HasPrefix(out, "0 inputs") || !strings.Contains(out, "4 skipped") {
		t.Fatalf("after changing one input: %v %s", err, out)
	}
	if got := marketIDs(t, dest); !slices.Equal(got, ids) {
		t.Fatalf("after changing one input markets %v, want %v", got, ids)
	}

	out, err = runConvert(t, "parquet", in, "-o", dest, "--force")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "5 inputs converted, 0 skipped") {
		t.Fatalf("--force run: %s", out)
	}
	// --force replaced the old rows: each market once, each input once
	// with its current version.
	if got := marketIDs(t, dest); !slices.Equal(got, ids) {
		t.Fatalf("after --force markets %v, want %v", got, ids)
	}
	if files := readFiles(t, dest); len(files) != 5 {
		t.Fatalf("after --force the files table has %d rows, want 5", len(files))
	}
}

func TestParquetShards(t *testing.T) {
	in := sampleTapes(t)
	dest := filepath.Join(t.TempDir(), "ds")
	// A leftover of an interrupted run of shard 1/3: a data file whose
	// batch no files-table part lists. The shard's next run removes it.
	orphan := filepath.Join(dest, "markets/event_type_id=7/date=2017-06-13/part-s1of3-x-w0-0.parquet")
	os.MkdirAll(filepath.Dir(orphan), 0o755)
	os.WriteFile(orphan, []byte("half"), 0o644)

	seen := map[string]int{}
	for k := range 3 {
		out, err := runConvert(t, "parquet", in, "-o", dest, "--shard", []string{"0/3", "1/3", "2/3"}[k])
		if err != nil {
			t.Fatalf("shard %d: %v\n%s", k, err, out)
		}
	}
	for _, f := range readFiles(t, dest) {
		seen[f.Source+":"+f.Member]++
		if want := []string{"s0of3", "s1of3", "s2of3"}[shard.Of(f.Source, 3)]; !strings.HasPrefix(f.Batch, want+"-") {
			t.Errorf("%s in batch %s, want shard %s", f.Source, f.Batch, want)
		}
	}
	if len(seen) != 5 {
		t.Fatalf("shards covered %d inputs, want 5: %v", len(seen), seen)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s converted %d times", k, n)
		}
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Errorf("the interrupted run's file is still there: %v", err)
	}
	if ids := marketIDs(t, dest); len(ids) != 5 {
		t.Errorf("markets %v, want 5", ids)
	}
	// A missing input is reported, the rest converted, and the exit code
	// says something failed.
	out, err := runConvert(t, "parquet", filepath.Join(in, "missing"), in, "-o", dest, "--force")
	if err == nil || !strings.HasPrefix(out, "5 inputs converted") || !strings.Contains(out, "1 unreadable") {
		t.Errorf("missing input: %v: %s", err, out)
	}
	if _, err := runConvert(t, "parquet", in, "-o", dest, "--shard", "3/3"); err == nil {
		t.Error("--shard 3/3 accepted")
	}
}

func TestParquetCorruptTarMember(t *testing.T) {
	// A tar of two bzip2 tapes, the second damaged in its middle.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := []string{"1.205822330.bz2", "1.164917629.bz2"}
	for i, n := range names {
		data, err := os.ReadFile(testenv.Testdata(t, "tapes/"+n))
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			data = bytes.Clone(data)
			for j := len(data) / 2; j < len(data)/2+64; j++ {
				data[j] ^= 0x5a
			}
		}
		tw.WriteHeader(&tar.Header{Name: "PRO/" + n, Mode: 0o644, Size: int64(len(data))})
		tw.Write(data)
	}
	tw.Close()
	arch := filepath.Join(t.TempDir(), "damaged.tar")
	os.WriteFile(arch, buf.Bytes(), 0o644)
	dest := filepath.Join(t.TempDir(), "ds")

	out, err := runConvert(t, "parquet", arch, "-o", dest)
	if err != nil {
		t.Fatalf("a damaged member must not stop the run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "first error:") || !strings.Contains(out, "1.164917629.bz2") {
		t.Errorf("summary does not report the damaged member: %s", out)
	}
	files := readFiles(t, dest)
	if len(files) != 2 {
		t.Fatalf("files table has %d rows, want 2", len(files))
	}
	for _, f := range files {
		damaged := strings.HasSuffix(f.Member, names[1])
		if damaged != (f.FirstError != "") {
			t.Errorf("member %s: first_error %q", f.Member, f.FirstError)
		}
	}
	if ids := marketIDs(t, dest); !slices.Contains(ids, "1.205822330") {
		t.Errorf("the good member was not converted: %v", ids)
	}

	if _, err := runConvert(t, "parquet", arch, "-o", filepath.Join(t.TempDir(), "strict"), "--strict"); err == nil {
		t.Error("--strict accepted a damaged member")
	}
}

// S3 both ways, on the test server scripts/test.sh starts (skipped
// without it): tapes read from one prefix, the dataset written under
// another, and a rerun that skips what is done by ETag.
func TestParquetS3(t *testing.T) {
	in := sampleTapes(t)
	src, opts := storetest.URL(t, "tapes/")
	ctx := context.Background()
	st, prefix, err := store.Open(ctx, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(in)
	for _, e := range ents {
		data, _ := os.ReadFile(filepath.Join(in, e.Name()))
		storetest.Put(t, st, prefix+e.Name(), data)
	}
	dest := strings.TrimSuffix(src, "tapes/") + "dataset"
	flags := []string{"--s3-endpoint", storetest.Endpoint(t), "--s3-path-style"}
	out, err := runConvert(t, append([]string{"parquet", src, "-o", dest}, flags...)...)
	if err != nil || !strings.HasPrefix(out, "5 inputs converted") {
		t.Fatalf("%v: %s", err, out)
	}
	out, err = runConvert(t, append([]string{"parquet", src, "-o", dest}, flags...)...)
	if err != nil || !strings.HasPrefix(out, "0 inputs converted, 5 skipped") {
		t.Fatalf("rerun: %v: %s", err, out)
	}
	rows, err := parquet.ReadFiles(ctx, st, "dataset")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("files table: %d rows", len(rows))
	}
	for _, r := range rows {
		if r.ETag == "" || !strings.HasPrefix(r.Source, "s3://") {
			t.Errorf("files row: source %s etag %q", r.Source, r.ETag)
		}
	}
}

// A --force run killed after writing its new batches but before deleting
// the old ones leaves every input listed twice; the next run removes the
// older batches.
func TestParquetInterruptedForce(t *testing.T) {
	in := sampleTapes(t)
	dest := filepath.Join(t.TempDir(), "ds")
	if out, err := runConvert(t, "parquet", in, "-o", dest); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	ids := marketIDs(t, dest)
	// The state such a run leaves: a second conversion's batches beside
	// the first's.
	other := filepath.Join(t.TempDir(), "ds")
	time.Sleep(5 * time.Millisecond) // later done_at
	if out, err := runConvert(t, "parquet", in, "-o", other); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, k := range listKeys(t, other) {
		data, _ := os.ReadFile(filepath.Join(other, k))
		os.MkdirAll(filepath.Dir(filepath.Join(dest, k)), 0o755)
		os.WriteFile(filepath.Join(dest, k), data, 0o644)
	}
	if got := marketIDs(t, dest); len(got) != 2*len(ids) {
		t.Fatalf("set-up: %d markets", len(got))
	}
	out, err := runConvert(t, "parquet", in, "-o", dest)
	if err != nil || !strings.HasPrefix(out, "0 inputs converted, 5 skipped") {
		t.Fatalf("%v: %s", err, out)
	}
	if got := marketIDs(t, dest); !slices.Equal(got, ids) {
		t.Fatalf("markets %v, want %v", got, ids)
	}
	if got := readFiles(t, dest); len(got) != 5 {
		t.Fatalf("files table has %d rows, want 5", len(got))
	}
	if got, want := listKeys(t, dest), listKeys(t, other); !slices.Equal(got, want) {
		t.Errorf("kept files %v, want the later run's %v", got, want)
	}
}

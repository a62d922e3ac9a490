package convert

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/pipeline"
	"github.com/tapedeck/tapedeck/pipeline/tables"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/storetest"
	"github.com/tapedeck/tapedeck/tape"
)

// statsJSON runs convert stats --json and decodes its output.
func statsJSON(t *testing.T, args ...string) (*pipeline.Stats, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&bytes.Buffer{})
	root.SetArgs(append([]string{"stats", "--json"}, args...))
	err := root.ExecuteContext(context.Background())
	var st pipeline.Stats
	if jerr := json.Unmarshal(out.Bytes(), &st); jerr != nil {
		t.Fatalf("stats --json printed no JSON (%v): %s", jerr, out.String())
	}
	return &st, err
}

// countLines counts the lines of a file, 0 when it does not exist.
func countLines(t *testing.T, p string) int {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}

// An input that does not exist, or a glob that matches nothing, fails every
// convert command (exit 1), and books -o writes no file when nothing could
// be read (issue 13 item 4).
func TestMissingInputFailsEveryCommand(t *testing.T) {
	dir := t.TempDir()
	good := testenv.Testdata(t, "tapes/1.197931750")
	for _, in := range []string{filepath.Join(dir, "nope.bz2"), filepath.Join(dir, "*.zst"), filepath.Join(dir, "**", "*.zst")} {
		out := filepath.Join(dir, "books.jsonl")
		if _, err := runConvert(t, "books", in, "-o", out); !errors.Is(err, tape.ErrUnreadable) {
			t.Errorf("books %s: error %v, want tape.ErrUnreadable", in, err)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("books %s: -o file written (%v)", in, err)
		}
		if _, err := runConvert(t, "stats", in); !errors.Is(err, tape.ErrUnreadable) {
			t.Errorf("stats %s: error %v, want tape.ErrUnreadable", in, err)
		}
		if _, err := runConvert(t, "parquet", in, "-o", filepath.Join(dir, "ds")); !errors.Is(err, tape.ErrUnreadable) {
			t.Errorf("parquet %s: error %v, want tape.ErrUnreadable", in, err)
		}
	}

	// With a good input beside the missing one, what could be read is
	// kept and the run still fails.
	out := filepath.Join(dir, "some.jsonl")
	if _, err := runConvert(t, "books", filepath.Join(dir, "nope.bz2"), good, "-o", out); !errors.Is(err, tape.ErrUnreadable) {
		t.Errorf("books with one input missing: %v", err)
	}
	if n := countLines(t, out); n != 166 {
		t.Errorf("books with one input missing wrote %d books, want the good input's 166", n)
	}
	st, err := statsJSON(t, filepath.Join(dir, "nope.bz2"), good)
	if !errors.Is(err, tape.ErrUnreadable) || st.Total.Lines != 166 || len(st.Errors) != 1 {
		t.Errorf("stats with one input missing: %v, %d lines, errors %q", err, st.Total.Lines, st.Errors)
	}
}

// truncatedTar writes a tar of two real tapes that ends in the middle of
// the second, as an interrupted download does.
func truncatedTar(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var second int
	for _, n := range []string{"1.197931750", "1.197931751"} {
		data, err := os.ReadFile(testenv.Testdata(t, "tapes/"+n))
		if err != nil {
			t.Fatal(err)
		}
		second = buf.Len()
		tw.WriteHeader(&tar.Header{Name: "PRO/" + n, Mode: 0o644, Size: int64(len(data))})
		tw.Write(data)
		tw.Flush()
	}
	tw.Close()
	cut := buf.Bytes()[:second+512+(buf.Len()-second)/3]
	p := filepath.Join(t.TempDir(), "cut.tar")
	if err := os.WriteFile(p, cut, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A tar cut short is one rule for all commands (issue 13 item 5): the
// member the archive ends in is a tape cut short, its lines before the cut
// are kept and it is reported (in stats, and in convert parquet's files
// table), the run exits 0; --strict stops with exit 1.
func TestTruncatedTarOneRule(t *testing.T) {
	arch := truncatedTar(t)
	dir := t.TempDir()

	st, err := statsJSON(t, arch)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	if len(st.Tapes) != 2 || st.Tapes[0].ReadError != "" || !strings.Contains(st.Tapes[1].ReadError, "PRO/1.197931751") ||
		st.Tapes[1].Lines == 0 {
		t.Errorf("stats: tapes %+v; want the second cut short, with its lines before the cut", st.Tapes)
	}

	books := filepath.Join(dir, "books.jsonl")
	if out, err := runConvert(t, "books", arch, "-o", books); err != nil {
		t.Fatalf("books: %v: %s", err, out)
	}
	if n := countLines(t, books); n <= 166 {
		t.Errorf("books: %d books, want the first tape's 166 and the second's before the cut", n)
	}

	dest := filepath.Join(dir, "ds")
	if out, err := runConvert(t, "parquet", arch, "-o", dest); err != nil {
		t.Fatalf("parquet: %v: %s", err, out)
	}
	files := readFiles(t, dest)
	slices.SortFunc(files, func(a, b tables.File) int { return strings.Compare(a.Member, b.Member) })
	if len(files) != 2 || files[0].FirstError != "" || !strings.Contains(files[1].FirstError, "truncated") || files[1].Lines == 0 {
		t.Errorf("parquet files table: %+v; want both members, the second with its error and lines", files)
	}
	if ids := marketIDs(t, dest); !slices.Equal(ids, []string{"1.197931750", "1.197931751"}) {
		t.Errorf("parquet markets %v, want both", ids)
	}

	for _, args := range [][]string{
		{"stats", "--strict", arch},
		{"books", "--strict", arch, "-o", filepath.Join(dir, "strict.jsonl")},
		{"parquet", "--strict", arch, "-o", filepath.Join(dir, "strict")},
	} {
		if _, err := runConvert(t, args...); err == nil {
			t.Errorf("%s: a truncated tar accepted under --strict", strings.Join(args, " "))
		}
	}
}

// convert stats and convert parquet count the same markets: every market
// id with market or order changes (issue 14 item 15; the order tape's
// market has no market changes).
func TestStatsAndParquetCountTheSameMarkets(t *testing.T) {
	in := testenv.Testdata(t, "tapes")
	st, err := statsJSON(t, in)
	if err != nil {
		t.Fatal(err)
	}
	var statsIDs []string
	for _, ts := range st.Tapes {
		for _, m := range ts.Markets {
			statsIDs = append(statsIDs, m.ID)
		}
	}
	slices.Sort(statsIDs)
	dest := filepath.Join(t.TempDir(), "ds")
	out, err := runConvert(t, "parquet", in, "-o", dest)
	if err != nil {
		t.Fatal(err)
	}
	// The files table lists every market a tape gave rows to (the markets
	// table has no row for a market without a definition).
	var ids []string
	for _, f := range readFiles(t, dest) {
		if f.MarketIDs != "" { // a race or cricket tape holds no market
			ids = append(ids, strings.Split(f.MarketIDs, ",")...)
		}
	}
	slices.Sort(ids)
	if !slices.Equal(statsIDs, ids) || st.Total.NumMarkets != len(ids) {
		t.Errorf("stats counts %d markets %v, parquet %v", st.Total.NumMarkets, statsIDs, ids)
	}
	if !strings.Contains(out, " "+strconv.Itoa(len(ids))+" markets,") {
		t.Errorf("parquet summary does not say %d markets: %s", len(ids), out)
	}
}

// convert stats and convert books read s3:// inputs as convert parquet
// does, on the test S3 server (skipped without it).
func TestStatsAndBooksReadS3(t *testing.T) {
	src, opts := storetest.URL(t, "tapes/")
	ctx := context.Background()
	st, prefix, err := store.Open(ctx, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"1.197931750", "1.205822330.bz2"} {
		data, err := os.ReadFile(testenv.Testdata(t, "tapes/"+n))
		if err != nil {
			t.Fatal(err)
		}
		storetest.Put(t, st, prefix+n, data)
	}
	flags := []string{"--s3-endpoint", storetest.Endpoint(t), "--s3-path-style"}
	local, err := statsJSON(t, testenv.Testdata(t, "tapes/1.197931750"), testenv.Testdata(t, "tapes/1.205822330.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	remote, err := statsJSON(t, append([]string{src}, flags...)...)
	if err != nil {
		t.Fatalf("stats %s: %v", src, err)
	}
	if remote.Total.Lines != local.Total.Lines || remote.Total.MarketChanges != local.Total.MarketChanges ||
		remote.Total.NumMarkets != local.Total.NumMarkets || !strings.HasPrefix(remote.Tapes[0].Path, "s3://") {
		t.Errorf("stats over S3: %+v, want the local figures %+v", remote.Total, local.Total)
	}

	dir := t.TempDir()
	localBooks, remoteBooks := filepath.Join(dir, "local.jsonl"), filepath.Join(dir, "remote.jsonl")
	if _, err := runConvert(t, "books", testenv.Testdata(t, "tapes/1.197931750"), testenv.Testdata(t, "tapes/1.205822330.bz2"), "-o", localBooks); err != nil {
		t.Fatal(err)
	}
	if out, err := runConvert(t, append([]string{"books", src, "-o", remoteBooks}, flags...)...); err != nil {
		t.Fatalf("books %s: %v: %s", src, err, out)
	}
	a, _ := os.ReadFile(localBooks)
	b, _ := os.ReadFile(remoteBooks)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("books over S3 differ from the local ones (%d and %d bytes)", len(b), len(a))
	}
}

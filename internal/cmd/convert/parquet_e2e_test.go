package convert

// End-to-end tests of the built convert binary against the test S3 server
// (scripts/test.sh starts it; without it these skip, or fail under CI, as
// storetest decides): S3 in and S3 out, and a run killed with SIGKILL that
// must leave only whole objects and resume.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	pq "github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/pipeline/parquet"
	"github.com/tapedeck/tapedeck/pipeline/tables"
	"github.com/tapedeck/tapedeck/store"
	s3store "github.com/tapedeck/tapedeck/store/s3"
	"github.com/tapedeck/tapedeck/store/storetest"
)

// buildBinary builds this command into a temporary directory: the tests
// run what users run, as a separate process that can be killed.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "convert")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/tapedeck/tapedeck/cmd/convert").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// upload copies local files into st under prefix, keeping their names.
func upload(t *testing.T, st store.Store, prefix string, paths ...string) {
	t.Helper()
	ctx := context.Background()
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		w, err := st.Create(ctx, prefix+filepath.Base(p))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// wholeParquet reads every row of every row group of one stored Parquet
// file: a cut or half-written object fails here.
func wholeParquet(ctx context.Context, st store.Store, key string) (int64, error) {
	rc, err := st.Open(ctx, key)
	if err != nil {
		return 0, err
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	if !bytes.HasPrefix(data, []byte("PAR1")) || !bytes.HasSuffix(data, []byte("PAR1")) {
		return 0, fmt.Errorf("%s: %d bytes without Parquet's PAR1 at both ends", key, len(data))
	}
	f, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	var n int64
	buf := make([]pq.Row, 256)
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		for {
			k, err := rows.ReadRows(buf)
			n += int64(k)
			if err == io.EOF {
				break
			}
			if err != nil {
				rows.Close()
				return n, fmt.Errorf("%s: row %d: %w", key, n, err)
			}
		}
		rows.Close()
	}
	if n != f.NumRows() {
		return n, fmt.Errorf("%s: read %d rows, footer says %d", key, n, f.NumRows())
	}
	return n, nil
}

// checkObjects lists everything under prefix and fails t unless every
// object is a whole Parquet file; it returns the keys.
func checkObjects(t *testing.T, st store.Store, prefix string) []string {
	t.Helper()
	ctx := context.Background()
	objs, err := st.List(ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
		if !strings.HasSuffix(o.Key, ".parquet") {
			t.Errorf("%s: not a .parquet object (a temporary or partial name?)", o.Key)
			continue
		}
		if _, err := wholeParquet(ctx, st, o.Key); err != nil {
			t.Error(err)
		}
	}
	return keys
}

// datasetMarkets reads the market ids of every markets-table object.
func datasetMarkets(t *testing.T, st store.Store, prefix string) []string {
	t.Helper()
	ctx := context.Background()
	objs, err := st.List(ctx, prefix+"markets/")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range objs {
		rows, err := parquet.ReadAll[tables.Market](ctx, st, o.Key)
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

var summaryRE = regexp.MustCompile(`(\d+) inputs converted, (\d+) skipped as done, (\d+) unreadable; (\d+) markets`)

// summary parses the one-line summary: converted, skipped, unreadable,
// markets.
func summary(t *testing.T, out string) [4]int {
	t.Helper()
	m := summaryRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary line in:\n%s", out)
	}
	var n [4]int
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	return n
}

// The sample tapes go up to a bucket, the built binary converts them from
// S3 to S3, and what it wrote reads back: whole Parquet files only, the
// samples' markets, and a files table naming the s3:// inputs with ETags.
func TestParquetE2ES3(t *testing.T) {
	st := storetest.S3(t)
	bin := buildBinary(t)
	tapes, err := filepath.Glob(testenv.Testdata(t, "tapes/*"))
	if err != nil || len(tapes) == 0 {
		t.Fatalf("no sample tapes: %v", err)
	}
	upload(t, st, "in/", tapes...)
	bucket := "s3://" + st.Bucket()
	ep := os.Getenv(storetest.EnvEndpoint)
	out, err := exec.Command(bin, "parquet", bucket+"/in/", "-o", bucket+"/out",
		"--s3-endpoint", ep, "--s3-path-style").CombinedOutput()
	if err != nil {
		t.Fatalf("convert parquet: %v\n%s", err, out)
	}
	if n := summary(t, string(out)); n[0] != len(tapes) || n[2] != 0 {
		t.Fatalf("want %d inputs converted, none unreadable:\n%s", len(tapes), out)
	}
	keys := checkObjects(t, st, "out/")
	tablesSeen := map[string]bool{}
	for _, k := range keys {
		tablesSeen[strings.SplitN(strings.TrimPrefix(k, "out/"), "/", 2)[0]] = true
	}
	for _, tb := range []string{"markets", "runners", "market_definitions", "runner_definitions",
		"ladder_deltas", "trades", "snapshots", "market_snapshots", "orders", "files"} {
		if !tablesSeen[tb] {
			t.Errorf("no %s objects under out/ (got %v)", tb, keys)
		}
	}

	// The same tapes converted from the local directory give the same
	// markets.
	local := t.TempDir()
	if out, err := exec.Command(bin, append(append([]string{"parquet"}, tapes...), "-o", local)...).CombinedOutput(); err != nil {
		t.Fatalf("local convert parquet: %v\n%s", err, out)
	}
	ld, err := store.NewDir(local)
	if err != nil {
		t.Fatal(err)
	}
	got, want := datasetMarkets(t, st, "out/"), datasetMarkets(t, ld, "")
	if !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("markets from S3 %v, from the directory %v", got, want)
	}
	files, err := parquet.ReadFiles(context.Background(), st, "out")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tapes) {
		t.Errorf("files table: %d rows, want %d", len(files), len(tapes))
	}
	for _, f := range files {
		if !strings.HasPrefix(f.Source, bucket+"/in/") || f.ETag == "" {
			t.Errorf("files row: source %q, etag %q", f.Source, f.ETag)
		}
	}
}

// A run killed with SIGKILL in the middle of writing to S3 leaves only
// whole Parquet objects (an unfinished multipart upload is never listed),
// and a rerun skips the inputs the killed run finished and completes the
// rest. Input: the shared greyhound archive, with a one-second grid that
// makes the run write several batches.
func TestParquetE2EKillResume(t *testing.T) {
	st := storetest.S3(t)
	tar := ""
	if d := testenv.SharedDir(t); d != "" {
		tar = filepath.Join(d, "data/historic/pro-greyhounds-2022-03-01.tar")
	}
	if _, err := os.Stat(tar); tar == "" || err != nil {
		t.Skip("the shared greyhound archive (../shared/data/historic) is not here")
	}
	if testing.Short() {
		t.Skip("-short: the kill-and-resume run takes about a minute")
	}
	bin := buildBinary(t)
	dest := "s3://" + st.Bucket() + "/out"
	args := []string{"parquet", tar, "-o", dest, "--workers", "1", "--grid", "3600:-600:1",
		"--s3-endpoint", os.Getenv(storetest.EnvEndpoint), "--s3-path-style", "--s3-part-size", strconv.Itoa(int(s3store.MinPartSize))}

	// Kill as soon as the first batch's files part exists: the run has
	// finished some inputs and is in the middle of the others.
	ctx := context.Background()
	cmd := exec.Command(bin, args...)
	var killedOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &killedOut, &killedOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
wait:
	for {
		select {
		case err := <-exited:
			t.Fatalf("convert finished (%v) before its first batch was seen; nothing was interrupted:\n%s", err, killedOut.String())
		case <-poll.C:
			objs, err := st.List(ctx, "out/files/")
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) > 0 {
				break wait
			}
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	t.Logf("killed; its output so far:\n%s", killedOut.String())

	checkObjects(t, st, "out/")
	ups, err := st.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(st.Bucket())})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after the kill: %d unfinished multipart uploads (not objects; a lifecycle rule or store.AbortIncomplete clears them)", len(ups.Uploads))
	doneBefore, err := parquet.ReadFiles(ctx, st, "out")
	if err != nil {
		t.Fatal(err)
	}
	if len(doneBefore) == 0 {
		t.Fatal("no files-table rows after the kill, though a files part was listed")
	}

	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	t.Logf("rerun: %s", strings.TrimSpace(string(out)))
	n := summary(t, string(out))
	if n[1] != len(doneBefore) || n[0] == 0 || n[2] != 0 {
		t.Errorf("rerun converted %d and skipped %d, want the %d done before skipped and the rest converted:\n%s",
			n[0], n[1], len(doneBefore), out)
	}
	checkObjects(t, st, "out/")
	files, err := parquet.ReadFiles(ctx, st, "out")
	if err != nil {
		t.Fatal(err)
	}
	members := map[string]bool{}
	var fromFiles []string
	for _, f := range files {
		if members[f.Member] {
			t.Errorf("member %s listed twice in the files table", f.Member)
		}
		members[f.Member] = true
		if f.MarketIDs != "" {
			fromFiles = append(fromFiles, strings.Split(f.MarketIDs, ",")...)
		}
	}
	if len(files) != n[0]+n[1] {
		t.Errorf("files table: %d inputs, want %d", len(files), n[0]+n[1])
	}
	// Every market once: the killed run's leftovers are gone.
	slices.Sort(fromFiles)
	if got := datasetMarkets(t, st, "out/"); !slices.Equal(got, fromFiles) {
		t.Errorf("markets table holds %d markets, the files table lists %d", len(got), len(fromFiles))
	}
}

package pipeline

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tape"
)

// The expected figures were computed independently of tapedeck, with
// python's json and bz2 modules over the same files (see the test names).
func TestCollectStatsOnSamples(t *testing.T) {
	tests := []struct {
		tape          string
		lines         int64
		changes       int64
		status        string
		winners       []int64
		firstPt, last int64
	}{
		{"1.197931750", 166, 166, "CLOSED", []int64{37947503}, 1650392673420, 1650392996470},
		{"1.197931751", 166, 166, "CLOSED", []int64{37947503, 39823721}, 1650392673420, 1650392996470},
		{"1.205822330.bz2", 5654, 5654, "CLOSED", []int64{49808334, 49808335, 49808342}, 1667194696535, 1667268150590},
		{"BASIC-1.132153978", 480, 480, "CLOSED", []int64{12115648}, 1497351220318, 1497466782073},
		{"1.164917629.bz2", 298, 298, "OPEN", []int64{}, 1573466106063, 1573466481103},
	}
	for _, workers := range []int{1, 2} {
		for _, tt := range tests {
			path := testenv.Testdata(t, filepath.Join("tapes", tt.tape))
			st, err := CollectStats(context.Background(), []string{path}, StatsOptions{Workers: workers})
			if err != nil {
				t.Fatalf("%s: %v", tt.tape, err)
			}
			if len(st.Tapes) != 1 {
				t.Fatalf("%s: %d tapes, want 1", tt.tape, len(st.Tapes))
			}
			got := st.Tapes[0]
			if got.Lines != tt.lines || got.MarketChanges != tt.changes || got.BadLines != 0 {
				t.Errorf("%s: lines %d changes %d bad %d, want %d %d 0", tt.tape, got.Lines, got.MarketChanges, got.BadLines, tt.lines, tt.changes)
			}
			if got.FirstPt != tt.firstPt || got.LastPt != tt.last {
				t.Errorf("%s: publish times %d..%d, want %d..%d", tt.tape, got.FirstPt, got.LastPt, tt.firstPt, tt.last)
			}
			if len(got.Markets) != 1 {
				t.Fatalf("%s: %d markets, want 1", tt.tape, len(got.Markets))
			}
			m := got.Markets[0]
			if m.Status != tt.status || !equalIDs(m.Winners, tt.winners) {
				t.Errorf("%s: status %s winners %v, want %s %v", tt.tape, m.Status, m.Winners, tt.status, tt.winners)
			}
			fi, _ := os.Stat(path)
			if got.BytesIn != fi.Size() || got.BytesRaw < got.BytesIn {
				t.Errorf("%s: bytes in %d raw %d, file has %d", tt.tape, got.BytesIn, got.BytesRaw, fi.Size())
			}
		}
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCollectStatsCountsRaceAndCricketAsSkipped(t *testing.T) {
	st, err := CollectStats(context.Background(), []string{
		testenv.Testdata(t, "tapes/RACE-1.140075353"),
		testenv.Testdata(t, "tapes/CRICKET-1.179676557"),
	}, StatsOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if st.Total.Skipped != st.Total.Lines || st.Total.Lines == 0 || st.Total.BadLines != 0 {
		t.Errorf("skipped %d of %d lines, bad %d; want every line skipped, none bad", st.Total.Skipped, st.Total.Lines, st.Total.BadLines)
	}
}

// badArchive builds a tar like Betfair's, from real tapes, with a member
// that is not a tape, a member whose bzip2 stream is cut short and a
// member with one line of broken JSON, between good members.
func badArchive(t *testing.T) (path string, goodLines int64) {
	t.Helper()
	good, err := os.ReadFile(testenv.Testdata(t, "tapes/1.164917629.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := os.ReadFile(testenv.Testdata(t, "tapes/1.197931750"))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	lines := bytes.SplitAfter(plain, []byte("\n"))
	broken := bytes.Join([][]byte{lines[0], lines[1], []byte("{\"op\":\"mcm\",\"pt\":12,\"mc\":[{\"id\":\n"), lines[2]}, nil)
	members := []struct {
		name string
		data []byte
	}{
		{"PRO/2019/Nov/11/1/1.164917629.bz2", good},
		{"PRO/2019/Nov/11/1/notes.bz2", []byte("\x00\x01binary, not a tape\x00")},
		// gzip, not bzip2: a bzip2 block cut short yields nothing at all,
		// a gzip stream yields the lines before the cut.
		{"PRO/2019/Nov/11/1/1.000000001.gz", gz.Bytes()[:gz.Len()/2]},
		{"PRO/2019/Nov/11/1/1.000000002", broken},
		{"PRO/2019/Nov/11/1/1.000000003.bz2", good},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "bad.tar")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, 2*298 + 3
}

func TestCollectStatsKeepsGoodDataAroundBadMembers(t *testing.T) {
	path, goodLines := badArchive(t)
	st, err := CollectStats(context.Background(), []string{path}, StatsOptions{Workers: 2})
	if err != nil {
		t.Fatalf("default mode must skip bad input, got %v", err)
	}
	if len(st.Tapes) != 5 {
		t.Fatalf("%d tapes, want 5", len(st.Tapes))
	}
	byMember := map[string]TapeStats{}
	var order []string
	for _, ts := range st.Tapes {
		byMember[filepath.Base(ts.Member)] = ts
		order = append(order, filepath.Base(ts.Member))
	}
	// Archive order, which is not name order: workers finish in any order.
	if want := "1.164917629.bz2 notes.bz2 1.000000001.gz 1.000000002 1.000000003.bz2"; strings.Join(order, " ") != want {
		t.Errorf("tapes in order %v, want archive order %s", order, want)
	}
	for _, name := range []string{"1.164917629.bz2", "1.000000003.bz2"} {
		if ts := byMember[name]; ts.Lines != 298 || ts.BadLines != 0 || ts.FirstError != "" {
			t.Errorf("good member %s: lines %d bad %d err %q", name, ts.Lines, ts.BadLines, ts.FirstError)
		}
	}
	if ts := byMember["notes.bz2"]; ts.BadLines == 0 || !strings.Contains(ts.FirstError, "notes.bz2 line 1") {
		t.Errorf("non-tape member: bad %d, first error %q; want it named with its line", ts.BadLines, ts.FirstError)
	}
	cut := byMember["1.000000001.gz"]
	if cut.ReadError == "" || !strings.Contains(cut.ReadError, "1.000000001.gz") {
		t.Errorf("truncated member: read error %q, want one naming the member", cut.ReadError)
	}
	if cut.Lines == 0 || cut.Lines >= 166 {
		t.Errorf("truncated member: %d lines read, want some but not all", cut.Lines)
	}
	if ts := byMember["1.000000002"]; ts.Lines != 4 || ts.BadLines != 1 || !strings.Contains(ts.FirstError, "1.000000002 line 3") {
		t.Errorf("broken line: lines %d bad %d first error %q; want 4, 1, naming line 3", ts.Lines, ts.BadLines, ts.FirstError)
	}
	if got := byMember["1.164917629.bz2"].Lines + byMember["1.000000003.bz2"].Lines + byMember["1.000000002"].Lines - 1; got != goodLines {
		t.Errorf("good lines %d, want %d", got, goodLines)
	}
}

func TestCollectStatsStrictStopsAtFirstBadLine(t *testing.T) {
	path, _ := badArchive(t)
	st, err := CollectStats(context.Background(), []string{path}, StatsOptions{Workers: 1, Strict: true})
	// The first bad line (notes.bz2, before the cut-short member) stops the
	// run; it is a bad line, not a read error.
	for _, ts := range st.Tapes {
		if ts.ReadError != "" {
			t.Errorf("%s: read error %q after a strict stop at a bad line", ts.Name, ts.ReadError)
		}
	}
	var ierr *tape.InputError
	if !errors.As(err, &ierr) {
		t.Fatalf("strict: got %v, want an *InputError", err)
	}
	if ierr.Member == "" {
		t.Errorf("strict error %q does not name the member", err)
	}
}

func TestCollectStatsMissingInput(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.bz2")
	good := testenv.Testdata(t, "tapes/1.197931750")
	st, err := CollectStats(context.Background(), []string{missing, good}, StatsOptions{Workers: 1})
	// The good input is read, and the run still fails (exit 1), so that a
	// cron job notices the missing one (issue 13 item 4).
	if !errors.Is(err, tape.ErrUnreadable) || !strings.Contains(err.Error(), "nope.bz2") {
		t.Fatalf("default mode: %v, want tape.ErrUnreadable naming the input", err)
	}
	if len(st.Errors) != 1 || !strings.Contains(st.Errors[0], "nope.bz2") || st.Total.Lines != 166 {
		t.Errorf("errors %q, lines %d; want the missing input named and the good one read", st.Errors, st.Total.Lines)
	}
	if _, err := CollectStats(context.Background(), []string{missing}, StatsOptions{Strict: true}); err == nil || !strings.Contains(err.Error(), "nope.bz2") {
		t.Errorf("strict: %v, want an error naming the input", err)
	}
}

// A binary file read as a tape gives thousands of bad "lines": stats and
// books log a few of them per tape and then their count, not one warning
// each (issue 13 item 14).
func TestBadLineWarningsCappedPerTape(t *testing.T) {
	bin := make([]byte, 0, 64<<10)
	for i := range 4000 {
		bin = append(bin, byte('A'+i%26), 0xff, 0x00, '\n')
	}
	path := filepath.Join(t.TempDir(), "not-a-tape.bin")
	if err := os.WriteFile(path, bin, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, run := range map[string]func(log *slog.Logger) (int64, error){
		"stats": func(log *slog.Logger) (int64, error) {
			st, err := CollectStats(context.Background(), []string{path}, StatsOptions{Log: log})
			return st.Total.BadLines, err
		},
		"books": func(log *slog.Logger) (int64, error) {
			res, err := WriteBooks(context.Background(), []string{path}, io.Discard, BooksOptions{Log: log})
			return res.BadLines, err
		},
	} {
		var buf bytes.Buffer
		bad, err := run(slog.New(slog.NewTextHandler(&buf, nil)))
		if err != nil || bad != 4000 {
			t.Errorf("%s: %d bad lines, error %v; want 4000 counted and no error", name, bad, err)
		}
		if n := strings.Count(buf.String(), "\n"); n != tape.DefaultWarnings+1 || !strings.Contains(buf.String(), "count=4000") {
			t.Errorf("%s: %d warnings, want %d and the count:\n%s", name, n, tape.DefaultWarnings+1, buf.String())
		}
	}
}

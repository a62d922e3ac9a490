package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// TestWriteBooksMatchesBetfairlightweight runs the code path of
// `convert books` on real tapes and compares each output line with
// betfairlightweight's book for the same input line (testdata/golden).
func TestWriteBooksMatchesBetfairlightweight(t *testing.T) {
	tests := []struct {
		tape, golden string
		opts         book.Options
	}{
		{"tapes/1.197931750", "1.197931750.jsonl.zst", book.Options{}},
		{"tapes/BASIC-1.132153978", "BASIC-1.132153978.jsonl.zst", book.Options{}},
		{"tapes/1.205822330.bz2", "1.205822330.cumulative.jsonl.zst", book.Options{CumulativeRunnerTv: true}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var out bytes.Buffer
			res, err := WriteBooks(context.Background(), []string{testenv.Testdata(t, tt.tape)}, &out, BooksOptions{Cache: tt.opts, Strict: true})
			if err != nil {
				t.Fatal(err)
			}
			want := readZstdLines(t, testenv.Testdata(t, filepath.Join("golden/books", tt.golden)))
			got := bytes.Split(bytes.TrimSuffix(out.Bytes(), []byte("\n")), []byte("\n"))
			if int64(len(got)) != res.Books || len(got) != len(want) {
				t.Fatalf("%d books written (counted %d), golden has %d", len(got), res.Books, len(want))
			}
			for i := range got {
				if diff := jsonDiff(got[i], want[i]); diff != "" {
					t.Fatalf("book %d differs from betfairlightweight's: %s", i+1, diff)
				}
			}
		})
	}
}

func TestWriteBooksSkipsBadLinesUnlessStrict(t *testing.T) {
	plain, err := os.ReadFile(testenv.Testdata(t, "tapes/1.197931750"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(plain, []byte("\n"))
	input := bytes.Join([][]byte{lines[0], []byte("not json\n"), lines[1]}, nil)
	path := filepath.Join(t.TempDir(), "1.197931750")
	if err := os.WriteFile(path, input, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := WriteBooks(context.Background(), []string{path}, &out, BooksOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Lines != 3 || res.BadLines != 1 || res.Books != 2 {
		t.Errorf("lines %d bad %d books %d, want 3 1 2", res.Lines, res.BadLines, res.Books)
	}
	out.Reset()
	_, err = WriteBooks(context.Background(), []string{path}, &out, BooksOptions{Strict: true})
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("strict: %v, want an error at line 2", err)
	}
	if n := bytes.Count(out.Bytes(), []byte("\n")); n != 1 {
		t.Errorf("strict: %d books written before the bad line, want 1 (what was read is kept)", n)
	}
}

func readZstdLines(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var lines [][]byte
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// jsonDiff compares two JSON documents by value: key order is ignored and
// numbers compare as float64. It returns "" when equal, else the first
// difference with its path.
func jsonDiff(a, b []byte) string {
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		return "ours is not JSON: " + err.Error()
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		return "golden is not JSON: " + err.Error()
	}
	return valueDiff("$", va, vb)
}

func valueDiff(path string, a, b any) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: object vs %T", path, b)
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				return fmt.Sprintf("%s.%s: missing (golden has %v)", path, k, y[k])
			}
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok {
				return fmt.Sprintf("%s.%s: extra key", path, k)
			}
			if d := valueDiff(path+"."+k, v, w); d != "" {
				return d
			}
		}
		return ""
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return fmt.Sprintf("%s: %v vs %v", path, a, b)
		}
		for i := range x {
			if d := valueDiff(fmt.Sprintf("%s[%d]", path, i), x[i], y[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(a, b) {
		return fmt.Sprintf("%s: %v vs golden %v", path, a, b)
	}
	return ""
}

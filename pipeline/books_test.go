package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/book/booktest"
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
			want := booktest.ReadGolden(t, testenv.Testdata(t, filepath.Join("golden/books", tt.golden)))
			got := bytes.Split(bytes.TrimSuffix(out.Bytes(), []byte("\n")), []byte("\n"))
			if int64(len(got)) != res.Books || len(got) != len(want) {
				t.Fatalf("%d books written (counted %d), golden has %d", len(got), res.Books, len(want))
			}
			var canon []byte
			for i := range got {
				// Equal canonical bytes are equal values; only the rest are
				// compared by value.
				if canon = booktest.Canonical(canon[:0], got[i]); bytes.Equal(canon, want[i]) {
					continue
				}
				if path, diff := booktest.Diff(got[i], want[i]); diff != "" {
					t.Fatalf("book %d differs from betfairlightweight's at %s: %s", i+1, path, diff)
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

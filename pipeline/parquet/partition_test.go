package parquet_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/pipeline/parquet"
	"github.com/tapedeck/tapedeck/pipeline/tables"
	"github.com/tapedeck/tapedeck/store"
)

// TestPartitionHostileEventType: a tape whose definition gives an event
// type id that is a path writes its rows inside the dataset, in a folder
// whose name percent-encodes the value.
func TestPartitionHostileEventType(t *testing.T) {
	rows, files := tapeRows(t, testenv.Testdata(t, "tapes/1.197931750"))
	for _, rs := range rows {
		for _, r := range rs {
			r.EventTypeID = "../../../escaped"
		}
	}
	top := t.TempDir()
	root := filepath.Join(top, "a", "b", "c", "d")
	st, err := store.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w := parquet.NewWriter(parquet.Options{Store: st, Prefix: "ds", Version: "test", Grid: tables.DefaultGridSpec, Batch: "b"})
	for i := range rows {
		if err := w.Add(ctx, rows[i], files[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		n++
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if !strings.HasPrefix(rel, "ds/") {
			t.Errorf("written outside the dataset: %s", p)
		}
		if strings.Contains(rel, "event_type_id=") && !strings.Contains(rel, "/event_type_id=%2E%2E%2F%2E%2E%2F%2E%2E%2Fescaped/date=") {
			t.Errorf("partition folder %s: want the value percent-encoded", rel)
		}
		return nil
	})
	if n == 0 {
		t.Fatal("nothing written")
	}
}

package parquet

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/dataset.md from the schema")

// TestDictionary keeps docs/dataset.md equal to the dictionary generated
// from the written schema: a column added, renamed or retyped without its
// documentation fails here.
func TestDictionary(t *testing.T) {
	got, err := Dictionary()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "dataset.md")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (write it with -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the schema's dictionary: run go test ./pipeline/parquet -run TestDictionary -args -update", path)
	}
}

package parquet

import (
	"fmt"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/pipeline/tables"
)

// TestSnapshotSchemaDepth checks the snapshots schema at each depth: at
// three it is tables.Snapshot's own (so the default files do not change),
// and at any depth it has exactly levels 1..depth a side, each optional,
// with every other column as at depth three.
func TestSnapshotSchemaDepth(t *testing.T) {
	base := pq.SchemaOf(tables.Snapshot{})
	if got, want := snapshotSchema(3).String(), base.String(); got != want {
		t.Fatalf("depth 3 schema:\n%s\nwant tables.Snapshot's:\n%s", got, want)
	}
	for depth := 1; depth <= tables.MaxDepth; depth++ {
		s := snapshotSchema(depth)
		levels, others := 0, 0
		for _, path := range s.Columns() {
			leaf, _ := s.Lookup(path...)
			if k := levelOf(path[0]); k > 0 {
				if k > depth || !leaf.Node.Optional() {
					t.Errorf("depth %d: column %s (optional %v)", depth, path[0], leaf.Node.Optional())
				}
				levels++
				continue
			}
			b, ok := base.Lookup(path...)
			if !ok || fmt.Sprint(b.Node.Type()) != fmt.Sprint(leaf.Node.Type()) || b.Node.Optional() != leaf.Node.Optional() {
				t.Errorf("depth %d: column %s differs from depth 3", depth, strings.Join(path, "."))
			}
			others++
		}
		if levels != 4*depth || others != len(base.Columns())-12 {
			t.Errorf("depth %d: %d level columns, %d others", depth, levels, others)
		}
	}
}

package parquet

import (
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/pipeline/tables"
)

// TestSnapshotRowSchema checks that the written snapshot row type has
// exactly tables.Snapshot's schema (names, order, types, encodings).
func TestSnapshotRowSchema(t *testing.T) {
	// The message names differ; everything below them must not.
	body := func(s string) string { _, rest, _ := strings.Cut(s, "\n"); return rest }
	got, want := pq.SchemaOf(snapshotRow{}).String(), pq.SchemaOf(tables.Snapshot{}).String()
	if body(got) != body(want) {
		t.Fatalf("snapshotRow schema:\n%s\ntables.Snapshot schema:\n%s", got, want)
	}
}

func TestSnapshotFits(t *testing.T) {
	one, zero, negZero := 1.5, 0.0, 0.0
	negZero = -negZero
	var pt0, pt1 int64 = 0, 1646092800000
	tick0 := int32(0)
	tests := []struct {
		name string
		s    tables.Snapshot
		want bool
	}{
		{"all null", tables.Snapshot{}, true},
		{"values", tables.Snapshot{LastUpdatePt: &pt1, Ltp: &one, Spf: &one, BackPrice1: &one}, true},
		{"zero tick stays a pointer", tables.Snapshot{BackTick: &tick0}, true},
		{"zero price", tables.Snapshot{BackPrice1: &zero}, false},
		{"negative zero size", tables.Snapshot{LaySize3: &negZero}, false},
		{"zero spn", tables.Snapshot{Spn: &zero}, false},
		{"zero spf", tables.Snapshot{Spf: &zero}, false},
		{"epoch update", tables.Snapshot{LastUpdatePt: &pt0}, false},
	}
	for _, tc := range tests {
		if got := snapshotFits(&tc.s); got != tc.want {
			t.Errorf("%s: snapshotFits = %v, want %v", tc.name, got, tc.want)
		}
	}
}

package tables_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tapedeck/tapedeck/pipeline/tables"
)

// TestSnapshotsChunks checks that a market's snapshots come out in
// Chunked's chunks (the written pages depend on them) and that rows
// appended one by one read back as they went in.
func TestSnapshotsChunks(t *testing.T) {
	for name, lines := range map[string][][]byte{
		"PRO greyhound": greyhound(t, "1.195395446"),
		"turns in play": testdataTapeAny(t, "golden/flumine/inputs/1.200806927.zst"),
	} {
		t.Run(name, func(t *testing.T) {
			opts := tables.Options{Grid: tables.DefaultGrid(), PostOff: tables.DefaultPostOff(), NoRunnerUpdates: true}
			r := replayOpts(t, lines, opts)
			all := r.Snapshots.All()
			if len(all) < 300 || len(all) != r.Snapshots.Len() {
				t.Fatalf("%d snapshots, Len %d: want over 300 for two chunks or more", len(all), r.Snapshots.Len())
			}
			var ref tables.Chunked[tables.Snapshot]
			var appended tables.Snapshots
			for _, s := range all {
				ref.Append(s)
				appended.Append(s)
			}
			var sizes []int
			var got []tables.Snapshot
			if _, err := r.Snapshots.Chunks(nil, func(c []tables.Snapshot) error {
				sizes = append(sizes, len(c))
				got = append(got, c...)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			chunks := ref.Chunks()
			if len(sizes) != len(chunks) {
				t.Fatalf("%d chunks, Chunked has %d", len(sizes), len(chunks))
			}
			for i, c := range chunks {
				if sizes[i] != len(c) || sizes[i] > r.Snapshots.MaxChunk() {
					t.Fatalf("chunk %d has %d rows, Chunked's %d, MaxChunk %d", i, sizes[i], len(c), r.Snapshots.MaxChunk())
				}
			}
			for i := range all {
				if p := ref.At(i); *p != all[i] {
					t.Fatalf("Chunked.At(%d) = %+v, want %+v", i, *p, all[i])
				}
			}
			for what, rows := range map[string][]tables.Snapshot{"Chunks": got, "appended": appended.All()} {
				x, _ := json.Marshal(all)
				y, _ := json.Marshal(rows)
				if !bytes.Equal(x, y) {
					t.Errorf("%s rows differ from All's", what)
				}
			}
		})
	}
}

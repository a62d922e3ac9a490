package parquet

import (
	"fmt"
	"unsafe"

	pq "github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/pipeline/tables"
)

// ladderDeltaRow is a ladder_deltas row as written: tables.LadderDelta
// with its market id and status filled in from the market's Rows. Its
// tags are the table's schema.
type ladderDeltaRow struct {
	MarketID    string  `parquet:"market_id,dict"`
	Pt          int64   `parquet:"pt,timestamp(millisecond:utc),delta"`
	Seq         int64   `parquet:"seq,delta"`
	SelectionID int64   `parquet:"selection_id,dict"`
	Handicap    float64 `parquet:"handicap,dict"`
	Ladder      string  `parquet:"ladder,dict"`
	// Level and Tick are null when zero unless written explicitly (see
	// ladderCodec).
	Level int32   `parquet:"level,optional"`
	Price float64 `parquet:"price,dict"`
	// Sizes and ticks repeat within a market: as dictionaries their pages
	// are about a quarter of plain ones, less for ZSTD to do.
	Tick              int32   `parquet:"tick,optional,dict"`
	Size              float64 `parquet:"size,dict"`
	InPlay            bool    `parquet:"in_play"`
	MarketStatus      string  `parquet:"market_status,dict"`
	HasLevel, HasTick bool    `parquet:"-"`
}

// ladderSource reads the ladder deltas of markets ms, decoded and
// converted a chunk at a time into a buffer sized once for the largest.
func ladderSource(ms []*tables.Rows) rowSource[ladderDeltaRow] {
	deltas := heldSource(ms, func(r *tables.Rows) heldRows[tables.LadderDelta] { return &r.LadderDeltas })
	most := 0
	for _, m := range ms {
		most = max(most, m.LadderDeltas.MaxChunk())
	}
	rows := make([]ladderDeltaRow, 0, most)
	return rowSource[ladderDeltaRow]{
		groups: deltas.groups,
		rows:   deltas.rows,
		chunks: func(g int, fn func([]ladderDeltaRow) error) error {
			return deltas.chunks(g, func(c []tables.LadderDelta) error {
				rows = toLadderRows(rows[:0], c, ms[g])
				return fn(rows)
			})
		},
	}
}

// toLadderRows appends src, the ladder deltas of market m, to dst as
// written.
func toLadderRows(dst []ladderDeltaRow, src []tables.LadderDelta, m *tables.Rows) []ladderDeltaRow {
	for i := range src {
		d := &src[i]
		status := ""
		if int(d.Status) < len(m.MarketStatuses) {
			status = m.MarketStatuses[d.Status]
		}
		dst = append(dst, ladderDeltaRow{MarketID: m.MarketID, Pt: d.Pt, Seq: d.Seq, SelectionID: d.SelectionID,
			Handicap: d.Handicap, Ladder: d.Ladder.String(), Level: d.Level, Price: d.Price, Tick: d.Tick, Size: d.Size,
			InPlay: d.InPlay, MarketStatus: status, HasLevel: d.HasLevel, HasTick: d.HasTick})
	}
	return dst
}

// ladderColumnNames are ladderDeltaRow's columns, in the order
// ladderCodec's explicit values are built.
var ladderColumnNames = [12]string{"market_id", "pt", "seq", "selection_id", "handicap", "ladder",
	"level", "price", "tick", "size", "in_play", "market_status"}

// ladderCodec says how ladder_deltas rows are written, the dataset's
// largest table. Its nullable level and tick are plain int32 with
// presence flags, so they go the fast zero-is-null way
// (see zeroNull); but level 0 (the best level) and tick 0 (the price 1.01)
// are real values, and rows holding one go as explicit values. Those are
// built field by field rather than with the schema's Deconstruct (as the
// snapshots' are): in level-keyed data a third of all rows have level 0,
// and Deconstruct takes twice as long and allocates.
func ladderCodec(schema *pq.Schema) (*rowCodec[ladderDeltaRow], error) {
	var c [12]int // column index of each of ladderColumnNames
	if n := len(schema.Columns()); n != len(c) {
		return nil, fmt.Errorf("ladder_deltas schema has %d columns, want %d", n, len(c))
	}
	for i, name := range ladderColumnNames {
		leaf, ok := schema.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("ladder_deltas schema has no column %q", name)
		}
		c[i] = leaf.ColumnIndex
	}
	optional := func(v int32, ok bool, col int) pq.Value {
		if !ok {
			return pq.Value{}.Level(0, 0, col)
		}
		return pq.Int32Value(v).Level(0, 1, col)
	}
	return &rowCodec[ladderDeltaRow]{
		columns: 2,
		classify: func(d *ladderDeltaRow) (uint64, bool) {
			var p uint64
			if d.Level != 0 {
				p |= 1
			}
			if d.Tick != 0 {
				p |= 2
			}
			// A level or tick that is set and zero, or unset and not zero.
			return p, d.HasLevel != (d.Level != 0) || d.HasTick != (d.Tick != 0)
		},
		explicit: func(row pq.Row, d *ladderDeltaRow) pq.Row {
			start := len(row)
			row = append(row, make(pq.Row, len(c))...)
			r := row[start:]
			r[c[0]] = pq.ByteArrayValue(bytesOf(d.MarketID)).Level(0, 0, c[0])
			r[c[1]] = pq.Int64Value(d.Pt).Level(0, 0, c[1])
			r[c[2]] = pq.Int64Value(d.Seq).Level(0, 0, c[2])
			r[c[3]] = pq.Int64Value(d.SelectionID).Level(0, 0, c[3])
			r[c[4]] = pq.DoubleValue(d.Handicap).Level(0, 0, c[4])
			r[c[5]] = pq.ByteArrayValue(bytesOf(d.Ladder)).Level(0, 0, c[5])
			r[c[6]] = optional(d.Level, d.HasLevel, c[6])
			r[c[7]] = pq.DoubleValue(d.Price).Level(0, 0, c[7])
			r[c[8]] = optional(d.Tick, d.HasTick, c[8])
			r[c[9]] = pq.DoubleValue(d.Size).Level(0, 0, c[9])
			r[c[10]] = pq.BooleanValue(d.InPlay).Level(0, 0, c[10])
			r[c[11]] = pq.ByteArrayValue(bytesOf(d.MarketStatus)).Level(0, 0, c[11])
			return row
		},
	}, nil
}

// bytesOf views s as bytes without copying; parquet-go only reads them
// (copying what it keeps into its dictionaries).
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

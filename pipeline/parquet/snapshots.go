package parquet

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	pq "github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/pipeline/tables"
)

// negZero is the bit pattern of -0.0.
const negZero = 1 << 63

// snapshotCodec describes tables.Snapshot to zeroNull: its optional
// columns are plain values with presence bits (Snapshot.Has). A row goes
// the fast way when its non-zero values are exactly the present ones; one
// holding a present zero (a back price of 1.01 is tick 0) or a -0.0
// (which parquet-go's fast path reads as null on some platforms and not
// others) goes as explicit values: the schema's own Deconstruct, its
// optional columns then set from Has.
func snapshotCodec() (*rowCodec[tables.Snapshot], error) {
	schema := pq.SchemaOf(tables.Snapshot{})
	var cols [len(tables.SnapshotOptional)]int
	var kinds [len(tables.SnapshotOptional)]pq.Kind
	for k, name := range tables.SnapshotOptional {
		leaf, ok := schema.Lookup(name)
		if !ok || !leaf.Node.Optional() {
			return nil, fmt.Errorf("snapshots schema has no optional column %q", name)
		}
		cols[k], kinds[k] = leaf.ColumnIndex, leaf.Node.Type().Kind()
		switch kinds[k] {
		case pq.Double, pq.Int64, pq.Int32:
		default:
			return nil, fmt.Errorf("snapshots column %q is %v, not a number", name, kinds[k])
		}
	}
	// value is optional column k holding v (Snapshot.Optional's float64:
	// exact for ticks and for epoch milliseconds, which are below 2^53).
	value := func(k int, v float64) pq.Value {
		var x pq.Value
		switch kinds[k] {
		case pq.Int64:
			x = pq.Int64Value(int64(v))
		case pq.Int32:
			x = pq.Int32Value(int32(v))
		default:
			x = pq.DoubleValue(v)
		}
		return x.Level(0, 1, cols[k])
	}
	return &rowCodec[tables.Snapshot]{
		columns: len(cols),
		classify: func(s *tables.Snapshot) (uint64, bool) {
			var p uint64
			negative := false
			for k, v := range s.Optional() {
				b := math.Float64bits(v)
				if b != 0 {
					p |= 1 << uint(k)
				}
				negative = negative || b == negZero
			}
			return p, negative || p != uint64(s.Has)
		},
		explicit: func(row pq.Row, s *tables.Snapshot) pq.Row {
			start := len(row)
			row = schema.Deconstruct(row, s)
			r := row[start:]
			for k, v := range s.Optional() {
				if s.Has&(1<<uint(k)) != 0 {
					r[cols[k]] = value(k, v)
				} else {
					r[cols[k]] = pq.Value{}.Level(0, 0, cols[k])
				}
			}
			return row
		},
	}, nil
}

// levelColumns are the snapshot columns that repeat per price level, per
// side, in the order Snapshot holds them.
var levelColumns = [2][2]string{{"back_price_", "back_size_"}, {"lay_price_", "lay_size_"}}

// snapshotSchema returns the snapshots schema at depth levels a side:
// tables.Snapshot's columns with its three levels a side (back prices and
// sizes, then lay) replaced by depth of them. At depth 3 it is the
// schema of tables.Snapshot itself.
func snapshotSchema(depth int) *pq.Schema {
	t := reflect.TypeFor[tables.Snapshot]()
	var fields []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
		switch {
		case name == "-":
			continue
		case name == levelColumns[0][0]+"1":
			for side, cols := range levelColumns {
				for k := 1; k <= depth; k++ {
					for _, col := range cols {
						fields = append(fields, reflect.StructField{
							Name: fmt.Sprintf("L%d%s%d", side, strings.ReplaceAll(col, "_", ""), k), Type: f.Type,
							Tag: reflect.StructTag(fmt.Sprintf(`parquet:"%s%d,optional"`, col, k))})
					}
				}
			}
			continue
		case levelOf(name) > 0:
			continue
		}
		fields = append(fields, reflect.StructField{Name: f.Name, Type: f.Type, Tag: f.Tag})
	}
	return pq.NewSchema(t.Name(), pq.SchemaOf(reflect.New(reflect.StructOf(fields)).Elem().Interface()))
}

// levelOf returns the level (from 1) of a per-level snapshot column, or 0.
func levelOf(name string) int {
	for _, cols := range levelColumns {
		for _, col := range cols {
			if rest, ok := strings.CutPrefix(name, col); ok {
				var k int
				if _, err := fmt.Sscanf(rest, "%d", &k); err == nil {
					return k
				}
			}
		}
	}
	return 0
}

// deepSnapshotCodec writes snapshots at a depth other than three, with
// schema snapshotSchema(depth): every row as explicit values, built from
// base's (the depth-3 row) by moving each column to its place and adding
// the levels past the third from Snapshot.Deep. The depth-3 columns' values
// are thus those of the default depth.
func deepSnapshotCodec(base *rowCodec[tables.Snapshot], depth int) (*rowCodec[tables.Snapshot], *pq.Schema, error) {
	base3, schema := pq.SchemaOf(tables.Snapshot{}), snapshotSchema(depth)
	// from[j] is the depth-3 column of column j, or -1 for a level past
	// the third, which deep[j] locates in Snapshot.Deep: side (0 back, 1
	// lay), k (0 for the fourth level) and field (0 price, 1 size).
	type deepCol struct{ side, k, field int }
	cols := schema.Columns()
	from := make([]int, len(cols))
	deep := make([]deepCol, len(cols))
	for j, path := range cols {
		if k := levelOf(path[0]); k > 3 {
			side := 0
			if strings.HasPrefix(path[0], "lay_") {
				side = 1
			}
			field := 0
			if strings.Contains(path[0], "_size_") {
				field = 1
			}
			from[j], deep[j] = -1, deepCol{side, k - 4, field}
			continue
		}
		leaf, ok := base3.Lookup(path...)
		if !ok {
			return nil, nil, fmt.Errorf("snapshots column %q at depth %d is not in the depth-3 schema", path[0], depth)
		}
		from[j] = leaf.ColumnIndex
	}
	var scratch pq.Row
	return &rowCodec[tables.Snapshot]{
		explicit: func(row pq.Row, s *tables.Snapshot) pq.Row {
			scratch = base.explicit(scratch[:0], s)
			for j, src := range from {
				var v pq.Value
				switch {
				case src >= 0:
					v = scratch[src]
				default:
					d := deep[j]
					n, levels := int8(0), (*[tables.MaxDepth - 3]esa.PriceSize)(nil)
					if s.Deep != nil {
						if d.side == 0 {
							n, levels = s.Deep.NBack, &s.Deep.Back
						} else {
							n, levels = s.Deep.NLay, &s.Deep.Lay
						}
					}
					if d.k < int(n) {
						x := levels[d.k].Price
						if d.field == 1 {
							x = levels[d.k].Size
						}
						v = pq.DoubleValue(x).Level(0, 1, j)
					}
				}
				row = append(row, v.Level(v.RepetitionLevel(), v.DefinitionLevel(), j))
			}
			return row
		},
	}, schema, nil
}

package parquet

import (
	pq "github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/pipeline/tables"
)

// snapshotRow is tables.Snapshot as written: the same columns, names,
// types and encodings, but its optional float and timestamp columns are
// plain values, null when zero. parquet-go writes a pointer column one row
// at a time and a plain optional column a page of rows at once; snapshots
// have seventeen such columns, so this halves the table's encoding cost.
// (zeroNull works around a parquet-go flaw in writing such columns.)
// None of them holds a legitimate zero in practice (prices are >= 1.01,
// a ladder level's size is positive, publish times are not the epoch);
// writeSnapshots falls back to tables.Snapshot for any file where one
// does, so the output never differs. The tick columns, where 0 is the
// price 1.01, stay pointers.
type snapshotRow struct {
	MarketID         string  `parquet:"market_id,dict"`
	SelectionID      int64   `parquet:"selection_id,dict"`
	Handicap         float64 `parquet:"handicap,dict"`
	Ref              string  `parquet:"ref,dict"`
	SecondsBefore    int32   `parquet:"seconds_before"`
	SnapshotTime     int64   `parquet:"snapshot_time,timestamp(millisecond:utc)"`
	LastUpdatePt     int64   `parquet:"last_update_pt,optional,timestamp(millisecond:utc)"`
	MarketStatus     string  `parquet:"market_status,dict"`
	InPlay           bool    `parquet:"in_play"`
	RunnerStatus     string  `parquet:"runner_status,dict"`
	AdjustmentFactor float64 `parquet:"adjustment_factor,optional"`
	Ltp              float64 `parquet:"ltp,optional"`
	TradedVolume     float64 `parquet:"traded_volume"`
	Wap              float64 `parquet:"wap,optional"`
	BackPrice1       float64 `parquet:"back_price_1,optional"`
	BackSize1        float64 `parquet:"back_size_1,optional"`
	BackPrice2       float64 `parquet:"back_price_2,optional"`
	BackSize2        float64 `parquet:"back_size_2,optional"`
	BackPrice3       float64 `parquet:"back_price_3,optional"`
	BackSize3        float64 `parquet:"back_size_3,optional"`
	LayPrice1        float64 `parquet:"lay_price_1,optional"`
	LaySize1         float64 `parquet:"lay_size_1,optional"`
	LayPrice2        float64 `parquet:"lay_price_2,optional"`
	LaySize2         float64 `parquet:"lay_size_2,optional"`
	LayPrice3        float64 `parquet:"lay_price_3,optional"`
	LaySize3         float64 `parquet:"lay_size_3,optional"`
	BackTick         *int32  `parquet:"back_tick,optional"`
	LayTick          *int32  `parquet:"lay_tick,optional"`
	SpreadTicks      *int32  `parquet:"spread_ticks,optional"`
	Spn              float64 `parquet:"spn,optional"`
	Spf              float64 `parquet:"spf,optional"`
}

// floatsOf lists a snapshot's optional float columns in snapshotRow's
// order, for both the zero check and the copy.
func floatsOf(s *tables.Snapshot) [16]*float64 {
	return [16]*float64{s.AdjustmentFactor, s.Ltp, s.Wap,
		s.BackPrice1, s.BackSize1, s.BackPrice2, s.BackSize2, s.BackPrice3, s.BackSize3,
		s.LayPrice1, s.LaySize1, s.LayPrice2, s.LaySize2, s.LayPrice3, s.LaySize3, s.Spn}
}

// snapshotFits reports whether s survives the zero-is-null encoding of
// snapshotRow: no present optional value is zero (or negative zero).
func snapshotFits(s *tables.Snapshot) bool {
	if s.LastUpdatePt != nil && *s.LastUpdatePt == 0 {
		return false
	}
	if s.Spf != nil && *s.Spf == 0 {
		return false
	}
	for _, p := range floatsOf(s) {
		if p != nil && *p == 0 {
			return false
		}
	}
	return true
}

// snapshotsFit reports whether every snapshot of groups fits snapshotRow.
func snapshotsFit(groups [][][]tables.Snapshot) bool {
	for _, g := range groups {
		for _, c := range g {
			for i := range c {
				if !snapshotFits(&c[i]) {
					return false
				}
			}
		}
	}
	return true
}

func val[T any](p *T) T {
	var v T
	if p != nil {
		v = *p
	}
	return v
}

// toSnapshotRows appends src, converted, to dst.
func toSnapshotRows(dst []snapshotRow, src []tables.Snapshot, _ int) []snapshotRow {
	for i := range src {
		s := &src[i]
		dst = append(dst, snapshotRow{
			MarketID: s.MarketID, SelectionID: s.SelectionID, Handicap: s.Handicap, Ref: s.Ref,
			SecondsBefore: s.SecondsBefore, SnapshotTime: s.SnapshotTime, LastUpdatePt: val(s.LastUpdatePt),
			MarketStatus: s.MarketStatus, InPlay: s.InPlay, RunnerStatus: s.RunnerStatus,
			AdjustmentFactor: val(s.AdjustmentFactor), Ltp: val(s.Ltp), TradedVolume: s.TradedVolume, Wap: val(s.Wap),
			BackPrice1: val(s.BackPrice1), BackSize1: val(s.BackSize1),
			BackPrice2: val(s.BackPrice2), BackSize2: val(s.BackSize2),
			BackPrice3: val(s.BackPrice3), BackSize3: val(s.BackSize3),
			LayPrice1: val(s.LayPrice1), LaySize1: val(s.LaySize1),
			LayPrice2: val(s.LayPrice2), LaySize2: val(s.LaySize2),
			LayPrice3: val(s.LayPrice3), LaySize3: val(s.LaySize3),
			BackTick: s.BackTick, LayTick: s.LayTick, SpreadTicks: s.SpreadTicks,
			Spn: val(s.Spn), Spf: val(s.Spf),
		})
	}
	return dst
}

// snapshotCodec describes snapshotRow's zero-is-null columns to zeroNull;
// its explicit rows come from the schema itself, which reads zero as null
// value by value.
func snapshotCodec() *rowCodec[snapshotRow] {
	schema := pq.SchemaOf(snapshotRow{})
	return &rowCodec[snapshotRow]{
		columns: 18,
		present: func(r *snapshotRow) uint64 {
			var p uint64
			for k, v := range [17]float64{r.AdjustmentFactor, r.Ltp, r.Wap,
				r.BackPrice1, r.BackSize1, r.BackPrice2, r.BackSize2, r.BackPrice3, r.BackSize3,
				r.LayPrice1, r.LaySize1, r.LayPrice2, r.LaySize2, r.LayPrice3, r.LaySize3, r.Spn, r.Spf} {
				if v != 0 {
					p |= 1 << uint(k)
				}
			}
			if r.LastUpdatePt != 0 {
				p |= 1 << 17
			}
			return p
		},
		explicit: func(row pq.Row, r *snapshotRow) pq.Row { return schema.Deconstruct(row, r) },
	}
}

package parquet_test

import (
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/pipeline/tables"
)

// snapshotRead is a snapshots row as a reader sees it: its optional
// columns null or not.
type snapshotRead struct {
	MarketID         string   `parquet:"market_id,dict"`
	SelectionID      int64    `parquet:"selection_id,dict"`
	Handicap         float64  `parquet:"handicap,dict"`
	Ref              string   `parquet:"ref,dict"`
	SecondsBefore    int32    `parquet:"seconds_before"`
	SnapshotTime     int64    `parquet:"snapshot_time,timestamp(millisecond:utc)"`
	LastUpdatePt     *int64   `parquet:"last_update_pt,optional,timestamp(millisecond:utc)"`
	MarketStatus     string   `parquet:"market_status,dict"`
	InPlay           bool     `parquet:"in_play"`
	RunnerStatus     string   `parquet:"runner_status,dict"`
	AdjustmentFactor *float64 `parquet:"adjustment_factor,optional"`
	Ltp              *float64 `parquet:"ltp,optional"`
	TradedVolume     float64  `parquet:"traded_volume"`
	Wap              *float64 `parquet:"wap,optional"`
	BackPrice1       *float64 `parquet:"back_price_1,optional"`
	BackSize1        *float64 `parquet:"back_size_1,optional"`
	BackPrice2       *float64 `parquet:"back_price_2,optional"`
	BackSize2        *float64 `parquet:"back_size_2,optional"`
	BackPrice3       *float64 `parquet:"back_price_3,optional"`
	BackSize3        *float64 `parquet:"back_size_3,optional"`
	LayPrice1        *float64 `parquet:"lay_price_1,optional"`
	LaySize1         *float64 `parquet:"lay_size_1,optional"`
	LayPrice2        *float64 `parquet:"lay_price_2,optional"`
	LaySize2         *float64 `parquet:"lay_size_2,optional"`
	LayPrice3        *float64 `parquet:"lay_price_3,optional"`
	LaySize3         *float64 `parquet:"lay_size_3,optional"`
	BackTick         *int32   `parquet:"back_tick,optional"`
	LayTick          *int32   `parquet:"lay_tick,optional"`
	SpreadTicks      *int32   `parquet:"spread_ticks,optional"`
	Spn              *float64 `parquet:"spn,optional"`
	Spf              *float64 `parquet:"spf,optional"`
	SpBackStake      float64  `parquet:"sp_back_stake"`
	SpLayLiability   float64  `parquet:"sp_lay_liability"`
}

// readableSnapshot is s as a reader sees it.
func readableSnapshot(s tables.Snapshot) snapshotRead {
	r := snapshotRead{MarketID: s.MarketID, SelectionID: s.SelectionID, Handicap: s.Handicap, Ref: s.Ref,
		SecondsBefore: s.SecondsBefore, SnapshotTime: s.SnapshotTime, MarketStatus: s.MarketStatus, InPlay: s.InPlay,
		RunnerStatus: s.RunnerStatus, TradedVolume: s.TradedVolume, SpBackStake: s.SpBackStake, SpLayLiability: s.SpLayLiability}
	set := func(f tables.SnapshotFields) bool { return s.Has&f != 0 }
	if set(tables.HasLastUpdatePt) {
		r.LastUpdatePt = &s.LastUpdatePt
	}
	floats := []struct {
		f   tables.SnapshotFields
		dst **float64
		v   *float64
	}{
		{tables.HasAdjustmentFactor, &r.AdjustmentFactor, &s.AdjustmentFactor}, {tables.HasLtp, &r.Ltp, &s.Ltp},
		{tables.HasWap, &r.Wap, &s.Wap},
		{tables.HasBackPrice1, &r.BackPrice1, &s.BackPrice1}, {tables.HasBackSize1, &r.BackSize1, &s.BackSize1},
		{tables.HasBackPrice2, &r.BackPrice2, &s.BackPrice2}, {tables.HasBackSize2, &r.BackSize2, &s.BackSize2},
		{tables.HasBackPrice3, &r.BackPrice3, &s.BackPrice3}, {tables.HasBackSize3, &r.BackSize3, &s.BackSize3},
		{tables.HasLayPrice1, &r.LayPrice1, &s.LayPrice1}, {tables.HasLaySize1, &r.LaySize1, &s.LaySize1},
		{tables.HasLayPrice2, &r.LayPrice2, &s.LayPrice2}, {tables.HasLaySize2, &r.LaySize2, &s.LaySize2},
		{tables.HasLayPrice3, &r.LayPrice3, &s.LayPrice3}, {tables.HasLaySize3, &r.LaySize3, &s.LaySize3},
		{tables.HasSpn, &r.Spn, &s.Spn}, {tables.HasSpf, &r.Spf, &s.Spf},
	}
	for _, f := range floats {
		if set(f.f) {
			*f.dst = f.v
		}
	}
	ints := []struct {
		f   tables.SnapshotFields
		dst **int32
		v   *int32
	}{{tables.HasBackTick, &r.BackTick, &s.BackTick}, {tables.HasLayTick, &r.LayTick, &s.LayTick},
		{tables.HasSpreadTicks, &r.SpreadTicks, &s.SpreadTicks}}
	for _, f := range ints {
		if set(f.f) {
			*f.dst = f.v
		}
	}
	return r
}

// TestSnapshotSchema checks that tables.Snapshot, as written, has the
// schema a reader with nullable columns expects (names, order, types,
// encodings), and that SnapshotOptional names its optional columns.
func TestSnapshotSchema(t *testing.T) {
	// Past the first line, which names the Go type.
	body := func(s *pq.Schema) string { str := s.String(); return str[strings.IndexByte(str, '\n'):] }
	got, want := body(pq.SchemaOf(tables.Snapshot{})), body(pq.SchemaOf(snapshotRead{}))
	if got != want {
		t.Fatalf("tables.Snapshot schema:\n%s\nwant:\n%s", got, want)
	}
	schema := pq.SchemaOf(tables.Snapshot{})
	n := 0
	for _, path := range schema.Columns() {
		leaf, _ := schema.Lookup(path...)
		if leaf.Node.Optional() {
			if n >= len(tables.SnapshotOptional) || tables.SnapshotOptional[n] != path[0] {
				t.Fatalf("optional column %d is %s; SnapshotOptional says otherwise", n, path[0])
			}
			n++
		}
	}
	if n != len(tables.SnapshotOptional) {
		t.Fatalf("%d optional columns, SnapshotOptional lists %d", n, len(tables.SnapshotOptional))
	}
}

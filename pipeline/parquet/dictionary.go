package parquet

import (
	"fmt"
	"slices"
	"strings"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/tapedeck/tapedeck/pipeline/tables"
)

// Schemas returns each table's Parquet schema as written, by table name.
func Schemas() map[string]*pq.Schema {
	return map[string]*pq.Schema{
		TableMarkets:           pq.SchemaOf(tables.Market{}),
		TableRunners:           pq.SchemaOf(tables.Runner{}),
		TableMarketDefinitions: pq.SchemaOf(tables.MarketDefinition{}),
		TableRunnerDefinitions: pq.SchemaOf(tables.RunnerDefinition{}),
		TableLadderDeltas:      pq.SchemaOf(ladderDeltaRow{}),
		TableTrades:            pq.SchemaOf(tables.Trade{}),
		TableSnapshots:         pq.SchemaOf(tables.Snapshot{}),
		TableRunnerUpdates:     pq.SchemaOf(tables.RunnerUpdate{}),
		TableMarketSnapshots:   pq.SchemaOf(tables.MarketSnapshot{}),
		TableOrders:            pq.SchemaOf(tables.Order{}),
		TableFiles:             pq.SchemaOf(tables.File{}),
	}
}

// Dictionary returns docs/dataset.md: every table's columns in the order
// written, each with its type as DuckDB reads it, whether it can be null
// and its meaning from columnDocs. It fails on a column with no meaning
// or a meaning for a column that is not written, so the document follows
// the schema.
func Dictionary() (string, error) {
	var b strings.Builder
	b.WriteString(dictionaryHead)
	schemas := Schemas()
	var errs []string
	for _, table := range TableNames() {
		docs := columnDocs[table]
		fmt.Fprintf(&b, "\n## `%s`\n\n%s\n\n| column | type | null | meaning |\n| --- | --- | --- | --- |\n", table, tableDocs[table])
		seen := map[string]bool{}
		for _, f := range schemas[table].Fields() {
			seen[f.Name()] = true
			doc, ok := docs[f.Name()]
			if !ok {
				errs = append(errs, table+"."+f.Name()+" has no meaning in columnDocs")
			}
			null := "no"
			if f.Optional() {
				null = "yes"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Name(), duckType(f), null, doc)
		}
		for c := range docs {
			if !seen[c] {
				errs = append(errs, table+"."+c+" is in columnDocs but not written")
			}
		}
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return "", fmt.Errorf("parquet: data dictionary: %s", strings.Join(errs, "; "))
	}
	b.WriteString(dictionaryNotes)
	return b.String(), nil
}

// duckType names a column's type as DuckDB reads it.
func duckType(f pq.Field) string {
	t := f.Type()
	if lt := t.LogicalType(); lt != nil {
		switch v := lt.Value.(type) {
		case *format.TimestampType:
			if v.IsAdjustedToUTC {
				return "TIMESTAMPTZ (ms)"
			}
			return "TIMESTAMP (ms, local)"
		case *format.StringType:
			return "VARCHAR"
		}
	}
	switch t.Kind() {
	case pq.Boolean:
		return "BOOLEAN"
	case pq.Int32:
		return "INTEGER"
	case pq.Int64:
		return "BIGINT"
	case pq.Double:
		return "DOUBLE"
	case pq.ByteArray:
		return "VARCHAR"
	}
	return t.String()
}

const dictionaryHead = `# The dataset's data dictionary

<!-- Generated from the schema by pipeline/parquet's TestDictionary
     (go test ./pipeline/parquet -run TestDictionary -args -update); edit
     pipeline/parquet/columns.go, not this file. -->

Every column ` + "`convert parquet`" + ` writes, table by table, in the order
written. Types are as DuckDB reads them. Conventions, the same in every
table:

- **Times** are instants, TIMESTAMP(millisecond, UTC) in the files
  (` + "`TIMESTAMPTZ`" + `), except the ` + "`*_local`" + ` columns, which are the venue's
  wall clock. Every timestamp's name ends in ` + "`_time`" + ` (` + "`pt`" + ` is Betfair's
  publish time of the line).
- **Money** (sizes, volumes, stakes, liabilities) is in the market's
  currency as Betfair sends it; sums and differences are rounded to cents.
- **Null** means no value: a price that does not exist (no back price, no
  trade yet, no BSP, a projection Betfair sent as NaN or Infinity) is null;
  a quantity that can be zero (a volume, a count, a pool) is 0, never null.
- **Counts** are ` + "`n_*`" + `; matched money is ` + "`traded_volume`" + `, split by phase as
  ` + "`pp_`" + ` (pre-play: not in play, market OPEN), ` + "`sp_`" + ` (SP-matched: not in play,
  market not OPEN, which is Betfair's SP reconciliation at the off) and ` + "`ip_`" + `
  (in play: the market definition says in play); the three add up to the
  whole.
- **Partitions**: every table but ` + "`files`" + ` lies under
  ` + "`event_type_id=<id>/date=<YYYY-MM-DD>`" + `; with Hive partitioning on, readers
  add ` + "`event_type_id`" + ` (BIGINT, the same type as the markets column) and
  ` + "`date`" + ` (the UTC date of ` + "`market_time`" + `).
- **Keys**: a market is ` + "`market_id`" + `; a runner ` + "`(market_id, selection_id, handicap)`" + `;
  ` + "`seq`" + ` is the line number within the market's tape, so ` + "`(market_id, seq)`" + `
  orders every change.
`

package interop

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	// The DuckDB driver registers itself as "duckdb" for database/sql.
	_ "github.com/duckdb/duckdb-go/v2"
)

// DatasetPlaceholder is how the README's example queries name the dataset:
// paths like 'dataset/runners/**/*.parquet' run as written from the
// directory holding dataset/, and Rewrite points them anywhere else.
const DatasetPlaceholder = "'dataset/"

// Rewrite returns query with every 'dataset/... path replaced by one under
// dir, a directory or s3:// URL.
func Rewrite(query, dir string) string {
	return strings.ReplaceAll(query, DatasetPlaceholder, "'"+strings.TrimSuffix(dir, "/")+"/")
}

// Open returns an in-memory DuckDB database.
func Open() (*sql.DB, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("interop: opening DuckDB: %w", err)
	}
	return db, nil
}

// Result is a query's answer: its column names and rows, each value as the
// driver returned it (int64, float64, string, bool, time.Time or nil, ...).
type Result struct {
	Columns []string
	Rows    [][]any
}

// Query runs query on db and reads its whole answer.
func Query(ctx context.Context, db *sql.DB, query string) (*Result, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("interop: query %q: %w", firstLine(query), err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("interop: columns of %q: %w", firstLine(query), err)
	}
	res := &Result{Columns: cols}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("interop: row %d of %q: %w", len(res.Rows)+1, firstLine(query), err)
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("interop: reading %q: %w", firstLine(query), err)
	}
	return res, nil
}

// Print writes res as an aligned text table.
func (res *Result) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(res.Columns, "\t"))
	for _, row := range res.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = FormatValue(v)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// FormatValue renders one value as the DuckDB CLI would, roughly: NULL for
// nil, times in UTC with milliseconds.
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.000")
	case float64:
		return fmt.Sprintf("%g", x)
	}
	return fmt.Sprint(v)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

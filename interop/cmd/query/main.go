// Command query runs one DuckDB SQL query over a tapedeck Parquet dataset
// and prints the answer as a table, so that the README's example queries
// can be tried with nothing but Go (no DuckDB CLI):
//
//	go -C interop run ./cmd/query DATASET_DIR "SELECT ... FROM read_parquet('dataset/runners/**/*.parquet', hive_partitioning=true) ..."
//
// Paths written 'dataset/... in the query are rewritten to DATASET_DIR/...,
// as the README's queries are written. The first run compiles and links
// DuckDB, which takes a minute or more.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/tapedeck/tapedeck/interop"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: query DATASET_DIR SQL")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "query:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir, query string) error {
	db, err := interop.Open()
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := interop.Query(ctx, db, interop.Rewrite(query, dir))
	if err != nil {
		return err
	}
	return res.Print(os.Stdout)
}

// Command query runs one DuckDB SQL query over a tapedeck Parquet dataset
// and prints the answer as a table, so that the README's example queries
// can be tried with nothing but Go (no DuckDB CLI):
//
//	go -C interop run ./cmd/query DATASET_DIR "SELECT ... FROM read_parquet('dataset/runners/**/*.parquet', hive_partitioning=true) ..."
//
// Paths written 'dataset/... in the query are rewritten to DATASET_DIR/...,
// as the README's queries are written. A relative DATASET_DIR is the
// caller's: `go -C interop` moves the process into interop/ but leaves the
// shell's $PWD, which is where the path is resolved. The first run compiles
// and links DuckDB, which takes a minute or more.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/tapedeck/tapedeck/interop"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: query DATASET_DIR SQL")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "query:", err)
		os.Exit(1)
	}
	if err := run(ctx, callerPath(os.Args[1], cwd, os.Getenv("PWD")), os.Args[2]); err != nil {
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

// callerPath resolves a relative path against the directory the user ran
// the command from. When cwd is the interop module (go -C interop, or cd
// interop) and $PWD names another directory, that is the caller's: the go
// command changes directory without updating PWD. Anywhere else the path
// stays as given.
func callerPath(path, cwd, pwd string) string {
	if filepath.IsAbs(path) || pwd == "" || !filepath.IsAbs(pwd) || filepath.Clean(pwd) == filepath.Clean(cwd) {
		return path
	}
	mod, err := os.ReadFile(filepath.Join(cwd, "go.mod"))
	if err != nil || !strings.Contains(string(mod), "module github.com/tapedeck/tapedeck/interop\n") {
		return path
	}
	if fi, err := os.Stat(pwd); err != nil || !fi.IsDir() {
		return path
	}
	return filepath.Join(pwd, path)
}

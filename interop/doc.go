// Package interop holds tests and a tiny query tool that read tapedeck's
// Parquet datasets with DuckDB, an independent reader. It is its own module
// so that the main module stays free of cgo.
package interop

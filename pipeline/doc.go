// Package pipeline holds the sinks of tapedeck's conversions: market books
// as betfairlightweight's JSON Lines (WriteBooks) and the statistics of
// `convert stats` (CollectStats); its subpackages derive the Parquet tables
// (tables) and write them (parquet). Reading the inputs, and the one replay
// loop with its bad-input rules, are package tape's.
package pipeline

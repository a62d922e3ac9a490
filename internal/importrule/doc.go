// Package importrule holds the test of the project's layer rule (see
// docs/architecture.md): which package may import which. It has no code of
// its own; `go test ./internal/importrule` fails when an import breaks the
// rule, naming the importer and the import.
package importrule

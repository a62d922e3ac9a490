//go:build race

package bzip2

// raceEnabled: the race detector slows decoding ~10x, so the heaviest
// data-driven tests use less data under it.
const raceEnabled = true

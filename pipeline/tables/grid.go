package tables

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Span is one part of a snapshot grid: every Step seconds from From seconds
// before the reference down to To (negative values are after it, in play).
type Span struct {
	From, To, Step int
}

// Grid is the list of spans snapshots are taken at, for each reference
// ("scheduled" and "off").
type Grid []Span

// DefaultGridSpec is the grid used unless --grid replaces it: every minute
// from an hour to ten minutes before, every 10 s to the last minute, then
// every second to the reference.
const DefaultGridSpec = "3600:600:60,600:60:10,60:0:1"

// DefaultPostOffSpec is the grid added, for the off reference only, to
// markets that turn in play unless --post-off-grid replaces it: every
// second of the first minute after the off.
const DefaultPostOffSpec = "-1:-60:1"

// DefaultPostOff returns the parsed DefaultPostOffSpec.
func DefaultPostOff() Grid {
	return Grid{{-1, -60, 1}}
}

// DefaultGrid returns the parsed DefaultGridSpec.
func DefaultGrid() Grid {
	return Grid{{3600, 600, 60}, {600, 60, 10}, {60, 0, 1}}
}

// ParseGrid parses a grid spec: comma-separated FROM:TO:STEP spans in
// seconds before the reference, FROM > TO, STEP > 0; TO (and FROM) may be
// negative to reach into play. "" is the empty grid (no snapshots).
func ParseGrid(spec string) (Grid, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return Grid{}, nil
	}
	var g Grid
	for i, part := range strings.Split(spec, ",") {
		f := strings.Split(strings.TrimSpace(part), ":")
		if len(f) != 3 {
			return nil, fmt.Errorf("grid span %d %q: want FROM:TO:STEP", i+1, part)
		}
		var v [3]int
		for j, s := range f {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("grid span %d %q: %w", i+1, part, err)
			}
			v[j] = n
		}
		sp := Span{From: v[0], To: v[1], Step: v[2]}
		if sp.Step <= 0 {
			return nil, fmt.Errorf("grid span %d %q: STEP must be positive", i+1, part)
		}
		if sp.From < sp.To {
			return nil, fmt.Errorf("grid span %d %q: FROM must not be below TO (seconds before the reference count down)", i+1, part)
		}
		g = append(g, sp)
	}
	return g, nil
}

// String returns the grid's spec, which ParseGrid reads back.
func (g Grid) String() string {
	parts := make([]string, len(g))
	for i, s := range g {
		parts[i] = fmt.Sprintf("%d:%d:%d", s.From, s.To, s.Step)
	}
	return strings.Join(parts, ",")
}

// Points returns every seconds-before value of the grid once, largest
// first (the order snapshots are written in). A span includes both ends
// when To falls on a step.
func (g Grid) Points() []int {
	var pts []int
	for _, s := range g {
		for x := s.From; x >= s.To; x -= s.Step {
			pts = append(pts, x)
		}
	}
	slices.Sort(pts)
	pts = slices.Compact(pts)
	slices.Reverse(pts)
	return pts
}

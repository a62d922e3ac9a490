package tables

// Snapshots is a market's snapshot rows, held as the runner states they
// show and, per row, its grid point. A runner's state changes between
// some grid points and not others (an hour before the off, for minutes),
// and the two references are often seconds apart, so the rows of a
// greyhound market show about a third as many states as they are rows:
// held as whole rows they were a sixth of a conversion's memory, all of
// it waiting to be written (see LadderDeltas for why memory counts).
//
// The zero value is empty and ready to use.
type Snapshots struct {
	// states are the runner states, with the point's fields (Ref,
	// SecondsBefore, SnapshotTime, LastUpdatePt, MarketStatus and InPlay)
	// left zero.
	states Chunked[Snapshot]
	rows   Chunked[snapshotAt]
	// refs and statuses are the references and market statuses
	// snapshotAt.ref and status index.
	refs, statuses []string
}

// snapshotAt is one row: a grid point's fields and the state it shows.
type snapshotAt struct {
	snapshotTime, lastUpdatePt int64
	secondsBefore              int32
	state                      int32
	ref, status                uint8
	inPlay                     bool
}

// Len is the number of rows.
func (s *Snapshots) Len() int { return s.rows.Len() }

// addState adds a runner state, the point's fields zero, and returns its
// index for addRow.
func (s *Snapshots) addState(state Snapshot) int32 {
	s.states.Append(state)
	return int32(s.states.Len() - 1)
}

// addRow adds the row showing state (an index from addState) at the grid
// point whose fields row holds.
func (s *Snapshots) addRow(state int32, row *Snapshot) {
	s.rows.Append(snapshotAt{snapshotTime: row.SnapshotTime, lastUpdatePt: row.LastUpdatePt, secondsBefore: row.SecondsBefore,
		state: state, ref: smallIndex(&s.refs, row.Ref), status: smallIndex(&s.statuses, row.MarketStatus), inPlay: row.InPlay})
}

// Append adds one row, its state its own.
func (s *Snapshots) Append(row Snapshot) {
	state := row
	state.Ref, state.SecondsBefore, state.SnapshotTime, state.LastUpdatePt, state.MarketStatus, state.InPlay = "", 0, 0, 0, "", false
	s.addRow(s.addState(state), &row)
}

// MaxChunk is the most rows Chunks passes at once.
func (s *Snapshots) MaxChunk() int { return min(s.rows.Len(), maxChunk) }

// Chunks builds the rows into buf (grown as needed) and calls fn with them
// in order, in the chunks a Chunked would hold them in: parquet-go ends a
// page where a write call crosses the page size, so these chunk sizes are
// part of the files' bytes. fn must not keep the rows. Chunks returns buf
// for reuse, and fn's first error.
func (s *Snapshots) Chunks(buf []Snapshot, fn func([]Snapshot) error) ([]Snapshot, error) {
	for _, c := range s.rows.Chunks() {
		buf = buf[:0]
		for i := range c {
			at := &c[i]
			row := *s.states.At(int(at.state))
			row.Ref, row.SecondsBefore, row.SnapshotTime = s.refs[at.ref], at.secondsBefore, at.snapshotTime
			row.LastUpdatePt, row.MarketStatus, row.InPlay = at.lastUpdatePt, s.statuses[at.status], at.inPlay
			buf = append(buf, row)
		}
		if err := fn(buf); err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// All returns the rows as one new slice, for tests and small tables.
func (s *Snapshots) All() []Snapshot {
	out := make([]Snapshot, 0, s.Len())
	_, _ = s.Chunks(nil, func(c []Snapshot) error {
		out = append(out, c...)
		return nil
	})
	return out
}

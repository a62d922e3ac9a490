package recorder

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SpoolTapes counts the tapes a spool holds, open or waiting for upload. A
// spool that does not exist is an error, not an empty spool: `record flush
// --spool /typo` must not report success.
func SpoolTapes(spool string) (int, error) {
	fi, err := os.Stat(spool)
	if err != nil {
		return 0, fmt.Errorf("spool %s: %w", spool, err)
	}
	if !fi.IsDir() {
		return 0, fmt.Errorf("spool %s: not a directory", spool)
	}
	n := 0
	for _, d := range []string{"open", "closed"} {
		ents, err := os.ReadDir(filepath.Join(spool, d))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("spool %s: %w", spool, err)
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".jsonl") {
				n++
			}
		}
	}
	return n, nil
}

// lockName is the file in the spool a recorder holds locked while it runs.
const lockName = "lock"

// LockedError is New's error when another process holds the spool: two
// recorders appending to one tape would interleave their lines.
type LockedError struct {
	Spool string
	// Pid is the holder's process id as it wrote it in the lock file; 0
	// when unknown.
	Pid int
}

// Error names the spool and the process holding it.
func (e *LockedError) Error() string {
	who := "another process"
	if e.Pid > 0 {
		who = fmt.Sprintf("process %d", e.Pid)
	}
	return fmt.Sprintf("recorder: spool %s is in use by %s (one recorder per spool: stop it, or give this one its own --spool)", e.Spool, who)
}

package cli

import (
	"fmt"
	"time"
)

// Deadline turns --until HH:MM (local time, the next such minute) and
// --duration into a deadline, whichever comes first; zero means none. A
// malformed --until is a *UsageError.
func Deadline(now time.Time, until string, d time.Duration) (time.Time, error) {
	var dl time.Time
	if until != "" {
		t, err := time.ParseInLocation("15:04", until, now.Location())
		if err != nil {
			return dl, &UsageError{Err: fmt.Errorf("--until %q: want HH:MM", until)}
		}
		dl = time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, now.Location())
		if !dl.After(now) {
			dl = dl.AddDate(0, 0, 1)
		}
	}
	if d > 0 {
		if e := now.Add(d); dl.IsZero() || e.Before(dl) {
			dl = e
		}
	}
	return dl, nil
}

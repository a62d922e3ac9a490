package cli

import (
	"testing"
	"time"
)

func TestDeadline(t *testing.T) {
	now := time.Date(2026, 11, 28, 7, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		until string
		d     time.Duration
		want  time.Time
		bad   bool
	}{
		{"23:30", 0, time.Date(2026, 11, 28, 23, 30, 0, 0, time.UTC), false},
		{"06:00", 0, time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC), false},
		{"07:30", 0, time.Date(2026, 11, 29, 7, 30, 0, 0, time.UTC), false},
		{"23:30", time.Hour, now.Add(time.Hour), false},
		{"", 2 * time.Hour, now.Add(2 * time.Hour), false},
		{"", 0, time.Time{}, false},
		{"25:00", 0, time.Time{}, true},
	} {
		got, err := Deadline(now, tc.until, tc.d)
		if (err != nil) != tc.bad || !got.Equal(tc.want) {
			t.Errorf("Deadline(%q, %v) = %v, %v", tc.until, tc.d, got, err)
		}
	}
}

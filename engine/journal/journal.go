// Package journal is live trading's append-only record: one JSON object a
// line for every request sent, answer received and order state change,
// fsynced as it is written (one fsync for the entries written together),
// so that after a crash (of the process or of the machine) what the run
// did can be read back and set beside the exchange's record.
//
// Entries carry no secret: the engine journals request parameters and
// answers, never the headers that carry the session token and application
// key.
package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Entry is one line of a journal. Kind says what it records: "request"
// (sent, or about to be), "response", "order" (a state change), "note".
type Entry struct {
	Time        time.Time       `json:"time"`
	Kind        string          `json:"kind"`
	Strategy    string          `json:"strategy,omitempty"`
	MarketID    string          `json:"market_id,omitempty"`
	Method      string          `json:"method,omitempty"`
	CustomerRef string          `json:"customer_ref,omitempty"`
	OrderRef    string          `json:"order_ref,omitempty"`
	BetID       string          `json:"bet_id,omitempty"`
	Status      string          `json:"status,omitempty"`
	Error       string          `json:"error,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
}

// Journal appends entries to one file. It is safe for concurrent use.
type Journal struct {
	mu   sync.Mutex
	f    *os.File
	path string
	buf  []byte
	// NoSync skips the fsync after each entry (tests and dry runs only:
	// without it an entry may be lost with the machine).
	NoSync bool
}

// Open opens (creating it, mode 0600) the journal at path for appending.
// A last line cut short by a crash is ended, so that the next entry starts
// a line of its own; Read skips the cut one.
func Open(path string) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	if n := st.Size(); n > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, n-1); err != nil {
			f.Close()
			return nil, fmt.Errorf("journal %s: %w", path, err)
		}
		if last[0] != '\n' {
			if _, err := f.Write([]byte{'\n'}); err != nil {
				f.Close()
				return nil, fmt.Errorf("journal %s: ending a cut line: %w", path, err)
			}
		}
	}
	return &Journal{f: f, path: path}, nil
}

// Write appends e (Time set to now when zero) as one line and, unless
// NoSync, waits until it is on disk.
func (j *Journal) Write(e Entry) error {
	return j.WriteAll([]Entry{e})
}

// WriteAll appends es in order, one line each (Time set to now when
// zero), and, unless NoSync, waits until they are on disk: one write and
// one fsync for them all, so that a writer that gathers what arrived
// while it waited for the disk keeps up with any rate of entries.
func (j *Journal) WriteAll(es []Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return fmt.Errorf("journal %s: closed", j.path)
	}
	j.buf = j.buf[:0]
	for _, e := range es {
		if e.Time.IsZero() {
			e.Time = time.Now().UTC()
		}
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("journal %s: %w", j.path, err)
		}
		j.buf = append(append(j.buf, b...), '\n')
	}
	// One write: a crash leaves at most the last line cut.
	if _, err := j.f.Write(j.buf); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if !j.NoSync {
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("journal %s: sync: %w", j.path, err)
		}
	}
	return nil
}

// Close syncs and closes the file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := errors.Join(j.f.Sync(), j.f.Close())
	j.f = nil
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	return nil
}

// Read calls fn with every entry of the journal at path, in order. A line
// that is not an entry (the one a crash cut short) is skipped and counted
// in bad; fn's error stops the reading and is returned.
func Read(path string, fn func(Entry) error) (bad int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var e Entry
			if json.Unmarshal(line, &e) != nil || e.Kind == "" {
				bad++
			} else if ferr := fn(e); ferr != nil {
				return bad, fmt.Errorf("journal %s:%d: %w", path, n, ferr)
			}
		}
		if err == io.EOF {
			return bad, nil
		}
		if err != nil {
			return bad, fmt.Errorf("journal %s:%d: %w", path, n, err)
		}
	}
}

package journal

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
)

func entries(t *testing.T, path string) ([]Entry, int) {
	t.Helper()
	var got []Entry
	bad, err := Read(path, func(e Entry) error { got = append(got, e); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return got, bad
}

func TestWriteRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Kind: "request", Strategy: "lowest-layer", MarketID: "1.125897784", Method: "SportsAPING/v1.0/placeOrders", CustomerRef: "run7.1", OrderRef: "lowest-layer-0",
			Data: json.RawMessage(`{"selectionId":9486865,"limitOrder":{"size":2,"price":1.01}}`)},
		{Kind: "response", MarketID: "1.125897784", CustomerRef: "run7.1", OrderRef: "lowest-layer-0", BetID: "71962975289", Status: "SUCCESS"},
		{Kind: "order", MarketID: "1.125897784", OrderRef: "lowest-layer-0", BetID: "71962975289", Status: "EXECUTABLE"},
	}
	for _, e := range want {
		if err := j.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Write(Entry{Kind: "note"}); err == nil {
		t.Error("write after close succeeded")
	}
	got, bad := entries(t, path)
	if bad != 0 || len(got) != len(want) {
		t.Fatalf("%d entries, %d bad", len(got), bad)
	}
	for i := range want {
		if got[i].Time.IsZero() || got[i].Kind != want[i].Kind || got[i].BetID != want[i].BetID || string(got[i].Data) != string(want[i].Data) {
			t.Errorf("entry %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, err %v", fi.Mode(), err)
	}
}

// TestCutLine: a line a crash cut short is skipped, and the journal goes on
// on a line of its own.
func TestCutLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, _ := Open(path)
	j.Write(Entry{Kind: "request", OrderRef: "a-0"})
	j.Close()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"time":"2026-12-04T15:00:00Z","kind":"resp`)
	f.Close()
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	j.Write(Entry{Kind: "request", OrderRef: "a-1"})
	j.Close()
	got, bad := entries(t, path)
	if bad != 1 || len(got) != 2 || got[0].OrderRef != "a-0" || got[1].OrderRef != "a-1" {
		t.Errorf("%d bad, entries %+v", bad, got)
	}
}

func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, _ := Open(path)
	j.NoSync = true
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if err := j.Write(Entry{Kind: "order", OrderRef: fmt.Sprintf("s%d-%d", g, i)}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	j.Close()
	got, bad := entries(t, path)
	seen := map[string]bool{}
	for _, e := range got {
		seen[e.OrderRef] = true
	}
	if bad != 0 || len(got) != 200 || len(seen) != 200 {
		t.Errorf("%d entries (%d distinct), %d bad", len(got), len(seen), bad)
	}
}

// TestSurvivesSIGKILL writes entries from a child process that is killed
// without warning, and reads every acknowledged entry back.
func TestSurvivesSIGKILL(t *testing.T) {
	if p := os.Getenv("JOURNAL_CHILD"); p != "" {
		j, err := Open(p)
		if err != nil {
			os.Exit(3)
		}
		for i := 0; ; i++ {
			if err := j.Write(Entry{Kind: "order", OrderRef: "k-" + strconv.Itoa(i)}); err != nil {
				os.Exit(4)
			}
			// Acknowledge on stdout only once the entry is written.
			fmt.Println(i)
		}
	}
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSurvivesSIGKILL$")
	cmd.Env = append(os.Environ(), "JOURNAL_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	acked, line := -1, ""
	for acked < 20 {
		if _, err := out.Read(buf); err != nil {
			t.Fatal(err)
		}
		if buf[0] == '\n' {
			acked, _ = strconv.Atoi(line)
			line = ""
			continue
		}
		line += string(buf)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	got, _ := entries(t, path)
	if len(got) < acked+1 {
		t.Fatalf("%d entries after SIGKILL, %d were acknowledged", len(got), acked+1)
	}
	for i, e := range got {
		if e.OrderRef != "k-"+strconv.Itoa(i) {
			t.Fatalf("entry %d is %q", i, e.OrderRef)
		}
	}
}

// TestWriteAll: entries written together are lines of their own, in
// order, each with its time.
func TestWriteAll(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	j.Write(Entry{Kind: "note", Status: "first"})
	var batch []Entry
	for i := range 5 {
		batch = append(batch, Entry{Kind: "order", OrderRef: fmt.Sprintf("s-%d", i)})
	}
	if err := j.WriteAll(batch); err != nil {
		t.Fatal(err)
	}
	j.Close()
	got, bad := entries(t, path)
	if bad != 0 || len(got) != 6 || got[0].Status != "first" {
		t.Fatalf("%d bad, entries %+v", bad, got)
	}
	for i, e := range got[1:] {
		if e.OrderRef != fmt.Sprintf("s-%d", i) || e.Time.IsZero() {
			t.Errorf("entry %d: %+v", i+1, e)
		}
	}
}

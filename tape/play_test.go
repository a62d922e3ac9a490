package tape

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/tapedeck/tapedeck/internal/testenv"
)

// realLines returns the lines of a real tape in testdata, each with its
// '\n'.
func realLines(t *testing.T, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(testenv.Testdata(t, "tapes/"+name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

// logLines returns a logger writing text lines to the returned buffer.
func logLines() (*slog.Logger, *syncBuffer) {
	var buf syncBuffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

// syncBuffer is a bytes.Buffer safe for a logger used by several workers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestPlayRules(t *testing.T) {
	lines := realLines(t, "1.197931750")
	// Two good lines around eight that are not stream messages: a binary
	// file misnamed as a tape gives thousands of such lines.
	var data []byte
	data = append(data, lines[0]...)
	for range 8 {
		data = append(data, "\x00\x01 not a message\n"...)
	}
	data = append(data, lines[1]...)

	tests := []struct {
		name     string
		rules    *Rules
		wantErr  string
		wantGood int
		wantLogs int // log lines
	}{
		{"nil rules count silently", nil, "", 2, 0},
		{"default cap then a count", &Rules{}, "", 2, DefaultWarnings + 1},
		{"cap of one", &Rules{Warnings: 1}, "", 2, 2},
		{"no warnings one by one", &Rules{Warnings: -1}, "", 2, 1},
		{"strict stops at the first", &Rules{Strict: true}, "tape: t1 line 2: ", 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log, buf := logLines()
			if tc.rules != nil {
				tc.rules.Log = log
			}
			good := 0
			p, err := Play(context.Background(), NewTape("t1", data), tc.rules, func(l *Line) error {
				good++
				if l.N != 1 && l.N != 10 {
					t.Errorf("good line numbered %d, want 1 or 10", l.N)
				}
				if l.Msg.Pt == 0 {
					t.Errorf("line %d handed on undecoded", l.N)
				}
				return nil
			})
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if good != tc.wantGood {
				t.Errorf("%d good lines handed on, want %d", good, tc.wantGood)
			}
			if tc.wantErr == "" && (p.Lines != 10 || p.BadLines != 8) {
				t.Errorf("played %d lines, %d bad; want 10, 8", p.Lines, p.BadLines)
			}
			if p.FirstError == nil || p.FirstError.Line != 2 || p.Cut != nil {
				t.Errorf("first error %v, cut %v; want line 2 and no cut", p.FirstError, p.Cut)
			}
			if n := strings.Count(buf.String(), "\n"); n != tc.wantLogs {
				t.Errorf("%d log lines, want %d:\n%s", n, tc.wantLogs, buf)
			}
			if tc.wantLogs > 1 && !strings.Contains(buf.String(), "count=8") {
				t.Errorf("no count of the bad lines at the tape's end:\n%s", buf)
			}
		})
	}
}

func TestPlayCutShort(t *testing.T) {
	lines := realLines(t, "1.197931750")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Join(lines, nil))
	zw.Close()
	cut := gz.Bytes()[:gz.Len()/2]

	for _, strict := range []bool{false, true} {
		good := 0
		p, err := Play(context.Background(), NewTape("t.gz", cut), &Rules{Strict: strict}, func(*Line) error {
			good++
			return nil
		})
		if p.Cut == nil || !strings.Contains(p.Cut.Error(), "t.gz") || p.FirstError != p.Cut {
			t.Errorf("strict %v: cut %v, first error %v; want the cut, naming the tape", strict, p.Cut, p.FirstError)
		}
		if good == 0 || good >= len(lines) || int64(good) != p.Lines {
			t.Errorf("strict %v: %d lines handed on of %d read, want the lines before the cut", strict, good, p.Lines)
		}
		if strict != (err != nil) {
			t.Errorf("strict %v: error %v", strict, err)
		}
	}

	// A tape that cannot even be opened is cut before its first line.
	p, err := Play(context.Background(), NewTape("bad.gz", []byte{0x1f, 0x8b, 0, 0}), &Rules{}, func(*Line) error { return nil })
	if err != nil || p.Cut == nil || p.Lines != 0 {
		t.Errorf("unopenable tape: error %v, cut %v, %d lines", err, p.Cut, p.Lines)
	}
}

func TestPlayStopsOnCallerAndContext(t *testing.T) {
	data := bytes.Join(realLines(t, "1.197931750"), nil)
	stop := errors.New("enough")
	n := 0
	_, err := Play(context.Background(), NewTape("t", data), &Rules{}, func(*Line) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("callback error: got %v after %d lines", err, n)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("shutting down")
	cancel(cause)
	p, err := Play(ctx, NewTape("t", data), &Rules{}, func(*Line) error { return nil })
	if !errors.Is(err, cause) || p.Cut != nil {
		t.Errorf("cancelled: error %v, cut %v; want the cause and no cut reported", err, p.Cut)
	}
}

// TestTruncatedTar cuts an archive inside its second member, as an
// interrupted download does: by every walk, the first member is read whole,
// the second is a tape cut short (its lines before the cut delivered, its
// error naming it), and the walk itself reports nothing more (issue 13
// item 5: one rule for every command).
func TestTruncatedTar(t *testing.T) {
	a := bytes.Join(realLines(t, "1.197931750"), nil)
	b := bytes.Join(realLines(t, "1.197931751"), nil)
	archive := buildTar(t, []tarEntry{{name: "PRO/1.197931750", data: a}, {name: "PRO/1.197931751", data: b}})
	cutAt := (len(a)+511)/512*512 + 512 + len(b)/2
	p := writeFile(t, t.TempDir(), "cut.tar", archive[:cutAt])

	walks := map[string]func(w *Walker, fn func(context.Context, *Tape) error) error{
		"Walk (streamed)": func(w *Walker, fn func(context.Context, *Tape) error) error {
			return w.Walk(context.Background(), []string{p}, fn)
		},
		"ForEach (buffered)": func(w *Walker, fn func(context.Context, *Tape) error) error {
			return w.ForEach(context.Background(), []string{p}, fn)
		},
		"ForEach (streamed)": func(w *Walker, fn func(context.Context, *Tape) error) error {
			w.StreamAbove = 1
			return w.ForEach(context.Background(), []string{p}, fn)
		},
	}
	for name, walk := range walks {
		t.Run(name, func(t *testing.T) {
			var problems []error
			w := &Walker{Workers: 2, OnError: func(err error) error { problems = append(problems, err); return nil }}
			var c collector
			if err := walk(w, c.fn); err != nil {
				t.Fatalf("walk: %v", err)
			}
			if len(problems) > 0 {
				t.Errorf("input problems %v, want none: the cut is the member's", problems)
			}
			got := c.byName(t)
			if r := got[p+":PRO/1.197931750"]; r.err != nil || len(r.lines) != len(realLines(t, "1.197931750")) {
				t.Errorf("first member: %d lines, error %v", len(r.lines), r.err)
			}
			r, ok := got[p+":PRO/1.197931751"]
			if !ok {
				t.Fatalf("the member the archive ends in was not delivered: %v", c.names())
			}
			if len(r.lines) == 0 || len(r.lines) >= len(realLines(t, "1.197931751")) {
				t.Errorf("cut member: %d lines, want those before the cut", len(r.lines))
			}
			if r.err == nil || !strings.Contains(r.err.Error(), "member PRO/1.197931751") || !strings.Contains(r.err.Error(), errTarTruncated) {
				t.Errorf("cut member: error %v, want it named and truncated", r.err)
			}
		})
	}

	// Cut between members (inside the second header): the members before
	// are kept and OnCut, not OnError, hears of it.
	between := filepath.Join(t.TempDir(), "between.tar")
	os.WriteFile(between, archive[:(len(a)+511)/512*512+512+100], 0o644)
	var cuts, problems []error
	w := &Walker{OnError: func(err error) error { problems = append(problems, err); return nil },
		OnCut: func(err error) error { cuts = append(cuts, err); return nil }}
	var c collector
	if err := w.Walk(context.Background(), []string{between}, c.fn); err != nil {
		t.Fatal(err)
	}
	if len(c.results) != 1 || len(cuts) != 1 || len(problems) != 0 || !strings.Contains(cuts[0].Error(), "truncated after member PRO/1.197931750") {
		t.Errorf("cut between members: %d tapes, cuts %v, problems %v", len(c.results), cuts, problems)
	}
}

package tape

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// DefaultWarnings is how many bad lines of one tape are logged one by one
// under Rules; the rest are counted, and the count is logged once at the
// tape's end, so a binary file of thousands of "lines" gives a few warnings,
// not thousands.
const DefaultWarnings = 5

// Rules is how a run treats bad input, the same for every command, and what
// it met:
//
//   - a bad line (not a stream message) is counted, warned about (up to
//     Warnings per tape, then a count at the tape's end) and skipped;
//   - a tape cut short (a truncated or corrupt compressed stream, a tar
//     archive ending inside a member) keeps every line before the damage
//     and is warned about; so is a tar archive cut short between members,
//     whose members before the cut are kept;
//   - an input that cannot be read at all (does not exist, a glob matching
//     nothing, unreadable, a tar whose structure is corrupt) is warned
//     about, the other inputs are still read, and Err makes the run fail
//     (exit 1);
//   - under Strict the first of any of these stops the run with its error.
//
// One Rules value serves one run; it is safe for concurrent use.
type Rules struct {
	// Strict stops at the first bad line, tape cut short or unreadable
	// input.
	Strict bool
	// Log receives the warnings; nil discards them.
	Log *slog.Logger
	// Warnings is how many bad lines per tape are logged one by one;
	// 0 means DefaultWarnings, below 0 none (they are still counted).
	Warnings int

	mu         sync.Mutex
	unreadable []error
}

// OnError is a Walker.OnError that applies the rules to a problem with one
// input: under Strict it stops the walk; otherwise it is logged and
// remembered for Err, and the walk goes on.
func (r *Rules) OnError(err error) error {
	if r.Strict {
		return err
	}
	r.mu.Lock()
	r.unreadable = append(r.unreadable, err)
	r.mu.Unlock()
	if r.Log != nil {
		r.Log.Warn("input skipped", "err", err)
	}
	return nil
}

// OnCut is a Walker.OnCut that applies the rules to a tar archive cut
// short between members: the members before it are kept and the archive is
// reported as a tape cut short is (under Strict it stops the walk).
func (r *Rules) OnCut(err error) error {
	if r.Strict {
		return err
	}
	if r.Log != nil {
		r.Log.Warn("archive cut short; the members before the damage are kept", "err", err)
	}
	return nil
}

// Unreadable returns the input problems OnError has let pass, in the order
// met.
func (r *Rules) Unreadable() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.unreadable...)
}

// ErrUnreadable is what Err wraps: some inputs could not be read.
var ErrUnreadable = errors.New("inputs could not be read")

// Err returns nil when every input could be read (bad lines and tapes cut
// short are reported, not failures), else an error counting the unreadable
// inputs and quoting the first, so that a cron job notices (exit code 1).
func (r *Rules) Err() error {
	errs := r.Unreadable()
	if len(errs) == 0 {
		return nil
	}
	if len(errs) == 1 {
		return fmt.Errorf("1 of the %w: %w", ErrUnreadable, errs[0])
	}
	return fmt.Errorf("%d %w; the first: %w", len(errs), ErrUnreadable, errs[0])
}

// warnings is the per-tape cap in effect.
func (r *Rules) warnings() int {
	switch {
	case r.Warnings < 0:
		return 0
	case r.Warnings == 0:
		return DefaultWarnings
	}
	return r.Warnings
}

// Played is what Play read of one tape.
type Played struct {
	Lines    int64 // lines read, bad ones included
	BadLines int64 // lines that did not decode, skipped
	// FirstError is the first bad line's error, or the cut when it came
	// first; nil when the tape was read whole and clean.
	FirstError *InputError
	// Cut is set when the tape could not be read to its end (or opened):
	// every line before it has been played.
	Cut *InputError
}

// Line is one decoded line of a tape, as Play hands it on. Raw and Msg are
// reused for the next line: copy what must outlive the call.
type Line struct {
	N   int          // 1-based line number in the tape
	Raw []byte       // the line as read, without its ending
	Msg *esa.Message // Raw decoded
}

// Play is the one replay loop: it reads t's lines, decodes each with esa's
// decoder and hands the good ones to fn, applying rules to the bad ones and
// to a tape cut short (see Rules; nil rules count and skip silently). It
// stops at fn's first error, at the first bad input under rules.Strict (an
// *InputError naming tape and line), or when ctx is done (its cause). What
// was read until then is in Played either way.
func Play(ctx context.Context, t *Tape, rules *Rules, fn func(*Line) error) (Played, error) {
	if rules == nil {
		rules = &Rules{Warnings: -1}
	}
	var p Played
	if ctx.Err() != nil {
		return p, context.Cause(ctx)
	}
	lr, err := t.Lines()
	if err != nil {
		return p, p.cut(ctx, t, rules, err)
	}
	defer lr.Close()
	dec := esa.NewDecoder()
	var (
		msg    esa.Message
		line   = Line{Msg: &msg}
		warned int
		limit  = rules.warnings()
	)
	for lr.Next() {
		n := lr.Line()
		p.Lines++
		if n&4095 == 0 && ctx.Err() != nil {
			return p, context.Cause(ctx)
		}
		raw := lr.Bytes()
		if err := dec.Decode(raw, &msg); err != nil {
			p.BadLines++
			ierr := t.ErrorAt(n, err)
			if p.FirstError == nil {
				p.FirstError = ierr
			}
			if rules.Strict {
				return p, ierr
			}
			if warned < limit && rules.Log != nil {
				warned++
				rules.Log.Warn("bad line skipped", "err", ierr)
			}
			continue
		}
		line.N, line.Raw = n, raw
		if err := fn(&line); err != nil {
			return p, err
		}
	}
	if n := p.BadLines - int64(warned); n > 0 && rules.Log != nil {
		rules.Log.Warn("bad lines skipped", "tape", t.Name, "count", p.BadLines, "not logged", n)
	}
	if err := lr.Err(); err != nil {
		return p, p.cut(ctx, t, rules, err)
	}
	return p, nil
}

// cut records a tape cut short and decides, by the rules, whether it stops
// the run.
func (p *Played) cut(ctx context.Context, t *Tape, rules *Rules, err error) error {
	if ctx.Err() != nil {
		// Reading stopped because the run was cancelled; the tape may be
		// fine.
		return context.Cause(ctx)
	}
	var ierr *InputError
	if !errors.As(err, &ierr) {
		ierr = t.ErrorAt(0, err)
	}
	p.Cut = ierr
	if p.FirstError == nil {
		p.FirstError = ierr
	}
	if rules.Strict {
		return ierr
	}
	if rules.Log != nil {
		rules.Log.Warn("tape cut short; the lines before the damage are kept", "err", ierr)
	}
	return nil
}

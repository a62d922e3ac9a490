package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/tape"
)

// BooksOptions controls WriteBooks.
type BooksOptions struct {
	// Cache configures the market cache (betfairlightweight's options).
	Cache book.Options
	// Strict stops at the first bad line, tape cut short or unreadable
	// input instead of reporting and skipping it.
	Strict bool
	// Log receives warnings about bad input (see tape.Rules); nil discards
	// them.
	Log *slog.Logger
	// Sources says how s3:// inputs are read.
	Sources tape.Sources
}

// BooksResult counts what WriteBooks did.
type BooksResult struct {
	Tapes    int
	Lines    int64
	Books    int64
	BadLines int64
	// CutShort counts tapes that could not be read to the end; the books
	// of the lines before the damage are written.
	CutShort int
	// InputErrors counts inputs that could not be read at all.
	InputErrors int
}

// WriteBooks replays every tape of inputs in order, each through a fresh
// market cache, and writes to w one JSON line per market changed by each
// input line: the market book in betfairlightweight's lightweight layout.
// For a single-market tape, output line N is the book after input line N.
// Bad input is handled by tape.Rules; when some input could not be read at
// all the error (wrapping tape.ErrUnreadable) comes after everything else
// has been written.
func WriteBooks(ctx context.Context, inputs []string, w io.Writer, opts BooksOptions) (BooksResult, error) {
	var res BooksResult
	bw := bufio.NewWriterSize(w, 1<<20)
	var buf []byte
	rules := &tape.Rules{Strict: opts.Strict, Log: opts.Log}
	wk := tape.NewWalker(1, rules, opts.Sources)
	err := wk.Walk(ctx, inputs, func(ctx context.Context, t *tape.Tape) error {
		res.Tapes++
		cache := book.NewMarketCache(opts.Cache)
		p, err := tape.Play(ctx, t, rules, func(l *tape.Line) error {
			if l.Msg.Op != esa.OpMCM {
				return nil
			}
			for _, m := range cache.Apply(l.Msg) {
				buf = m.AppendLightweightJSON(buf[:0], book.JSONOptions{Snap: true})
				buf = append(buf, '\n')
				if _, err := bw.Write(buf); err != nil {
					return fmt.Errorf("books: writing output: %w", err)
				}
				res.Books++
			}
			return nil
		})
		res.Lines += p.Lines
		res.BadLines += p.BadLines
		if p.Cut != nil {
			res.CutShort++
		}
		return err
	})
	res.InputErrors = len(rules.Unreadable())
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("books: writing output: %w", ferr)
	}
	if err == nil {
		err = rules.Err()
	}
	return res, err
}

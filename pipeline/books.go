package pipeline

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// BooksOptions controls WriteBooks.
type BooksOptions struct {
	// Cache configures the market cache (betfairlightweight's options).
	Cache book.Options
	// Strict stops at the first bad line instead of counting and skipping it.
	Strict bool
	// Log receives one warning per bad line; nil discards them.
	Log *slog.Logger
}

// BooksResult counts what WriteBooks did.
type BooksResult struct {
	Tapes    int
	Lines    int64
	Books    int64
	BadLines int64
	// InputErrors counts inputs and tapes that could not be read to the end.
	InputErrors int
}

// WriteBooks replays every tape of inputs in order, each through a fresh
// market cache, and writes to w one JSON line per market changed by each
// input line: the market book in betfairlightweight's lightweight layout.
// For a single-market tape, output line N is the book after input line N.
func WriteBooks(ctx context.Context, inputs []string, w io.Writer, opts BooksOptions) (BooksResult, error) {
	var res BooksResult
	bw := bufio.NewWriterSize(w, 1<<20)
	dec := esa.NewDecoder()
	var (
		msg esa.Message
		buf []byte
	)
	warn := func(msg string, err error) {
		if opts.Log != nil {
			opts.Log.Warn(msg, "err", err)
		}
	}
	wk := &Walker{}
	if !opts.Strict {
		wk.OnError = func(err error) error {
			res.InputErrors++
			warn("input skipped", err)
			return nil
		}
	}
	err := wk.Walk(ctx, inputs, func(ctx context.Context, t *Tape) error {
		res.Tapes++
		cache := book.NewMarketCache(opts.Cache)
		err := eachLine(t, func(line []byte, n int) error {
			res.Lines++
			if err := dec.Decode(line, &msg); err != nil {
				res.BadLines++
				ierr := t.ErrorAt(n, err)
				if opts.Strict {
					return ierr
				}
				warn("bad line skipped", ierr)
				return nil
			}
			if msg.Op != esa.OpMCM {
				return nil
			}
			for _, m := range cache.Apply(&msg) {
				buf = m.AppendLightweightJSON(buf[:0], book.JSONOptions{Snap: true})
				buf = append(buf, '\n')
				if _, err := bw.Write(buf); err != nil {
					return fmt.Errorf("books: writing output: %w", err)
				}
				res.Books++
			}
			return nil
		})
		var ierr *InputError
		if err != nil && !opts.Strict && errors.As(err, &ierr) {
			// The tape was cut short: what it held so far is written;
			// the next tape is still read.
			res.InputErrors++
			warn("tape cut short", err)
			return nil
		}
		return err
	})
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("books: writing output: %w", ferr)
	}
	return res, err
}

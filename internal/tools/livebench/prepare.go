package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/tape"
)

// ptField is a message's publish time: the first "pt" of an mcm line is
// the message's own (market changes carry none).
var ptField = regexp.MustCompile(`"pt":[0-9]+`)

func prepare(args []string) error {
	fs := flag.NewFlagSet("prepare", flag.ContinueOnError)
	markets := fs.Int("markets", 200, "how many markets to make")
	out := fs.String("o", "", "directory for the tapes")
	before := fs.Duration("before", 10*time.Minute, "window start before each market's scheduled off")
	after := fs.Duration("after", 2*time.Minute, "window end after the scheduled off")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		return fmt.Errorf("usage: livebench prepare -markets N -o DIR TAPES...")
	}
	type window struct {
		id    string
		lines [][]byte
		shift int64 // added to every pt so that the window starts at 0
	}
	var real []window
	err := tape.Walk(context.Background(), fs.Args(), func(ctx context.Context, t *tape.Tape) error {
		var w window
		var lines [][]byte
		var pts []int64
		var off int64
		_, err := tape.Play(ctx, t, nil, func(l *tape.Line) error {
			if l.Msg.Op != esa.OpMCM {
				return nil
			}
			for _, mc := range l.Msg.MC {
				w.id = string(mc.ID)
				if d := mc.Def; d != nil && d.MarketTime != "" {
					if tm, err := time.Parse(time.RFC3339, d.MarketTime); err == nil {
						off = tm.UnixMilli()
					}
				}
			}
			lines = append(lines, bytes.Clone(l.Raw))
			pts = append(pts, l.Msg.Pt)
			return nil
		})
		if err != nil || len(lines) == 0 || off == 0 {
			return err
		}
		from, to := off-before.Milliseconds(), off+after.Milliseconds()
		w.shift = -from
		w.lines = append(w.lines, ptField.ReplaceAll(lines[0], []byte(`"pt":`+strconv.FormatInt(from, 10))))
		for i := 1; i < len(lines); i++ {
			if pts[i] >= from && pts[i] <= to {
				w.lines = append(w.lines, lines[i])
			}
		}
		real = append(real, w)
		return nil
	})
	if err != nil {
		return err
	}
	if len(real) == 0 {
		return fmt.Errorf("no market with a scheduled off in %v", fs.Args())
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	// The copies start their windows at one instant, a day after the epoch
	// of the first real market's, so that every copy is busy at once.
	const start = int64(1_700_000_000_000)
	for n := 0; n < *markets; n++ {
		w := real[n%len(real)]
		copyID := w.id + fmt.Sprintf("%02d", n/len(real))
		var buf bytes.Buffer
		for _, line := range w.lines {
			line = bytes.ReplaceAll(line, []byte(`"id":"`+w.id+`"`), []byte(`"id":"`+copyID+`"`))
			line = ptField.ReplaceAllFunc(line, func(f []byte) []byte {
				pt, _ := strconv.ParseInt(string(f[5:]), 10, 64)
				return []byte(`"pt":` + strconv.FormatInt(pt+w.shift+start, 10))
			})
			buf.Write(line)
			buf.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(*out, copyID), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

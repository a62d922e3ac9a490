package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/pipeline"
	"github.com/tapedeck/tapedeck/pipeline/parquet"
	"github.com/tapedeck/tapedeck/pipeline/tables"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/s3"
)

// Memory bounds, whatever the input size: the rows all workers hold
// pending at once (rowBudget rows, byteBudget bytes, shared out between
// workers; each worker's row groups close at its share of rowBudget, capped
// at parquet.DefaultMaxRows), and a soft limit that makes the garbage
// collector work harder before the heap reaches it (unless GOMEMLIMIT
// says otherwise). Besides the pending rows a worker holds the market it is
// replaying and, while it writes, one row group's encoded pages.
const (
	rowBudget   = 3 << 19
	byteBudget  = 192 << 20
	memoryLimit = 768 << 20
	gcPercent   = 1000
)

type parquetFlags struct {
	dest    string
	tables  string
	grid    string
	workers int
	shard   string
	force   bool
	strict  bool
	s3      s3.Options
}

func newParquetCmd() *cobra.Command {
	var f parquetFlags
	cmd := &cobra.Command{
		Use:   "parquet INPUT... -o DEST",
		Short: "Turn tapes and Betfair archives into a partitioned Parquet dataset",
		Long: `parquet replays every market of every input once through the market cache and
writes the tables markets, runners, market_definitions, runner_definitions,
ladder_deltas, trades, snapshots, market_snapshots, orders and files under
DEST (a directory or s3://bucket/prefix) as

  DEST/<table>/event_type_id=<id>/date=<YYYY-MM-DD of market_time>/part-<batch>.parquet

ZSTD-compressed, strings dictionary-encoded, a market never split across
files. Files appear only when whole. The files table records every input
done; a rerun skips those (same source, member, size and modification
time) unless --force, which redoes them and then deletes their old rows.

--shard K/N keeps only the tapes whose name (PATH, or PATH:MEMBER for a tar
member) has an FNV-1a 32-bit hash equal to K modulo N (K from 0), so N
runs with K = 0..N-1 over the same INPUTs cover every tape exactly once.

--grid replaces the snapshot grid: comma-separated FROM:TO:STEP spans in
seconds before the reference (scheduled start and the off), negative to
reach into play; "" takes no snapshots.`,
		Example: `  convert parquet pro-greyhounds-2022-03-01.tar -o dataset/
  convert parquet tapes/ -o s3://bucket/dataset --shard 3/8 --s3-endpoint http://127.0.0.1:7070`,
		Args: cli.RequireInputs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runParquet(cmd, args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.dest, "output", "o", "", "destination directory or s3://bucket/prefix (required)")
	fl.StringVar(&f.tables, "tables", "all", "comma-separated tables to write (files is always written)")
	fl.StringVar(&f.grid, "grid", tables.DefaultGridSpec, "snapshot grid, FROM:TO:STEP,... in seconds before the reference")
	fl.IntVar(&f.workers, "workers", runtime.NumCPU(), "tapes processed at once")
	fl.StringVar(&f.shard, "shard", "", "K/N: process only tapes whose name hashes to K of N (K from 0)")
	fl.BoolVar(&f.force, "force", false, "redo inputs the files table already lists")
	fl.BoolVar(&f.strict, "strict", false, "stop at the first bad line or unreadable input (exit code 1)")
	f.s3.AddFlags(fl)
	return cmd
}

// parseShard parses "K/N"; "" is 0/1 (everything).
func parseShard(s string) (k, n uint32, err error) {
	if s == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	ki, err1 := strconv.ParseUint(a, 10, 32)
	ni, err2 := strconv.ParseUint(b, 10, 32)
	if !ok || err1 != nil || err2 != nil || ni == 0 || ki >= ni {
		return 0, 0, fmt.Errorf("--shard %q: want K/N with 0 <= K < N", s)
	}
	return uint32(ki), uint32(ni), nil
}

// shardOf is the documented, stable shard of a tape name.
func shardOf(name string, n uint32) uint32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return h.Sum32() % n
}

// fileKey identifies one version of one input in the files table.
func fileKey(f *tables.File) string {
	var mt int64
	if f.ModTime != nil {
		mt = *f.ModTime
	}
	return fmt.Sprintf("%s\x00%s\x00%d\x00%d\x00%s", f.Source, f.Member, f.Bytes, mt, f.ETag)
}

// dropSuperseded deletes the batches all of whose inputs were converted
// again by a later batch, and returns the files-table rows that remain.
func dropSuperseded(ctx context.Context, st store.Store, prefix string, done []tables.File) ([]tables.File, error) {
	latest := map[string]tables.File{}
	for _, f := range done {
		id := inputID(&f)
		if l, ok := latest[id]; !ok || f.DoneAt > l.DoneAt || f.DoneAt == l.DoneAt && f.Batch > l.Batch {
			latest[id] = f
		}
	}
	stale := map[string]bool{}
	for _, f := range done {
		stale[f.Batch] = true
	}
	for _, f := range done {
		if latest[inputID(&f)].Batch == f.Batch {
			stale[f.Batch] = false
		}
	}
	if !slices.Contains(slices.Collect(maps.Values(stale)), true) {
		return done, nil
	}
	if _, err := parquet.RemoveBatches(ctx, st, prefix, func(b string) bool { return stale[b] }); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(done, func(f tables.File) bool { return stale[f.Batch] }), nil
}

// inputID identifies an input whatever its version: source and member.
func inputID(f *tables.File) string { return f.Source + "\x00" + f.Member }

// parquetRun is one run's shared counters.
type parquetRun struct {
	inputs, skipped, failed atomic.Int64
	markets, lines, changes atomic.Int64
	bad, bytesDone          atomic.Int64
	mu                      sync.Mutex
	firstErr                string
	inputErrs               []string
	redone                  map[string]bool // inputIDs converted by this run
}

func runParquet(cmd *cobra.Command, args []string, f parquetFlags) error {
	ctx := cmd.Context()
	start := time.Now()
	if f.dest == "" {
		return &cli.UsageError{Err: errors.New("-o DEST is required")}
	}
	if f.workers < 1 {
		return &cli.UsageError{Err: fmt.Errorf("--workers must be at least 1, got %d", f.workers)}
	}
	sel, err := parquet.ParseTables(f.tables)
	if err != nil {
		return &cli.UsageError{Err: fmt.Errorf("--tables: %w", err)}
	}
	grid, err := tables.ParseGrid(f.grid)
	if err != nil {
		return &cli.UsageError{Err: fmt.Errorf("--grid: %w", err)}
	}
	shardK, shardN, err := parseShard(f.shard)
	if err != nil {
		return &cli.UsageError{Err: err}
	}
	log := cli.NewLogger(os.Stderr, slog.LevelInfo)
	f.s3.Logger = log // the AWS SDK's lines too, at this level
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	if os.Getenv("GOGC") == "" {
		// The heap is mostly rows waiting to be written: collecting at 11x
		// the live heap rather than 2x saves a sixth of the CPU on small
		// inputs, and on large ones the memory limit above, not this
		// percentage, is what bounds the heap (it already was at 4x).
		debug.SetGCPercent(gcPercent)
	}
	st, prefix, err := store.Open(ctx, f.dest, store.Options{S3: f.s3})
	if err != nil {
		return err
	}

	// What earlier runs finished, and leftovers of interrupted ones: data
	// files of this shard's batches that no files-table part lists.
	done, err := parquet.ReadFiles(ctx, st, prefix)
	if err != nil {
		return fmt.Errorf("reading the files table of %s: %w", f.dest, err)
	}
	// A run interrupted after redoing inputs (changed, or --force) but
	// before removing their old batches leaves inputs listed twice: a
	// batch whose every input has a later batch goes now.
	done, err = dropSuperseded(ctx, st, prefix, done)
	if err != nil {
		return err
	}
	doneKeys := map[string]bool{}
	doneBatches := map[string]bool{}
	for i := range done {
		doneKeys[fileKey(&done[i])] = true
		doneBatches[done[i].Batch] = true
	}
	tag := fmt.Sprintf("s%dof%d", shardK, shardN)
	if n, err := parquet.RemoveBatches(ctx, st, prefix, func(b string) bool {
		return strings.HasPrefix(b, tag+"-") && !doneBatches[b]
	}); err != nil {
		return err
	} else if n > 0 {
		log.Info("removed files of an interrupted run", "files", n)
	}

	run := &parquetRun{redone: map[string]bool{}}
	maxRows := min(parquet.DefaultMaxRows, max(rowBudget/f.workers, 1<<14))
	runID := strconv.FormatInt(time.Now().UnixMilli(), 36)
	// A worker holds a slot while it converts a tape: its Writer, and the
	// scratch memory one tape's replay leaves to the next.
	type slot struct {
		w       *parquet.Writer
		scratch tables.Scratch
	}
	slots := make(chan *slot, f.workers)
	all := make([]*parquet.Writer, f.workers)
	for i := range all {
		all[i] = parquet.NewWriter(parquet.Options{Store: st, Prefix: prefix, Tables: sel, Version: cli.Version(),
			Grid: grid.String(), Batch: fmt.Sprintf("%s-%s-w%d", tag, runID, i), MaxRows: maxRows,
			MaxBytes: byteBudget / int64(f.workers)})
		slots <- &slot{w: all[i]}
	}
	total := totalBytes(args)
	prog := newParquetProgress(os.Stderr, run, total, start)
	defer prog.stop()

	objects := &sync.Map{} // S3 input path -> store.Object, for the files table
	walker := &pipeline.Walker{Workers: f.workers, Listers: map[string]pipeline.Lister{
		"s3": &pipeline.StoreLister{Options: store.Options{S3: f.s3}, Seen: func(url string, o store.Object) { objects.Store(url, o) }}}}
	if !f.strict {
		walker.OnError = func(err error) error {
			run.mu.Lock()
			run.inputErrs = append(run.inputErrs, err.Error())
			run.mu.Unlock()
			run.failed.Add(1)
			log.Warn("input skipped", "err", err)
			return nil
		}
	}
	topts := tables.Options{Grid: grid, NoLadderDeltas: !sel[parquet.TableLadderDeltas],
		NoSnapshots: !sel[parquet.TableSnapshots] && !sel[parquet.TableMarketSnapshots]}
	mtimes := &sync.Map{}
	// pass converts the tapes of inputs; with only set, exactly the inputs
	// it names (source and member), done or not.
	pass := func(inputs []string, only map[string]bool) error {
		return walker.ForEach(ctx, inputs, func(ctx context.Context, t *pipeline.Tape) error {
			if shardOf(t.Name, shardN) != shardK {
				return nil
			}
			file := tables.File{Source: t.Path, Member: t.Member, Bytes: t.Size, ModTime: modTime(mtimes, t.Path)}
			if v, ok := objects.Load(t.Path); ok {
				o := v.(store.Object)
				ms := o.ModTime.UnixMilli()
				file.ModTime, file.ETag = &ms, o.ETag
			}
			id := inputID(&file)
			if only != nil {
				if !only[id] {
					return nil
				}
			} else if doneKeys[fileKey(&file)] && !f.force {
				run.skipped.Add(1)
				return nil
			}
			sl := <-slots
			defer func() { slots <- sl }()
			w, opts := sl.w, topts
			opts.Scratch = &sl.scratch
			rows, err := convertTape(ctx, t, opts, f.strict, &file, run, log)
			if err != nil {
				return err
			}
			file.DoneAt = time.Now().UnixMilli()
			run.mu.Lock()
			run.redone[id] = true
			run.mu.Unlock()
			run.inputs.Add(1)
			run.markets.Add(int64(len(rows)))
			run.bytesDone.Add(max(t.Size, 0))
			return w.Add(ctx, rows, file)
		})
	}
	walkErr := pass(args, nil)
	// Inputs done again (changed, or --force) supersede their old rows, but
	// rows go a whole batch at a time: redo the rest of every batch that
	// lost some of its inputs, so that it can go too.
	batchInputs := map[string][]string{}
	sources := map[string]string{}
	for i := range done {
		id := inputID(&done[i])
		batchInputs[done[i].Batch] = append(batchInputs[done[i].Batch], id)
		sources[id] = done[i].Source
	}
	if walkErr == nil && len(run.redone) > 0 {
		rest := map[string]bool{}
		var again []string
		for _, ids := range batchInputs {
			if !slices.ContainsFunc(ids, func(id string) bool { return run.redone[id] }) {
				continue
			}
			for _, id := range ids {
				if !run.redone[id] && !rest[id] {
					rest[id] = true
					if !slices.Contains(again, sources[id]) {
						again = append(again, sources[id])
					}
				}
			}
		}
		if len(again) > 0 {
			walkErr = pass(again, rest)
		}
	}
	// The writers' last batches, all at once: each is one worker's share
	// of the pending rows, and written one after the other they would
	// leave all but one core idle at the end of the run.
	written := 0
	if walkErr == nil || !errors.Is(walkErr, context.Canceled) {
		errs := make([]error, len(all))
		var wg sync.WaitGroup
		for i, w := range all {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = w.Flush(ctx)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil && walkErr == nil {
				walkErr = err
			}
		}
	}
	for _, w := range all {
		written += w.Written
	}
	if walkErr == nil && len(run.redone) > 0 {
		stale := map[string]bool{}
		for b, ids := range batchInputs {
			stale[b] = !slices.ContainsFunc(ids, func(id string) bool { return !run.redone[id] })
			if !stale[b] && slices.ContainsFunc(ids, func(id string) bool { return run.redone[id] }) {
				log.Warn("old rows kept: some inputs of their batch are gone", "batch", b)
			}
		}
		if _, err := parquet.RemoveBatches(ctx, st, prefix, func(b string) bool { return stale[b] }); err != nil {
			walkErr = err
		}
	}
	prog.stop()
	fmt.Fprintf(cmd.OutOrStdout(), "%d inputs converted, %d skipped as done, %d unreadable; %d markets, %d lines, %d market changes, %d bad lines; %d files written to %s in %s (%.0f market changes/s)%s\n",
		run.inputs.Load(), run.skipped.Load(), run.failed.Load(), run.markets.Load(), run.lines.Load(), run.changes.Load(),
		run.bad.Load(), written, f.dest, time.Since(start).Round(time.Millisecond),
		float64(run.changes.Load())/time.Since(start).Seconds(), firstErrNote(run))
	if walkErr == nil && run.failed.Load() > 0 {
		// The rest is converted, but a cron job must notice (exit code 1).
		walkErr = fmt.Errorf("%d inputs could not be read", run.failed.Load())
	}
	return walkErr
}

func firstErrNote(run *parquetRun) string {
	run.mu.Lock()
	defer run.mu.Unlock()
	switch {
	case run.firstErr != "":
		return "; first error: " + run.firstErr
	case len(run.inputErrs) > 0:
		return "; first error: " + run.inputErrs[0]
	}
	return ""
}

// convertTape replays one tape through fresh caches and returns its
// markets' rows, filling in file's counts. Only --strict (or a cancelled
// context) makes a bad line or a broken stream an error; otherwise it is
// counted and noted in file.
func convertTape(ctx context.Context, t *pipeline.Tape, opts tables.Options, strict bool, file *tables.File,
	run *parquetRun, log *slog.Logger) ([]*tables.Rows, error) {
	cache := book.NewMarketCache(book.Options{})
	opts.Source, opts.Member = t.Path, t.Member
	b := tables.NewBuilder(opts)
	dec := esa.NewDecoder()
	var msg esa.Message
	var changes int64
	lr, err := t.Lines()
	if err != nil {
		return nil, err
	}
	defer lr.Close()
	for lr.Next() {
		n := lr.Line()
		file.Lines++
		if err := dec.Decode(lr.Bytes(), &msg); err != nil {
			ierr := t.ErrorAt(n, err)
			file.BadLines++
			if file.FirstError == "" {
				file.FirstError = ierr.Error()
			}
			if strict {
				return nil, ierr
			}
			if file.BadLines == 1 {
				// One warning per tape: a damaged member can turn into
				// thousands of bad lines; the count is in the files table.
				log.Warn("bad line skipped (further ones in this tape are only counted)", "err", ierr)
			}
			continue
		}
		var changed []*book.Market
		if msg.Op == esa.OpMCM {
			changed = cache.Apply(&msg)
			changes += int64(len(msg.MC))
		}
		b.Line(n, &msg, changed)
		if n&4095 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if err := lr.Err(); err != nil {
		if strict || ctx.Err() != nil {
			return nil, err
		}
		// A corrupt or truncated member: keep what was read, say so in the
		// files table and the summary.
		if file.FirstError == "" {
			file.FirstError = err.Error()
		}
		log.Warn("tape cut short", "err", err)
	}
	run.lines.Add(file.Lines)
	run.bad.Add(file.BadLines)
	run.changes.Add(changes)
	if file.FirstError != "" {
		run.mu.Lock()
		if run.firstErr == "" {
			run.firstErr = file.FirstError
		}
		run.mu.Unlock()
	}
	rows := b.Finish()
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.MarketID)
	}
	file.MarketIDs = strings.Join(ids, ",")
	return rows, nil
}

// modTime returns the modification time of a local input (an archive's
// for its members), cached per path; nil for standard input and S3.
func modTime(cache *sync.Map, p string) *int64 {
	if v, ok := cache.Load(p); ok {
		return v.(*int64)
	}
	var mt *int64
	if fi, err := os.Stat(p); err == nil && p != "-" {
		ms := fi.ModTime().UnixMilli()
		mt = &ms
	}
	cache.Store(p, mt)
	return mt
}

// totalBytes is the size of the inputs when every one is a regular file
// (so an ETA can be shown), else 0.
func totalBytes(args []string) int64 {
	var n int64
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil || !fi.Mode().IsRegular() {
			return 0
		}
		n += fi.Size()
	}
	return n
}

// parquetProgress redraws one line on a terminal every half second:
// markets, updates/s and, when the input size is known, an ETA.
type parquetProgress struct {
	stopOnce sync.Once
	quit     chan struct{}
	wg       sync.WaitGroup
}

func newParquetProgress(w *os.File, run *parquetRun, total int64, start time.Time) *parquetProgress {
	p := &parquetProgress{quit: make(chan struct{})}
	if !cli.IsTerminal(w) {
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		drew := false
		for {
			select {
			case <-p.quit:
				if drew {
					fmt.Fprintln(w)
				}
				return
			case <-tick.C:
			}
			el := time.Since(start).Seconds()
			line := fmt.Sprintf("\r%d markets, %d inputs, %.0f updates/s", run.markets.Load(), run.inputs.Load(),
				float64(run.changes.Load())/el)
			if d := run.bytesDone.Load(); total > 0 && d > 0 {
				eta := time.Duration(el*float64(total-d)/float64(d)) * time.Second
				line += fmt.Sprintf(", %.0f%%, ETA %s", 100*float64(d)/float64(total), eta.Round(time.Second))
			}
			fmt.Fprint(w, line+"  ")
			drew = true
		}
	}()
	return p
}

func (p *parquetProgress) stop() {
	p.stopOnce.Do(func() { close(p.quit); p.wg.Wait() })
}

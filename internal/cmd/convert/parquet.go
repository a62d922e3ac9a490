package convert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/internal/hugepages"
	"github.com/tapedeck/tapedeck/internal/shard"
	"github.com/tapedeck/tapedeck/pipeline/parquet"
	"github.com/tapedeck/tapedeck/pipeline/tables"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/s3"
	"github.com/tapedeck/tapedeck/tape"
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
	// hugeHeap is how much of the heap is marked for transparent huge
	// pages at the start (internal/hugepages): more than the greyhound
	// archive's run touches (150 MiB), so its page faults fall from 28,000
	// to 2,000, and about a third of its CPU time with them.
	hugeHeap = 512 << 20
)

type parquetFlags struct {
	dest    string
	tables  string
	grid    string
	postOff string
	depth   int
	workers int
	shard   string
	force   bool
	strict  bool
	compact bool
	s3      s3.Options
}

func newParquetCmd() *cobra.Command {
	var f parquetFlags
	cmd := &cobra.Command{
		Use:   "parquet INPUT... -o DEST",
		Short: "Turn tapes and Betfair archives into a partitioned Parquet dataset",
		Long: `parquet replays every market of every input once through the market cache and
writes the tables markets, runners, market_definitions, runner_definitions,
ladder_deltas, trades, snapshots, runner_updates, market_snapshots, orders
and files under
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
reach into play; "" takes no snapshots. --post-off-grid adds points after the
off (negative) for the off reference of markets that turn in play; ""
adds none. --depth sets how many of a side's best prices and sizes
snapshots carry (back_price_1..N, back_size_1..N, lay_price_1..N,
lay_size_1..N); the depth-3 columns are the same at any depth.

--compact then merges each partition's small files into few, as
convert compact does.`,
		Example: `  tapedeck convert parquet pro-greyhounds-2022-03-01.tar -o dataset/
  tapedeck convert parquet tapes/ -o s3://bucket/dataset --shard 3/8 --s3-endpoint http://127.0.0.1:7070`,
		Args: cli.RequireInputs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runParquet(cmd, args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.dest, "output", "o", "", "destination directory or s3://bucket/prefix (required)")
	fl.StringVar(&f.tables, "tables", "", "comma-separated tables to write, or all (default: all but runner_updates; files is always written)")
	fl.StringVar(&f.grid, "grid", tables.DefaultGridSpec, "snapshot grid, FROM:TO:STEP,... in seconds before the reference")
	fl.StringVar(&f.postOff, "post-off-grid", tables.DefaultPostOffSpec, "snapshot points after the off for markets that turn in play, FROM:TO:STEP,...")
	fl.IntVar(&f.depth, "depth", tables.DefaultDepth, fmt.Sprintf("best prices and sizes a side in snapshots, 1 to %d", tables.MaxDepth))
	fl.IntVar(&f.workers, "workers", runtime.NumCPU(), "tapes processed at once")
	fl.StringVar(&f.shard, "shard", "", "K/N: process only tapes whose name hashes to K of N (K from 0)")
	fl.BoolVar(&f.force, "force", false, "redo inputs the files table already lists")
	fl.BoolVar(&f.compact, "compact", false, "then merge each partition's small files, as convert compact does (not with --shard)")
	fl.BoolVar(&f.strict, "strict", false, "stop at the first bad line or unreadable input (exit code 1)")
	f.s3.AddFlags(fl)
	return cmd
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
	inputs, skipped         atomic.Int64
	markets, lines, changes atomic.Int64
	bad, bytesDone          atomic.Int64
	mu                      sync.Mutex
	firstErr                string
	redone                  map[string]bool // inputIDs converted by this run
}

// parquetSettings are the flags once checked.
type parquetSettings struct {
	sel     map[string]bool
	grid    tables.Grid
	postOff tables.Grid
	shard   shard.Shard
}

// parseParquetFlags checks the flags; its errors are usage errors (exit 2).
func parseParquetFlags(f parquetFlags) (parquetSettings, error) {
	var ps parquetSettings
	if f.dest == "" {
		return ps, &cli.UsageError{Err: errors.New("-o DEST is required")}
	}
	if f.depth < 1 || f.depth > tables.MaxDepth {
		return ps, &cli.UsageError{Err: fmt.Errorf("--depth must be from 1 to %d, got %d", tables.MaxDepth, f.depth)}
	}
	if f.workers < 1 {
		return ps, &cli.UsageError{Err: fmt.Errorf("--workers must be at least 1, got %d", f.workers)}
	}
	var err error
	if ps.sel, err = parquet.ParseTables(f.tables); err != nil {
		return ps, &cli.UsageError{Err: fmt.Errorf("--tables: %w", err)}
	}
	if ps.grid, err = tables.ParseGrid(f.grid); err != nil {
		return ps, &cli.UsageError{Err: fmt.Errorf("--grid: %w", err)}
	}
	if ps.postOff, err = tables.ParseGrid(f.postOff); err != nil {
		return ps, &cli.UsageError{Err: fmt.Errorf("--post-off-grid: %w", err)}
	}
	if ps.shard, err = shard.Parse(f.shard); err != nil {
		return ps, &cli.UsageError{Err: err}
	}
	if f.compact && f.shard != "" {
		// Shards write side by side; compact needs the dataset alone.
		return ps, &cli.UsageError{Err: errors.New("--compact cannot be used with --shard: run convert compact once every shard has finished")}
	}
	return ps, nil
}

// setMemoryBounds sets the garbage collector for holding rows until they
// are written, unless the environment says otherwise, and asks for huge
// pages for the heap (TAPEDECK_HUGEPAGES=0 does not).
func setMemoryBounds() {
	if os.Getenv("TAPEDECK_HUGEPAGES") != "0" {
		hugepages.Heap(hugeHeap)
	}
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
}

// parquetJob is one run of convert parquet: the destination, what earlier
// runs did there, the workers' writers and the walk.
type parquetJob struct {
	f      parquetFlags
	ps     parquetSettings
	st     store.Store
	prefix string
	log    *slog.Logger
	rules  *tape.Rules
	walker *tape.Walker
	run    *parquetRun
	topts  tables.Options

	done     []tables.File   // the files table as found (less superseded batches)
	doneKeys map[string]bool // fileKey of every input done
	all      []*parquet.Writer
	slots    chan *parquetSlot
	objects  *sync.Map // S3 input path -> store.Object, for the files table
	mtimes   *sync.Map // local path -> *int64 modification time
	release  func()    // ends the claim on a local dataset (claimDataset)
}

// parquetSlot is what a worker holds while it converts a tape: its Writer,
// and the scratch memory one tape's replay leaves to the next.
type parquetSlot struct {
	w       *parquet.Writer
	scratch tables.Scratch
}

func runParquet(cmd *cobra.Command, args []string, f parquetFlags) error {
	// SIGINT and SIGTERM end the run through its context, so that writers
	// abort and remove their temporary files.
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	ps, err := parseParquetFlags(f)
	if err != nil {
		return err
	}
	setMemoryBounds()
	j := &parquetJob{f: f, ps: ps, log: cli.NewLogger(os.Stderr, slog.LevelInfo), run: &parquetRun{redone: map[string]bool{}},
		objects: &sync.Map{}, mtimes: &sync.Map{}}
	err = j.openDest(ctx)
	defer func() {
		if j.release != nil {
			j.release()
		}
	}()
	if err != nil {
		return err
	}
	j.startWriters()
	j.rules = &tape.Rules{Strict: f.strict, Log: j.log, Warnings: 1}
	j.walker = tape.NewWalker(f.workers, j.rules, tape.Sources{Store: store.Options{S3: f.s3.WithLogger(j.log)},
		Seen: func(url string, o store.Object) { j.objects.Store(url, o) }})
	j.topts = tables.Options{Grid: ps.grid, PostOff: ps.postOff, NoLadderDeltas: !ps.sel[parquet.TableLadderDeltas],
		NoSnapshots:     !ps.sel[parquet.TableSnapshots] && !ps.sel[parquet.TableMarketSnapshots],
		NoRunnerUpdates: !ps.sel[parquet.TableRunnerUpdates], Depth: f.depth}

	prog := newParquetProgress(os.Stderr, j.run, totalBytes(args), start)
	defer prog.stop()
	walkErr := j.convert(ctx, args, nil)
	if walkErr == nil {
		walkErr = j.redoBatches(ctx)
	}
	if walkErr == nil || !errors.Is(walkErr, context.Canceled) {
		if err := j.flush(ctx); walkErr == nil {
			walkErr = err
		}
	}
	written := 0
	for _, w := range j.all {
		written += w.Written
	}
	if walkErr == nil {
		walkErr = j.removeRedone(ctx)
	}
	prog.stop()
	run := j.run
	fmt.Fprintf(cmd.OutOrStdout(), "%d inputs converted, %d skipped as done, %d unreadable; %d markets, %d lines, %d market changes, %d bad lines; %d files written to %s in %s (%.0f market changes/s)%s\n",
		run.inputs.Load(), run.skipped.Load(), len(j.rules.Unreadable()), run.markets.Load(), run.lines.Load(), run.changes.Load(),
		run.bad.Load(), written, f.dest, time.Since(start).Round(time.Millisecond),
		float64(run.changes.Load())/time.Since(start).Seconds(), j.firstErrNote())
	if walkErr == nil && f.compact {
		walkErr = j.compact(ctx, cmd.OutOrStdout())
	}
	if walkErr == nil {
		// The rest is converted, but a cron job must notice (exit code 1).
		walkErr = j.rules.Err()
	}
	return walkErr
}

// compact runs convert compact on the destination, once the run has it
// alone: the run's shared claim is given up for an exclusive one.
func (j *parquetJob) compact(ctx context.Context, out io.Writer) error {
	if j.release != nil {
		j.release()
		j.release = nil
	}
	release, err := claimAlone(j.st, j.prefix, j.log)
	if err != nil {
		return err
	}
	defer release()
	return compact(ctx, out, j.st, j.prefix, j.f.dest, parquet.CompactOptions{Log: j.log})
}

// openDest opens the destination and reads what earlier runs finished
// there, removing what interrupted runs left: data files of this shard's
// batches that no files-table part lists, and batches superseded by later
// ones.
func (j *parquetJob) openDest(ctx context.Context) error {
	st, prefix, err := store.Open(ctx, j.f.dest, store.Options{S3: j.f.s3.WithLogger(j.log)})
	if err != nil {
		return err
	}
	j.st, j.prefix = st, prefix
	if j.release, err = claimDataset(st, prefix, j.log); err != nil {
		return err
	}
	// A compaction cut short is finished (or undone) first: until then
	// the files table may list an input under two batches.
	if err := parquet.Recover(ctx, st, prefix); err != nil {
		return fmt.Errorf("finishing an interrupted compact of %s: %w", j.f.dest, err)
	}
	done, err := parquet.ReadFiles(ctx, st, prefix)
	if err != nil {
		return fmt.Errorf("reading the files table of %s: %w", j.f.dest, err)
	}
	// A run interrupted after redoing inputs (changed, or --force) but
	// before removing their old batches leaves inputs listed twice: a
	// batch whose every input has a later batch goes now.
	if j.done, err = dropSuperseded(ctx, st, prefix, done); err != nil {
		return err
	}
	j.doneKeys = map[string]bool{}
	doneBatches := map[string]bool{}
	for i := range j.done {
		j.doneKeys[fileKey(&j.done[i])] = true
		doneBatches[j.done[i].Batch] = true
	}
	tag := j.ps.shard.Tag()
	if n, err := parquet.RemoveBatches(ctx, st, prefix, func(b string) bool {
		return strings.HasPrefix(b, tag+"-") && !doneBatches[b]
	}); err != nil {
		return err
	} else if n > 0 {
		j.log.Info("removed files of an interrupted run", "files", n)
	}
	return nil
}

// startWriters makes one Writer per worker, each with its share of the
// memory budget, and the slots that hand them out.
func (j *parquetJob) startWriters() {
	workers := j.f.workers
	maxRows := min(parquet.DefaultMaxRows, max(rowBudget/workers, 1<<14))
	runID := strconv.FormatInt(time.Now().UnixMilli(), 36)
	j.slots = make(chan *parquetSlot, workers)
	j.all = make([]*parquet.Writer, workers)
	for i := range j.all {
		j.all[i] = parquet.NewWriter(parquet.Options{Store: j.st, Prefix: j.prefix, Tables: j.ps.sel, Version: cli.Version(),
			Grid: j.ps.grid.String(), PostOff: j.ps.postOff.String(), Batch: fmt.Sprintf("%s-%s-w%d", j.ps.shard.Tag(), runID, i), MaxRows: maxRows,
			MaxBytes: byteBudget / int64(workers), Depth: j.f.depth})
		j.slots <- &parquetSlot{w: j.all[i]}
	}
}

// convert converts the tapes of inputs in this shard; with only set,
// exactly the inputs it names (source and member), done or not, else those
// not done yet (all of them with --force).
func (j *parquetJob) convert(ctx context.Context, inputs []string, only map[string]bool) error {
	return j.walker.ForEach(ctx, inputs, func(ctx context.Context, t *tape.Tape) error {
		if !j.ps.shard.Keeps(t.Name) {
			return nil
		}
		file := tables.File{Source: t.Path, Member: t.Member, Bytes: t.Size, ModTime: modTime(j.mtimes, t.Path)}
		if v, ok := j.objects.Load(t.Path); ok {
			o := v.(store.Object)
			ms := o.ModTime.UnixMilli()
			file.ModTime, file.ETag = &ms, o.ETag
		}
		id := inputID(&file)
		if only != nil {
			if !only[id] {
				return nil
			}
		} else if j.doneKeys[fileKey(&file)] && !j.f.force {
			j.run.skipped.Add(1)
			return nil
		}
		sl := <-j.slots
		defer func() { j.slots <- sl }()
		opts := j.topts
		opts.Scratch = &sl.scratch
		rows, err := convertTape(ctx, t, opts, j.rules, &file, j.run)
		if err != nil {
			return err
		}
		file.DoneAt = time.Now().UnixMilli()
		j.run.mu.Lock()
		j.run.redone[id] = true
		j.run.mu.Unlock()
		j.run.inputs.Add(1)
		j.run.markets.Add(int64(len(rows)))
		j.run.bytesDone.Add(max(t.Size, 0))
		return sl.w.Add(ctx, rows, file)
	})
}

// batchInputs returns the inputs (inputID) of each batch of the files
// table, and each input's source.
func (j *parquetJob) batchInputs() (map[string][]string, map[string]string) {
	batches := map[string][]string{}
	sources := map[string]string{}
	for i := range j.done {
		id := inputID(&j.done[i])
		batches[j.done[i].Batch] = append(batches[j.done[i].Batch], id)
		sources[id] = j.done[i].Source
	}
	return batches, sources
}

// redoBatches converts again the rest of every batch that lost some of its
// inputs to this run: inputs done again (changed, or --force) supersede
// their old rows, but rows go a whole batch at a time.
func (j *parquetJob) redoBatches(ctx context.Context) error {
	if len(j.run.redone) == 0 {
		return nil
	}
	batches, sources := j.batchInputs()
	rest := map[string]bool{}
	var again []string
	for _, ids := range batches {
		if !slices.ContainsFunc(ids, func(id string) bool { return j.run.redone[id] }) {
			continue
		}
		for _, id := range ids {
			if !j.run.redone[id] && !rest[id] {
				rest[id] = true
				if !slices.Contains(again, sources[id]) {
					again = append(again, sources[id])
				}
			}
		}
	}
	if len(again) == 0 {
		return nil
	}
	return j.convert(ctx, again, rest)
}

// flush writes the writers' last batches, all at once: each is one
// worker's share of the pending rows, and written one after the other they
// would leave all but one core idle at the end of the run.
func (j *parquetJob) flush(ctx context.Context) error {
	errs := make([]error, len(j.all))
	var wg sync.WaitGroup
	for i, w := range j.all {
		wg.Go(func() { errs[i] = w.Flush(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// removeRedone deletes the old batches whose every input this run
// converted again.
func (j *parquetJob) removeRedone(ctx context.Context) error {
	if len(j.run.redone) == 0 {
		return nil
	}
	batches, _ := j.batchInputs()
	stale := map[string]bool{}
	for b, ids := range batches {
		stale[b] = !slices.ContainsFunc(ids, func(id string) bool { return !j.run.redone[id] })
		if !stale[b] && slices.ContainsFunc(ids, func(id string) bool { return j.run.redone[id] }) {
			j.log.Warn("old rows kept: some inputs of their batch are gone", "batch", b)
		}
	}
	_, err := parquet.RemoveBatches(ctx, j.st, j.prefix, func(b string) bool { return stale[b] })
	return err
}

// firstErrNote ends the summary with the run's first problem, if any.
func (j *parquetJob) firstErrNote() string {
	j.run.mu.Lock()
	first := j.run.firstErr
	j.run.mu.Unlock()
	if first != "" {
		return "; first error: " + first
	}
	if errs := j.rules.Unreadable(); len(errs) > 0 {
		return "; first error: " + errs[0].Error()
	}
	return ""
}

// convertTape replays one tape through fresh caches and returns its
// markets' rows, filling in file's counts. Bad input follows rules: only
// --strict (or a cancelled context) makes a bad line or a broken stream an
// error; otherwise it is counted and noted in file, and the rows of what
// was read are kept.
func convertTape(ctx context.Context, t *tape.Tape, opts tables.Options, rules *tape.Rules, file *tables.File,
	run *parquetRun) ([]*tables.Rows, error) {
	cache := book.NewMarketCache(book.Options{})
	opts.Source, opts.Member = t.Path, t.Member
	b := tables.NewBuilder(opts)
	var changes int64
	p, err := tape.Play(ctx, t, rules, func(l *tape.Line) error {
		var changed []*book.Market
		if l.Msg.Op == esa.OpMCM {
			changed = cache.Apply(l.Msg)
			changes += int64(len(l.Msg.MC))
		}
		b.Line(l.N, l.Msg, changed)
		return nil
	})
	file.Lines, file.BadLines = p.Lines, p.BadLines
	if p.FirstError != nil {
		file.FirstError = p.FirstError.Error()
	}
	if err != nil {
		return nil, err
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

package parquet

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/tapedeck/tapedeck/pipeline/tables"
	"github.com/tapedeck/tapedeck/store"
)

// Compaction sizes: a partition's files smaller than CompactSmall are
// merged into files of at most CompactTarget, with row groups closing at
// about CompactRowGroup (compressed).
const (
	CompactSmall    = 64 << 20
	CompactTarget   = 512 << 20
	CompactRowGroup = 128 << 20
)

// compactDir holds a compaction's staged files and its manifest, under the
// dataset's prefix, out of every table's folder (so out of readers' globs).
const compactDir = "_compact"

// CompactOptions configures Compact.
type CompactOptions struct {
	// Small, Target and RowGroup are the sizes (bytes) of CompactSmall,
	// CompactTarget and CompactRowGroup; 0 means those.
	Small, Target, RowGroup int64
	// Version goes to the new files' footers; Run names the new batches
	// ("compact-<Run>-<n>"), and must differ between runs.
	Version, Run string
	// TempDir holds local copies of the files being merged; "" means
	// os.TempDir().
	TempDir string
	Log     *slog.Logger
	// Step, if set, is called before each change to the store, named; an
	// error stops compaction there at once, with no clean-up, as a crash
	// would (for tests of what a crash leaves).
	Step func(name string) error
}

// CompactResult says what Compact did.
type CompactResult struct {
	// Partitions is the number of partitions compacted; Removed and Written
	// count the data files replaced and the data files that replaced them.
	Partitions, Removed, Written int
	// Kept names the batches left as they are, and why.
	Kept []string
}

// compactManifest is a staged compaction's commit record: once it exists
// the compaction happens, now or at the next Recover.
type compactManifest struct {
	Batch string `json:"batch"`
	// Delete are the data files (and files-table parts) replaced; Copy
	// moves each staged object (key 0) to its place (key 1).
	Delete []string    `json:"delete"`
	Copy   [][2]string `json:"copy"`
}

// Compact rewrites, in every partition of the dataset under prefix, the
// small files of batches whose inputs lie in that partition alone into
// few: one batch per about Target bytes of the partition's largest table.
// It first finishes or undoes any compaction a crash interrupted
// (Recover).
//
// Safety, in order: the new files and files-table parts are staged under
// _compact/<batch>/ (outside every table's folder, named *.staged); a
// manifest naming what replaces what is written last; only then are the
// old files deleted and the staged ones copied into place, the files
// table last, and the staging removed, manifest last. A crash before the
// manifest leaves the dataset as it was (the staging is removed later); a
// crash after it is finished by the next compact or convert parquet run.
// A reader never sees a row twice; while the old files are deleted and the
// new ones copied in, it may miss that partition's merged rows.
//
// The caller must hold the dataset alone: no convert run may write to it
// meanwhile.
func Compact(ctx context.Context, st store.Store, prefix string, opts CompactOptions) (CompactResult, error) {
	var res CompactResult
	opts.Small = cmp.Or(opts.Small, CompactSmall)
	opts.Target = cmp.Or(opts.Target, CompactTarget)
	opts.RowGroup = cmp.Or(opts.RowGroup, CompactRowGroup)
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if err := Recover(ctx, st, prefix); err != nil {
		return res, err
	}
	done, err := ReadFiles(ctx, st, prefix)
	if err != nil {
		return res, err
	}
	objs, err := st.List(ctx, folder(prefix))
	if err != nil {
		return res, err
	}
	ds := datasetFiles(prefix, objs, done)
	partOf, err := marketPartitions(ctx, st, ds)
	if err != nil {
		return res, err
	}
	// inputsIn[b][p] are batch b's files-table rows whose markets lie in
	// partition p ("" for an input with no markets).
	// An input listed twice is one a convert run redid and was stopped
	// before it removed the old rows; the next convert run removes them,
	// and merged here they could no longer be told apart.
	listed := map[string]int{}
	for _, f := range done {
		listed[f.Source+"\x00"+f.Member]++
	}
	inputsIn := map[string]map[string][]tables.File{}
	movable := map[string]bool{}
	for _, f := range done {
		b := f.Batch
		if inputsIn[b] == nil {
			inputsIn[b], movable[b] = map[string][]tables.File{}, true
		}
		p, ok := inputPartition(f, partOf)
		why := ""
		switch {
		case !ok:
			why = "an input's markets span partitions or have no markets row"
		case listed[f.Source+"\x00"+f.Member] > 1:
			why = "an input is listed twice (run convert parquet first)"
		}
		if why != "" {
			if movable[b] {
				res.Kept = append(res.Kept, b+": "+why)
			}
			movable[b] = false
		}
		inputsIn[b][p] = append(inputsIn[b][p], f)
	}
	n := 0
	for _, p := range slices.Sorted(maps.Keys(ds.byPart)) {
		for _, group := range compactGroups(ds.byPart[p], movable, opts) {
			batch := fmt.Sprintf("compact-%s-%d", opts.Run, n)
			n++
			m, err := stage(ctx, st, prefix, p, batch, group, ds, inputsIn, opts)
			if errors.Is(err, errIncompatible) {
				res.Kept = append(res.Kept, fmt.Sprintf("%s in %s: %v", strings.Join(group, ","), p, err))
				continue
			}
			if err != nil {
				return res, err
			}
			if err := apply(ctx, st, prefix, m, opts.Step); err != nil {
				return res, err
			}
			res.Partitions++
			for _, k := range m.Delete {
				if !strings.Contains(k, TableFiles+"/") {
					res.Removed++
				}
			}
			for _, c := range m.Copy {
				if !strings.Contains(c[1], TableFiles+"/") {
					res.Written++
				}
			}
			opts.Log.Info("compacted", "partition", p, "batches", len(group), "batch", batch)
		}
	}
	return res, nil
}

// errIncompatible marks files that cannot be merged (different schemas or
// grids); their partition is left as it is.
var errIncompatible = errors.New("files differ in schema or grid")

// dataset is the data files of the batches the files table lists.
type dataset struct {
	// byPart[p][batch][table] is the key and size of the batch's file of
	// table in partition p ("event_type_id=…/date=…").
	byPart map[string]map[string]map[string]store.Object
}

func datasetFiles(prefix string, objs []store.Object, done []tables.File) dataset {
	listed := map[string]bool{}
	for _, f := range done {
		listed[f.Batch] = true
	}
	ds := dataset{byPart: map[string]map[string]map[string]store.Object{}}
	for _, o := range objs {
		b := BatchOf(o.Key)
		rel := strings.TrimPrefix(strings.TrimPrefix(o.Key, prefix), "/")
		table, rest, ok := strings.Cut(rel, "/")
		if b == "" || !listed[b] || !ok || table == TableFiles || table == compactDir {
			continue
		}
		p := path.Dir(rest)
		if ds.byPart[p] == nil {
			ds.byPart[p] = map[string]map[string]store.Object{}
		}
		if ds.byPart[p][b] == nil {
			ds.byPart[p][b] = map[string]store.Object{}
		}
		ds.byPart[p][b][table] = o
	}
	return ds
}

// marketPartitions maps each market id to its partition, from the markets
// table.
func marketPartitions(ctx context.Context, st store.Store, ds dataset) (map[string]string, error) {
	type marketID struct {
		MarketID string `parquet:"market_id"`
	}
	out := map[string]string{}
	for p, batches := range ds.byPart {
		for _, tbl := range batches {
			o, ok := tbl[TableMarkets]
			if !ok {
				continue
			}
			rows, err := ReadAll[marketID](ctx, st, o.Key)
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				out[r.MarketID] = p
			}
		}
	}
	return out, nil
}

// inputPartition is the one partition holding an input's markets ("" when
// it has none); false when they span several or one has no markets row.
func inputPartition(f tables.File, partOf map[string]string) (string, bool) {
	p := ""
	for id := range strings.SplitSeq(f.MarketIDs, ",") {
		if id == "" {
			continue
		}
		q, ok := partOf[id]
		if !ok || p != "" && q != p {
			return "", false
		}
		p = q
	}
	return p, true
}

// compactGroups splits a partition's small movable batches, in name order,
// into groups of two or more whose files of each table add up to at most
// opts.Target bytes.
func compactGroups(batches map[string]map[string]store.Object, movable map[string]bool, opts CompactOptions) [][]string {
	var groups [][]string
	var cur []string
	sizes := map[string]int64{}
	closeGroup := func() {
		if len(cur) > 1 {
			groups = append(groups, cur)
		}
		cur, sizes = nil, map[string]int64{}
	}
	for _, b := range slices.Sorted(maps.Keys(batches)) {
		small := movable[b]
		for _, o := range batches[b] {
			small = small && o.Size < opts.Small
		}
		if !small {
			continue
		}
		for t, o := range batches[b] {
			if sizes[t]+o.Size > opts.Target {
				closeGroup()
				break
			}
		}
		cur = append(cur, b)
		for t, o := range batches[b] {
			sizes[t] += o.Size
		}
	}
	closeGroup()
	return groups
}

// stage writes a group's merged files and files-table parts under
// compactDir, then the manifest.
func stage(ctx context.Context, st store.Store, prefix, p, batch string, group []string, ds dataset,
	inputsIn map[string]map[string][]tables.File, opts CompactOptions) (*compactManifest, error) {
	m := &compactManifest{Batch: batch}
	staging := path.Join(prefix, compactDir, batch)
	staged := func(final string) string {
		return path.Join(staging, strings.TrimPrefix(strings.TrimPrefix(final, prefix), "/")) + ".staged"
	}
	abandon := func(err error) (*compactManifest, error) {
		if errors.Is(err, errIncompatible) {
			if _, derr := RemoveStaging(ctx, st, staging); derr != nil {
				return nil, derr
			}
		}
		return nil, err
	}
	tmp, err := os.MkdirTemp(opts.TempDir, "tapedeck-compact-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	byTable := map[string][]string{}
	for _, b := range group {
		for t, o := range ds.byPart[p][b] {
			byTable[t] = append(byTable[t], o.Key)
			m.Delete = append(m.Delete, o.Key)
		}
	}
	slices.Sort(m.Delete)
	for _, t := range slices.Sorted(maps.Keys(byTable)) {
		final := path.Join(prefix, t, p, "part-"+batch+".parquet")
		if err := step(opts.Step, "stage "+final); err != nil {
			return nil, err
		}
		if err := mergeFiles(ctx, st, byTable[t], staged(final), t, batch, tmp, opts); err != nil {
			return abandon(err)
		}
		m.Copy = append(m.Copy, [2]string{staged(final), final})
	}
	// The files table: the group's inputs in p now name the new batch; each
	// old batch keeps its other inputs, or its part goes.
	var moved []tables.File
	for _, b := range group {
		var kept []tables.File
		for q, rows := range inputsIn[b] {
			if q == p {
				moved = append(moved, rows...)
			} else {
				kept = append(kept, rows...)
			}
		}
		part := path.Join(prefix, TableFiles, "part-"+b+".parquet")
		if len(kept) == 0 {
			m.Delete = append(m.Delete, part)
			continue
		}
		if err := writeFilesPart(ctx, st, staged(part), b, kept, opts); err != nil {
			return nil, err
		}
		m.Copy = append(m.Copy, [2]string{staged(part), part})
	}
	for i := range moved {
		moved[i].Batch = batch
	}
	part := path.Join(prefix, TableFiles, "part-"+batch+".parquet")
	if err := writeFilesPart(ctx, st, staged(part), batch, moved, opts); err != nil {
		return nil, err
	}
	m.Copy = append(m.Copy, [2]string{staged(part), part})
	if err := step(opts.Step, "manifest "+batch); err != nil {
		return nil, err
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	w, err := st.Create(ctx, path.Join(staging, "manifest.json"))
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return nil, err
	}
	return m, w.Close()
}

func step(f func(string) error, name string) error {
	if f == nil {
		return nil
	}
	return f(name)
}

func writeFilesPart(ctx context.Context, st store.Store, key, batch string, rows []tables.File, opts CompactOptions) error {
	f := file{store: st, key: key, meta: map[string]string{MetaVersion: opts.Version, MetaBatch: batch},
		maxRows: DefaultMaxRows, compression: &zstdCodec{}}
	return writeFile(ctx, f, nil, [][][]tables.File{{rows}})
}

// apply carries out a manifest: old files deleted, staged ones copied into
// place (the files table last), the staging removed, manifest last. Every
// step may be done again: Recover repeats what a crash cut short.
func apply(ctx context.Context, st store.Store, prefix string, m *compactManifest, stepf func(string) error) error {
	isFiles := func(k string) bool { return strings.Contains(k, TableFiles+"/part-") }
	for _, filesTable := range []bool{false, true} {
		for _, k := range m.Delete {
			if isFiles(k) != filesTable {
				continue
			}
			if err := step(stepf, "delete "+k); err != nil {
				return err
			}
			if err := st.Delete(ctx, k); err != nil {
				return err
			}
		}
		for _, c := range m.Copy {
			if isFiles(c[1]) != filesTable {
				continue
			}
			if err := step(stepf, "copy "+c[1]); err != nil {
				return err
			}
			if err := copyObject(ctx, st, c[0], c[1]); err != nil {
				return err
			}
		}
	}
	if err := step(stepf, "clean "+m.Batch); err != nil {
		return err
	}
	_, err := RemoveStaging(ctx, st, path.Join(prefix, compactDir, m.Batch))
	return err
}

// copyObject copies src to dst; a missing src was copied already (staged
// objects go only once every copy is done).
func copyObject(ctx context.Context, st store.Store, src, dst string) error {
	r, err := st.Open(ctx, src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := st.Create(ctx, dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Abort()
		return fmt.Errorf("copying %s to %s: %w", src, dst, err)
	}
	return w.Close()
}

// RemoveStaging deletes a compaction's staging folder, its manifest last.
func RemoveStaging(ctx context.Context, st store.Store, staging string) (int, error) {
	objs, err := st.List(ctx, staging+"/")
	if err != nil {
		return 0, err
	}
	manifest := path.Join(staging, "manifest.json")
	n := 0
	for _, o := range objs {
		if o.Key == manifest {
			continue
		}
		if err := st.Delete(ctx, o.Key); err != nil {
			return n, err
		}
		n++
	}
	return n, st.Delete(ctx, manifest)
}

// Recover finishes the compactions under prefix whose manifest was
// written, and removes the staging of those that had not got so far. Run
// it before reading the files table of a dataset compact may have touched.
func Recover(ctx context.Context, st store.Store, prefix string) error {
	objs, err := st.List(ctx, path.Join(prefix, compactDir)+"/")
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, path.Join(prefix, compactDir)+"/")
		batch, _, _ := strings.Cut(rel, "/")
		if seen[batch] {
			continue
		}
		seen[batch] = true
		staging := path.Join(prefix, compactDir, batch)
		rc, err := st.Open(ctx, path.Join(staging, "manifest.json"))
		if errors.Is(err, fs.ErrNotExist) {
			if _, err := RemoveStaging(ctx, st, staging); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		var m compactManifest
		err = json.NewDecoder(rc).Decode(&m)
		rc.Close()
		if err != nil {
			return fmt.Errorf("compaction manifest %s: %w", staging, err)
		}
		if err := apply(ctx, st, prefix, &m, nil); err != nil {
			return fmt.Errorf("finishing compaction %s: %w", m.Batch, err)
		}
	}
	return nil
}

package tape

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/tapedeck/tapedeck/internal/testenv"
)

// TestCompressions writes the real tape in every compression, under names
// that do not give the compression away, and reads each back line for line.
func TestCompressions(t *testing.T) {
	raw := realTape(t)
	want := splitLines(raw)
	crlf := bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))
	tests := []struct {
		name string
		c    Compression
		data []byte
	}{
		{"plain", Plain, raw},
		{"plain-crlf", Plain, crlf},
		{"plain-no-final-newline", Plain, bytes.TrimSuffix(raw, []byte("\n"))},
		{"gzip", Gzip, raw},
		{"zstd", Zstd, raw},
		{"bzip2", Bzip2, raw},
		{"zstd-crlf", Zstd, crlf},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comp := compressAs(t, tt.c, tt.data)
			p := writeFile(t, dir, tt.name+".tape", comp)
			var c collector
			if err := Walk(context.Background(), []string{p}, c.fn); err != nil {
				t.Fatal(err)
			}
			if len(c.results) != 1 {
				t.Fatalf("got %d tapes, want 1", len(c.results))
			}
			r := c.results[0]
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.name != p {
				t.Errorf("name %q, want %q", r.name, p)
			}
			if r.compression != tt.c {
				t.Errorf("compression %v, want %v", r.compression, tt.c)
			}
			if !slices.EqualFunc(r.lines, want, bytes.Equal) {
				t.Errorf("got %d lines, want %d (or content differs)", len(r.lines), len(want))
			}
			if r.compressed != int64(len(comp)) || r.size != int64(len(comp)) {
				t.Errorf("compressed bytes %d, size %d, want %d", r.compressed, r.size, len(comp))
			}
			if r.plain != int64(len(tt.data)) {
				t.Errorf("decompressed bytes %d, want %d", r.plain, len(tt.data))
			}
		})
	}
}

// TestTruncated cuts compressed tapes short: the error names the tape and the
// last good line, and every line before it was delivered intact.
func TestTruncated(t *testing.T) {
	raw := realTape(t)
	want := splitLines(raw)
	dir := t.TempDir()
	for _, c := range []Compression{Bzip2, Gzip, Zstd} {
		for _, cut := range []float64{0.6, 0.95} {
			t.Run(fmt.Sprintf("%v-%.0f%%", c, cut*100), func(t *testing.T) {
				comp := compressAs(t, c, raw)
				p := writeFile(t, dir, fmt.Sprintf("cut-%v-%v", c, cut), comp[:int(float64(len(comp))*cut)])
				var col collector
				if err := Walk(context.Background(), []string{p}, col.fn); err != nil {
					t.Fatal(err)
				}
				r := col.results[0]
				var ie *InputError
				if !errors.As(r.err, &ie) {
					t.Fatalf("error %v (%T), want *InputError", r.err, r.err)
				}
				if ie.Path != p || ie.Line != len(r.lines) {
					t.Errorf("error at %s line %d, want %s line %d", ie.Path, ie.Line, p, len(r.lines))
				}
				if len(r.lines) == 0 || len(r.lines) >= len(want) {
					t.Errorf("delivered %d of %d lines before the break, want some but not all", len(r.lines), len(want))
				}
				if !slices.EqualFunc(r.lines, want[:len(r.lines)], bytes.Equal) {
					t.Error("lines delivered before the break differ from the tape")
				}
				msg := r.err.Error()
				for _, s := range []string{p, fmt.Sprintf("line %d", len(r.lines)), c.String()} {
					if !strings.Contains(msg, s) {
						t.Errorf("error %q does not mention %q", msg, s)
					}
				}
			})
		}
	}
}

// TestSharedTar reads Betfair's own PRO archive member by member, detecting
// it as a tar by content even under another name and from standard input.
func TestSharedTar(t *testing.T) {
	needShared(t)
	data, err := os.ReadFile(sharedTar(t))
	if err != nil {
		t.Fatal(err)
	}
	renamed := writeFile(t, t.TempDir(), "archive.bin", data)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		pw.Write(data)
		pw.Close()
	}()
	defer pr.Close()

	// Only the first walk reads every line (stdlib bzip2 is slow); the
	// others check detection and members, reading the first line of each.
	// Under -race the first reads only first lines too: scripts/test.sh
	// reads the whole archive in its run without -race.
	tests := []struct {
		name  string
		input string
		w     Walker
		full  bool
	}{
		{"by-name", sharedTar(t), Walker{}, !testenv.RaceEnabled},
		{"by-content", renamed, Walker{}, false},
		{"stdin-pipe", "-", Walker{Stdin: pr}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if testing.Short() && tt.name != "by-content" {
				t.Skip("-short: only detection by content is checked")
			}
			var c collector
			c.firstOnly = !tt.full
			if err := tt.w.Walk(context.Background(), []string{tt.input}, c.fn); err != nil {
				t.Fatal(err)
			}
			if len(c.results) != sharedTarMembers {
				t.Fatalf("got %d tapes, want %d", len(c.results), sharedTarMembers)
			}
			for _, r := range c.results {
				if r.err != nil {
					t.Errorf("%s: %v", r.name, r.err)
				}
				if !strings.HasPrefix(r.name, tt.input+":PRO/2022/Mar/1/") || !strings.HasSuffix(r.name, ".bz2") {
					t.Errorf("tape name %q", r.name)
				}
				if r.compression != Bzip2 || (tt.full && (r.compressed != r.size || r.plain <= r.size)) {
					t.Errorf("%s: %v, %d of %d compressed bytes read, %d decompressed", r.name, r.compression, r.compressed, r.size, r.plain)
				}
				if len(r.lines) == 0 || !bytes.HasPrefix(r.lines[0], []byte(`{"op":"mcm"`)) {
					t.Errorf("%s: %d lines, first does not look like a market change", r.name, len(r.lines))
				}
			}
		})
	}
}

// TestCorruptMember puts a truncated bz2 among good members: its error names
// the archive and the member, and the members after it are still read.
// Directories, links and catalogues in the archive are skipped.
func TestCorruptMember(t *testing.T) {
	raw := realTape(t)
	bz := compressAs(t, Bzip2, raw)
	archive := buildTar(t, []tarEntry{
		{name: "PRO/", typ: '5'},
		{name: "PRO/a/1.1.bz2", data: bz},
		{name: "PRO/a/1.1.json", data: []byte(`{"marketId":"1.1"}`)},
		{name: "PRO/a/1.2.bz2", data: bz[:len(bz)*2/3]},
		{name: "PRO/a/link", typ: '2'},
		{name: "PRO/a/1.3", data: raw},
	})
	p := writeFile(t, t.TempDir(), "archive.tar", archive)
	want := map[string]bool{p + ":PRO/a/1.1.bz2": true, p + ":PRO/a/1.2.bz2": false, p + ":PRO/a/1.3": true}
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			var c collector
			if err := ForEach(context.Background(), []string{p}, workers, c.fn); err != nil {
				t.Fatal(err)
			}
			got := c.byName(t)
			if len(got) != len(want) {
				t.Fatalf("tapes %v, want %d", c.sortedNames(), len(want))
			}
			for name, good := range want {
				r := got[name]
				if good && (r.err != nil || len(r.lines) != len(splitLines(raw))) {
					t.Errorf("%s: %d lines, %v", name, len(r.lines), r.err)
				}
				if !good {
					prefix := fmt.Sprintf("tape: %s member PRO/a/1.2.bz2 line %d: ", p, len(r.lines))
					if r.err == nil || !strings.HasPrefix(r.err.Error(), prefix) {
						t.Errorf("%s: error %v, want it to start %q", name, r.err, prefix)
					}
				}
			}
		})
	}
}

// TestCompressedTar reads archives that are themselves compressed, as users
// may store them (archive.tar.zst); members are found by the name's
// promise and the ustar magic inside.
func TestCompressedTar(t *testing.T) {
	raw := realTape(t)
	archive := buildTar(t, []tarEntry{
		{name: "m/1.1.zst", data: compressAs(t, Zstd, raw)},
		{name: "m/1.2", data: raw},
	})
	dir := t.TempDir()
	tests := []struct {
		name string
		c    Compression
	}{
		{"a.tar.zst", Zstd},
		{"a.tgz", Gzip},
		{"a.tar.bz2", Bzip2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, tt.name, compressAs(t, tt.c, archive))
			var c collector
			if err := ForEach(context.Background(), []string{p}, 2, c.fn); err != nil {
				t.Fatal(err)
			}
			got := c.byName(t)
			for _, m := range []string{"m/1.1.zst", "m/1.2"} {
				r, ok := got[p+":"+m]
				if !ok || r.err != nil || !slices.EqualFunc(r.lines, splitLines(raw), bytes.Equal) {
					t.Errorf("member %s: found %v, %d lines, %v", m, ok, len(r.lines), r.err)
				}
			}
			if len(got) != 2 {
				t.Errorf("tapes %v, want 2", c.sortedNames())
			}
		})
	}
}

// TestBrokenTar cuts an archive inside a header: the walk reports the archive
// and the last member it could read, after delivering the members before.
func TestBrokenTar(t *testing.T) {
	raw := realTape(t)
	archive := buildTar(t, []tarEntry{{name: "1.1", data: raw}, {name: "1.2", data: raw}})
	cut := (len(raw)+511)/512*512 + 512 + 100 // into the second header
	p := writeFile(t, t.TempDir(), "cut.tar", archive[:cut])
	var c collector
	err := Walk(context.Background(), []string{p}, c.fn)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "after member 1.1") {
		t.Errorf("error %v, want one naming %s and member 1.1", err, p)
	}
	if len(c.results) != 1 || c.results[0].err != nil {
		t.Errorf("got %v before the break, want 1.1 read fully", c.names())
	}
}

// TestDirAndGlob walks a tree with mixed compressions, hidden files and
// catalogues, checking the order and what is skipped.
func TestDirAndGlob(t *testing.T) {
	raw := realTape(t)
	dir := t.TempDir()
	files := map[string]Compression{
		"b/2.gz":          Gzip,
		"a/1.zst":         Zstd,
		"a/sub/0":         Plain,
		"c.bz2":           Bzip2,
		"a/10":            Plain,
		"a/.hidden":       Plain,
		"a/1.json":        Plain,
		".git/objects/x":  Plain,
		"b/.cache/2.gz":   Gzip,
		"b/1.197931750.z": Zstd,
	}
	for name, c := range files {
		writeFile(t, dir, name, compressAs(t, c, raw))
	}
	in := func(names ...string) []string {
		for i, n := range names {
			names[i] = filepath.Join(dir, n)
		}
		return names
	}
	// Symlinks live in their own directory, so the walks of dir above do
	// not see them.
	linkDir := t.TempDir()
	if err := os.Symlink(filepath.Join(dir, "a"), filepath.Join(linkDir, "to-a")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "c.bz2"), filepath.Join(linkDir, "to-c")); err != nil {
		t.Fatal(err)
	}
	links := func(names ...string) []string {
		for i, n := range names {
			names[i] = filepath.Join(linkDir, n)
		}
		return names
	}
	tests := []struct {
		name   string
		inputs []string
		want   []string
	}{
		{"dir", in(""), in("a/1.zst", "a/10", "a/sub/0", "b/1.197931750.z", "b/2.gz", "c.bz2")},
		{"subdir-then-file", in("b", "a/1.zst"), in("b/1.197931750.z", "b/2.gz", "a/1.zst")},
		{"explicit-hidden-and-json", in("a/.hidden", "a/1.json"), in("a/.hidden", "a/1.json")},
		{"glob-star", in("*/1*"), in("a/1.zst", "a/10", "b/1.197931750.z")},
		{"glob-question-class", in("[ab]/?.*"), in("a/1.zst", "b/1.197931750.z", "b/2.gz")},
		{"glob-dir", in("[a]"), in("a/1.zst", "a/10", "a/sub/0")},
		{"symlinked-dir", links("to-a"), links("to-a/1.zst", "to-a/10", "to-a/sub/0")},
		{"symlinked-file", links("to-c"), links("to-c")},
		{"dir-with-symlinks", links(""), links("to-c")}, // linked dirs are not followed inside a tree
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c collector
			if err := Walk(context.Background(), tt.inputs, c.fn); err != nil {
				t.Fatal(err)
			}
			for i := range tt.want {
				tt.want[i] = filepath.Clean(tt.want[i])
			}
			got := c.names()
			for i := range got {
				got[i] = filepath.Clean(got[i])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("tapes\n%q\nwant\n%q", got, tt.want)
			}
			for _, r := range c.results {
				if r.err != nil || len(r.lines) != len(splitLines(raw)) {
					t.Errorf("%s: %d lines, %v", r.name, len(r.lines), r.err)
				}
			}
		})
	}
}

// TestStdinPipe reads a zstd tape from standard input through a real pipe.
func TestStdinPipe(t *testing.T) {
	raw := realTape(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	comp := compressAs(t, Zstd, raw)
	go func() {
		pw.Write(comp)
		pw.Close()
	}()
	var c collector
	w := Walker{Stdin: pr, Workers: 2}
	if err := w.ForEach(context.Background(), []string{"-"}, c.fn); err != nil {
		t.Fatal(err)
	}
	if len(c.results) != 1 {
		t.Fatalf("got %d tapes", len(c.results))
	}
	r := c.results[0]
	if r.name != "-" || r.err != nil || r.size != -1 || r.compression != Zstd ||
		!slices.EqualFunc(r.lines, splitLines(raw), bytes.Equal) || r.compressed != int64(len(comp)) {
		t.Errorf("stdin tape %q: %d lines, %v, size %d, %v, %d compressed bytes", r.name, len(r.lines), r.err, r.size, r.compression, r.compressed)
	}
}

// TestInputErrors checks that bad inputs give errors naming them, and that
// OnError can skip them.
func TestInputErrors(t *testing.T) {
	raw := realTape(t)
	dir := t.TempDir()
	good := writeFile(t, dir, "good", raw)
	missing := filepath.Join(dir, "missing")
	dangling := filepath.Join(dir, "withlink")
	if err := os.MkdirAll(dangling, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(missing, filepath.Join(dangling, "link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		input []string
		want  []string // substrings of the error
		is    error
	}{
		{"missing", []string{missing}, []string{"tape: " + missing + ": ", "no such file"}, fs.ErrNotExist},
		{"dangling-symlink-in-dir", []string{dangling}, []string{"tape: " + filepath.Join(dangling, "link") + ": ", "no such file"}, fs.ErrNotExist},
		{"bad-glob", []string{filepath.Join(dir, "[x*")}, []string{"[x*", "bad glob pattern"}, filepath.ErrBadPattern},
		{"no-match", []string{filepath.Join(dir, "*.zst")}, []string{"*.zst", "no files match"}, nil},
		{"no-s3-yet", []string{"s3://bucket/prefix"}, []string{"s3://bucket/prefix", "no source for s3://"}, nil},
		{"stdin-twice", []string{"-", "-"}, []string{"tape: stdin: standard input named more than once"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c collector
			err := Walk(context.Background(), tt.input, c.fn)
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Errorf("error %T is not an *InputError", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if tt.name == "stdin-twice" {
				return
			}
			// With OnError skipping, the good input after it is read.
			var skipped []error
			w := Walker{OnError: func(err error) error { skipped = append(skipped, err); return nil }}
			c = collector{}
			if err := w.Walk(context.Background(), append(tt.input, good), c.fn); err != nil {
				t.Fatal(err)
			}
			if len(skipped) != 1 || len(c.results) != 1 || c.results[0].name != good {
				t.Errorf("skipped %v, read %v", skipped, c.names())
			}
		})
	}
}

// TestUnreadableDir checks that a directory that cannot be listed is reported
// by name, and that OnError can skip it and go on. Root reads any directory,
// so as root the test runs its own binary again as user nobody.
func TestUnreadableDir(t *testing.T) {
	dir := os.Getenv("TAPEDECK_TEST_UNREADABLE")
	if dir == "" {
		dir = t.TempDir()
		locked := filepath.Join(dir, "a-locked")
		writeFile(t, locked, "x", []byte("{}\n"))
		writeFile(t, dir, "b", []byte("{}\n"))
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(locked, 0o755)
		if os.Geteuid() == 0 {
			runAsNobody(t, dir)
			return
		}
	}
	locked := filepath.Join(dir, "a-locked")
	var c collector
	err := Walk(context.Background(), []string{dir}, c.fn)
	if err == nil || !strings.Contains(err.Error(), "tape: "+locked+": ") || !errors.Is(err, fs.ErrPermission) {
		t.Errorf("error %v, want permission denied naming %s", err, locked)
	}
	var skipped []error
	w := Walker{OnError: func(err error) error { skipped = append(skipped, err); return nil }}
	c = collector{}
	if err := w.Walk(context.Background(), []string{dir}, c.fn); err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || !slices.Equal(c.names(), []string{filepath.Join(dir, "b")}) {
		t.Errorf("skipped %v, read %v; want the locked directory skipped and b read", skipped, c.names())
	}
}

// runAsNobody runs TestUnreadableDir from a copy of the test binary as user
// nobody (65534) over dir, failing t if it fails.
func runAsNobody(t *testing.T, dir string) {
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot find the test binary to rerun as nobody: %v", err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	// A hidden directory, so the walk under test does not list it.
	bin := writeFile(t, dir, ".bin/tape.test", data)
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(filepath.Dir(bin))
	// The temporary directories above dir are root's (0700): let nobody
	// through to dir, which holds everything the child needs.
	for d := dir; d != os.TempDir() && d != "/" && d != "."; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-test.run=^TestUnreadableDir$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "TAPEDECK_TEST_UNREADABLE="+dir)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	t.Logf("as nobody:\n%s", out)
	if err != nil {
		t.Errorf("as nobody: %v\n%s", err, out)
	}
}

// forEachInputs builds a mixed input set: the shared tar (when present), a
// directory of compressed tapes, and a tar written here; it returns the
// inputs and how many tapes they hold.
func forEachInputs(t *testing.T, withShared bool) ([]string, int) {
	raw := realTape(t)
	dir := t.TempDir()
	inputs := []string{}
	n := 0
	if _, err := os.Stat(sharedTar(t)); err != nil {
		t.Logf("shared data absent (%v): ForEach runs on generated inputs only", err)
	} else if testing.Short() {
		t.Log("-short: ForEach runs on generated inputs only")
	} else if withShared && testenv.RaceEnabled {
		// Decoding the archive three times under -race cost most of this
		// package's race run; the workers' concurrency is the same over
		// the generated inputs. scripts/test.sh walks the archive with 1
		// and 4 workers in its run without -race.
		t.Log("-race: ForEach runs on generated inputs; the archive in the run without -race")
	} else if withShared {
		inputs = append(inputs, sharedTar(t))
		n += sharedTarMembers
	}
	for i, c := range []Compression{Plain, Gzip, Zstd, Bzip2, Zstd, Gzip} {
		writeFile(t, dir, fmt.Sprintf("tapes/%d", i), compressAs(t, c, raw))
		n++
	}
	inputs = append(inputs, filepath.Join(dir, "tapes"))
	var entries []tarEntry
	for i := range 5 {
		entries = append(entries, tarEntry{name: fmt.Sprintf("m/%d.zst", i), data: compressAs(t, Zstd, raw)})
	}
	inputs = append(inputs, writeFile(t, dir, "made.tar", buildTar(t, entries)))
	return inputs, n + len(entries)
}

// TestForEach runs every tape through ForEach with 1 and 4 workers, with
// default and tiny memory bounds (so members are streamed or wait for
// budget), and checks each tape is processed exactly once with the same
// lines as the sequential walk.
func TestForEach(t *testing.T) {
	// The real archive (slow to decode with stdlib bzip2) is walked with
	// 1 and 4 workers; the memory-bound variants use generated inputs,
	// whose made.tar has members to buffer or stream.
	all, nAll := forEachInputs(t, true)
	some, nSome := forEachInputs(t, false)
	seqWant := func(t *testing.T, inputs []string, n int) map[string]tapeResult {
		var seq collector
		if err := Walk(context.Background(), inputs, seq.fn); err != nil {
			t.Fatal(err)
		}
		want := seq.byName(t)
		if len(want) != n {
			t.Fatalf("sequential walk found %d tapes, want %d", len(want), n)
		}
		for i, r := range seq.results {
			if r.index != i {
				t.Fatalf("sequential tape %d (%s) has index %d", i, r.name, r.index)
			}
		}
		return want
	}
	wantAll, wantSome := seqWant(t, all, nAll), seqWant(t, some, nSome)
	tests := []struct {
		name   string
		w      Walker
		inputs []string
		want   map[string]tapeResult
	}{
		{"1-worker", Walker{Workers: 1}, all, wantAll},
		{"4-workers", Walker{Workers: 4}, all, wantAll},
		{"4-workers-all-streamed", Walker{Workers: 4, StreamAbove: 1}, some, wantSome},
		{"4-workers-tiny-budget", Walker{Workers: 4, MaxBuffered: 1}, some, wantSome},
	}
	for _, tt := range tests {
		inputs, want := tt.inputs, tt.want
		t.Run(tt.name, func(t *testing.T) {
			var c collector
			if err := tt.w.ForEach(context.Background(), inputs, c.fn); err != nil {
				t.Fatal(err)
			}
			got := c.byName(t)
			if len(got) != len(want) {
				t.Errorf("processed %d tapes, want %d", len(got), len(want))
			}
			for name, w := range want {
				g, ok := got[name]
				if !ok {
					t.Errorf("%s not processed", name)
					continue
				}
				if g.index != w.index {
					t.Errorf("%s: index %d, want %d as in the sequential walk", name, g.index, w.index)
				}
				if g.err != nil || !slices.EqualFunc(g.lines, w.lines, bytes.Equal) || g.plain != w.plain {
					t.Errorf("%s: %d lines (%v), want %d", name, len(g.lines), g.err, len(w.lines))
				}
			}
		})
	}
}

// TestCancel checks that cancelling the context, or a callback error, stops
// ForEach and Walk before the rest of the tapes, and that a tape being read
// stops at its next read.
func TestCancel(t *testing.T) {
	inputs, n := forEachInputs(t, false)
	errStop := errors.New("stop here")
	type walkFn func(ctx context.Context, inputs []string, fn func(context.Context, *Tape) error) error
	walks := map[string]walkFn{
		"walk": Walk,
		"foreach-1": func(ctx context.Context, in []string, fn func(context.Context, *Tape) error) error {
			return ForEach(ctx, in, 1, fn)
		},
		"foreach-4": func(ctx context.Context, in []string, fn func(context.Context, *Tape) error) error {
			return ForEach(ctx, in, 4, fn)
		},
	}
	for name, walk := range walks {
		t.Run(name+"/cancel", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var calls atomic.Int32
			var lineErr atomic.Value
			err := walk(ctx, inputs, func(ctx context.Context, tp *Tape) error {
				if calls.Add(1) == 1 {
					// Cancel while reading: the rest of this tape
					// is not read, and no further tape starts.
					lr, err := tp.Lines()
					if err != nil {
						return err
					}
					defer lr.Close()
					lr.Next()
					cancel()
					for lr.Next() {
					}
					lineErr.Store(lr.Err())
					return nil
				}
				// Other workers hold their tape until the cancel, so
				// they cannot race through every tape before it: only
				// the tapes already in flight or queued may start.
				<-ctx.Done()
				return nil
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want context.Canceled", err)
			}
			if got := calls.Load(); got >= int32(n) {
				t.Errorf("%d of %d tapes started after cancel", got, n)
			}
			lerr, _ := lineErr.Load().(error)
			if !errors.Is(lerr, context.Canceled) || !strings.Contains(lerr.Error(), "reading stopped after this line") {
				t.Errorf("reading the tape being processed ended with %v, want it stopped by the cancellation", lerr)
			}
		})
		t.Run(name+"/callback-error", func(t *testing.T) {
			var calls atomic.Int32
			err := walk(context.Background(), inputs, func(ctx context.Context, tp *Tape) error {
				if calls.Add(1) == 3 {
					return errStop
				}
				return nil
			})
			if !errors.Is(err, errStop) {
				t.Errorf("error %v, want %v", err, errStop)
			}
			if got := calls.Load(); got >= int32(n) {
				t.Errorf("%d of %d tapes started after the error", got, n)
			}
		})
	}
}

// TestTapeOpenTwice checks a streamed tape refuses a second Open while a
// buffered one can be reopened.
func TestTapeOpenTwice(t *testing.T) {
	raw := realTape(t)
	tp := NewTape("mem", compressAs(t, Zstd, raw))
	for range 2 {
		r := readTape(tp)
		if r.err != nil || len(r.lines) != len(splitLines(raw)) {
			t.Fatalf("buffered tape: %d lines, %v", len(r.lines), r.err)
		}
	}
	p := writeFile(t, t.TempDir(), "t", raw)
	err := Walk(context.Background(), []string{p}, func(_ context.Context, tp *Tape) error {
		r, err := tp.Open()
		if err != nil {
			return err
		}
		r.Close()
		if _, err := tp.Open(); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("second open: %v, want an error naming %s", err, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBudget checks the byte budget that bounds buffered members: what fits
// is granted even on a cancelled context, what does not fit waits (here:
// fails at once, the context being cancelled), and anything is granted when
// nothing is held.
func TestBudget(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	b := &budget{limit: 100}
	steps := []struct {
		op   string
		n    int64
		fits bool
	}{
		{"acquire", 60, true},
		{"acquire", 40, true},
		{"acquire", 1, false},
		{"release", 40, true},
		{"acquire", 50, false},
		{"acquire", 30, true},
		{"release", 30, true},
		{"release", 60, true},
		{"acquire", 500, true}, // bigger than the budget, but alone
		{"acquire", 1, false},
	}
	for i, s := range steps {
		if s.op == "release" {
			b.release(s.n)
			continue
		}
		err := b.acquire(cancelled, s.n)
		if (err == nil) != s.fits {
			t.Errorf("step %d: acquire(%d) with %d of %d used: %v", i, s.n, b.used, b.limit, err)
		}
	}
}

// TestForEachBufferBound checks, with members of equal size and a budget of
// two of them, that no more than two buffered members are ever being
// processed at once, however many workers there are.
func TestForEachBufferBound(t *testing.T) {
	raw := realTape(t)
	member := compressAs(t, Zstd, raw)
	var entries []tarEntry
	for i := range 8 {
		entries = append(entries, tarEntry{name: fmt.Sprintf("m/%d.zst", i), data: member})
	}
	p := writeFile(t, t.TempDir(), "eight.tar", buildTar(t, entries))
	w := Walker{Workers: 4, MaxBuffered: 2 * int64(len(member))}
	var inside, most, seen atomic.Int32
	err := w.ForEach(context.Background(), []string{p}, func(ctx context.Context, tp *Tape) error {
		n := inside.Add(1)
		defer inside.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		seen.Add(1)
		r := readTape(tp)
		return r.err
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen.Load() != 8 || most.Load() > 2 {
		t.Errorf("%d tapes, at most %d at once; want 8, at most 2", seen.Load(), most.Load())
	}
}

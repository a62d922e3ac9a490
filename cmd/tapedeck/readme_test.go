//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// shellExample is one ```sh block of a Markdown file.
type shellExample struct {
	Line   int    // line of the opening fence, 1-based
	Script string // the block's text
	NoRun  string // why a test cannot run it; empty when it runs
}

// noRunMarker is the line that, just above a ```sh block (blank lines
// between allowed), keeps a test from running it and says why: the block
// needs Betfair credentials, Docker, or is the test suite itself.
var noRunMarker = regexp.MustCompile(`^<!--\s*norun(?::\s*(.*?))?\s*-->$`)

// shellExamples returns the ```sh blocks of a Markdown document in order.
func shellExamples(doc string) ([]shellExample, error) {
	var out []shellExample
	lines := strings.Split(doc, "\n")
	noRun, noRunLine := "", 0
	for i := 0; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], " \t\r")
		if m := noRunMarker.FindStringSubmatch(l); m != nil {
			if strings.TrimSpace(m[1]) == "" {
				return nil, fmt.Errorf("line %d: a norun marker must say why: <!-- norun: REASON -->", i+1)
			}
			noRun, noRunLine = m[1], i+1
			continue
		}
		if l == "" {
			continue
		}
		if l != "```sh" {
			if noRun != "" && !strings.HasPrefix(l, "```") {
				return nil, fmt.Errorf("line %d: the norun marker is not just above a ```sh block", noRunLine)
			}
			noRun = ""
			if strings.HasPrefix(l, "```") { // another language's block: skip to its end
				for i++; i < len(lines) && strings.TrimRight(lines[i], " \t\r") != "```"; i++ {
				}
			}
			continue
		}
		start := i + 1
		var body []string
		for i++; ; i++ {
			if i == len(lines) {
				return nil, fmt.Errorf("line %d: unterminated ```sh block", start)
			}
			if strings.TrimRight(lines[i], " \t\r") == "```" {
				break
			}
			body = append(body, lines[i])
		}
		out = append(out, shellExample{Line: start, Script: strings.Join(body, "\n") + "\n", NoRun: noRun})
		noRun = ""
	}
	return out, nil
}

func TestShellExamples(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []shellExample
		err       string
	}{
		{"runs and norun", "# x\n\n```sh\na\nb\n```\n\n<!-- norun: needs Betfair credentials -->\n\n```sh\nc\n```\n",
			[]shellExample{{3, "a\nb\n", ""}, {10, "c\n", "needs Betfair credentials"}}, ""},
		{"other languages skipped", "```sql\nSELECT 1;\n```\n```python\nx\n```\n```sh\nd\n```\n",
			[]shellExample{{7, "d\n", ""}}, ""},
		{"fence inside another block", "```text\n```sh\n```\n```sh\ne\n```\n", []shellExample{{4, "e\n", ""}}, ""},
		{"norun without a reason", "<!-- norun -->\n```sh\na\n```\n", nil, "must say why"},
		{"norun astray", "<!-- norun: x -->\ntext\n```sh\na\n```\n", nil, "not just above"},
		{"unterminated", "```sh\na\n", nil, "unterminated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := shellExamples(tc.doc)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// tools are programs an example may use that a fresh machine with only Go
// may lack; a block using a missing one is skipped (a failure under $CI).
var tools = []string{"jq", "docker", "duckdb"}

// TestREADMEExamples runs every ```sh block of the README as written, in
// order, from the root of a copy of the repository holding only the files a
// clone has, with GOBIN and PATH pointing at an empty directory so the
// README's own install block provides tapedeck. Blocks marked norun are
// listed, not run.
func TestREADMEExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the README examples install the commands and run the demo")
	}
	for _, p := range []string{"bash", "git"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s is not installed", p)
		}
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	examples, err := shellExamples(string(readme))
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	clone := filepath.Join(t.TempDir(), "tapedeck")
	copyClone(t, repo, clone)
	bin := t.TempDir()
	// -trimpath (and nothing else of the caller's GOFLAGS): the clone's
	// directory is new on every run, and without it that path is part of
	// every package's build-cache key, so go install recompiled the whole
	// module and relinked the demo's DuckDB query each time (about half
	// the test's CPU). Path-free builds hit the previous run's cache.
	env := append(os.Environ(), "GOBIN="+bin, "PATH="+searchPath(bin), "GOFLAGS=-trimpath")
	ran := 0
	for _, ex := range examples {
		t.Run(fmt.Sprintf("line_%d", ex.Line), func(t *testing.T) {
			if ex.NoRun != "" {
				t.Skipf("README.md line %d is marked norun: %s", ex.Line, ex.NoRun)
			}
			for _, tool := range tools {
				if regexp.MustCompile(`(^|[\s|(;&])` + tool + `\s`).MatchString(ex.Script) {
					if _, err := exec.LookPath(tool); err != nil {
						if os.Getenv("CI") != "" {
							t.Fatalf("README.md line %d uses %s, which is not installed (CI is set, so this fails)", ex.Line, tool)
						}
						t.Skipf("README.md line %d uses %s, which is not installed", ex.Line, tool)
					}
				}
			}
			ran++
			if out, err := runBlock(clone, env, ex.Script); err != nil {
				t.Errorf("README.md line %d failed: %v\n--- script\n%s--- output\n%s", ex.Line, err, ex.Script, out)
			}
		})
	}
	if ran == 0 {
		t.Error("no README example ran")
	}
}

// runBlock runs script with bash -e in dir, in a process group of its own
// that is killed when the script ends, so a server an example started in
// the background never outlives it. Output goes to a file, not a pipe, so a
// leftover background process cannot hold Wait open.
func runBlock(dir string, env []string, script string) (string, error) {
	outFile, err := os.CreateTemp("", "readme-example-*.out")
	if err != nil {
		return "", err
	}
	defer os.Remove(outFile.Name())
	defer outFile.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, outFile, outFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err = cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if _, serr := outFile.Seek(0, io.SeekStart); serr == nil {
		var b bytes.Buffer
		io.Copy(&b, io.LimitReader(outFile, 64<<10))
		return b.String(), err
	}
	return "", err
}

// copyClone copies what a clone of repo holds (tracked files, and new ones
// not ignored, so uncommitted work is tested too) into dst.
func copyClone(t *testing.T, repo, dst string) {
	t.Helper()
	out, err := exec.Command("git", "-C", repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout, so what a clone holds is unknown: %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(repo, name)
		fi, err := os.Lstat(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the work tree, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

// searchPath is PATH with bin first and without Go's install directories,
// so a tapedeck installed earlier on this machine is never the one run.
func searchPath(bin string) string {
	drop := map[string]bool{}
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			for _, p := range filepath.SplitList(strings.TrimSpace(l)) {
				if p != "" {
					drop[filepath.Clean(p)] = true
					drop[filepath.Join(p, "bin")] = true
				}
			}
		}
	}
	dirs := []string{bin}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if d != "" && !drop[filepath.Clean(d)] {
			dirs = append(dirs, d)
		}
	}
	return strings.Join(dirs, string(os.PathListSeparator))
}

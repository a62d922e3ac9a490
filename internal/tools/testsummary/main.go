// Command testsummary reads `go test -json` on standard input, prints the
// tests' output as go test would have, and at the end lists the slowest
// packages and tests, so scripts/test.sh shows where the suite's time goes.
// Its exit status is 1 when any test or package failed.
//
//	go test -json ./... | go run ./internal/tools/testsummary -n 15
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json's TestEvent).
type event struct {
	Action     string
	Package    string
	ImportPath string // on build-output and build-fail
	Test       string
	Elapsed    float64 // seconds, on pass/fail/skip
	Output     string
}

// timing is one finished test or package.
type timing struct {
	name    string
	seconds float64
}

// summary is what the run showed.
type summary struct {
	packages, tests []timing
	failed          []string
}

func main() {
	n := flag.Int("n", 15, "how many of the slowest packages and tests to list")
	flag.Parse()
	s, err := read(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	s.print(os.Stdout, *n)
	if len(s.failed) > 0 {
		os.Exit(1)
	}
}

// read consumes go test's JSON, copying each Output to out as it comes. A
// line that is not JSON (a build error printed by go itself) is copied too.
func read(in io.Reader, out io.Writer) (*summary, error) {
	s := &summary{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(out, "%s\n", line)
			continue
		}
		switch e.Action {
		case "output", "build-output":
			io.WriteString(out, e.Output)
		case "build-fail":
			s.failed = append(s.failed, e.ImportPath+" [build failed]")
		case "pass", "fail":
			if e.Test == "" {
				s.packages = append(s.packages, timing{e.Package, e.Elapsed})
			} else if !strings.Contains(e.Test, "/") {
				// Top-level tests only: a subtest's time is in its parent's.
				s.tests = append(s.tests, timing{e.Package + " " + e.Test, e.Elapsed})
			}
			if e.Action == "fail" {
				s.failed = append(s.failed, strings.TrimSpace(e.Package+" "+e.Test))
			}
		}
	}
	return s, sc.Err()
}

// print lists the n slowest packages and tests and any failures.
func (s *summary) print(w io.Writer, n int) {
	list := func(title string, ts []timing) {
		sort.SliceStable(ts, func(i, j int) bool { return ts[i].seconds > ts[j].seconds })
		fmt.Fprintf(w, "\n== slowest %s (wall seconds)\n", title)
		for _, t := range ts[:min(n, len(ts))] {
			fmt.Fprintf(w, "%8.1f  %s\n", t.seconds, t.name)
		}
	}
	list("packages", s.packages)
	list("tests", s.tests)
	if len(s.failed) > 0 {
		fmt.Fprintf(w, "\n== FAILED\n%s\n", strings.Join(s.failed, "\n"))
	}
}

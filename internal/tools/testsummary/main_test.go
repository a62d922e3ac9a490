package main

import (
	"bytes"
	"strings"
	"testing"
)

// go test -json's lines (as cmd/test2json writes them) become the output
// plus a summary that ranks packages and top-level tests by time.
func TestRead(t *testing.T) {
	in := `{"Action":"run","Package":"p/a","Test":"TestSlow"}
{"Action":"output","Package":"p/a","Test":"TestSlow","Output":"=== RUN   TestSlow\n"}
{"Action":"pass","Package":"p/a","Test":"TestSlow/sub","Elapsed":9}
{"Action":"pass","Package":"p/a","Test":"TestSlow","Elapsed":9.5}
{"Action":"fail","Package":"p/a","Test":"TestBad","Elapsed":0.5}
{"Action":"fail","Package":"p/a","Elapsed":10.2}
{"Action":"pass","Package":"p/b","Test":"TestFast","Elapsed":0.1}
{"Action":"pass","Package":"p/b","Elapsed":0.3}
# p/c [build failed]
{"ImportPath":"p/d","Action":"build-output","Output":"d.go:1: bad\n"}
{"ImportPath":"p/d","Action":"build-fail"}
`
	var out bytes.Buffer
	s, err := read(strings.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "=== RUN   TestSlow\n# p/c [build failed]\nd.go:1: bad\n" {
		t.Errorf("output %q", got)
	}
	if len(s.failed) != 3 || s.failed[0] != "p/a TestBad" || s.failed[1] != "p/a" || s.failed[2] != "p/d [build failed]" {
		t.Errorf("failed %q", s.failed)
	}
	var sum bytes.Buffer
	s.print(&sum, 1)
	want := "\n== slowest packages (wall seconds)\n    10.2  p/a\n\n== slowest tests (wall seconds)\n     9.5  p/a TestSlow\n\n== FAILED\np/a TestBad\np/a\np/d [build failed]\n"
	if sum.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", sum.String(), want)
	}
}

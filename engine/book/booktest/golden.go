// Package booktest holds test helpers for comparing market books with
// betfairlightweight's goldens (testdata/golden/books): reading a golden,
// a canonical form of a book's JSON in which equal books are almost always
// equal bytes, and a comparison by value for the rest. engine/book's golden
// test and pipeline's convert books test share it. It is for tests only
// (internal/importrule enforces that).
package booktest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// ReadGolden returns the lines of a zstd-compressed golden file (JSON
// Lines, as betfairlightweight wrote them), each in Canonical form.
func ReadGolden(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer zr.Close()
	var lines [][]byte
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		lines = append(lines, Canonical(nil, sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return lines
}

// Canonical appends b to dst without the space outside strings and
// without the ".0" of a whole number (Python writes 5.0 and ", "; Go 5 and
// ","), which leaves every value as it was: equal canonical forms are equal
// documents (unequal ones may still be equal, with keys in another order).
//
// Comparing canonical bytes first is what makes a comparison of every book
// affordable: only a book whose bytes still differ needs Diff, which costs
// ten times as much.
func Canonical(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			j := i + 1
			for ; j < len(b) && b[j] != '"'; j++ {
				if b[j] == '\\' {
					j++
				}
			}
			dst = append(dst, b[i:min(j+1, len(b))]...)
			i = j
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
				j++
			}
			num := b[i:j]
			if k := bytes.IndexByte(num, '.'); k > 0 && len(bytes.Trim(num[k+1:], "0")) == 0 {
				num = num[:k]
			}
			dst = append(dst, num...)
			i = j - 1
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// Diff compares two JSON documents by value (numbers as float64, key order
// ignored) and returns the path and description of the first difference,
// or "" when equal.
func Diff(got, want []byte) (path, diff string) {
	var g, w any
	dg := json.NewDecoder(bytes.NewReader(got))
	dg.UseNumber()
	if err := dg.Decode(&g); err != nil {
		return "$", fmt.Sprintf("ours is not JSON: %v", err)
	}
	dw := json.NewDecoder(bytes.NewReader(want))
	dw.UseNumber()
	if err := dw.Decode(&w); err != nil {
		return "$", fmt.Sprintf("golden is not JSON: %v", err)
	}
	return diffValue("$", g, w)
}

// diffValue is Diff below path.
func diffValue(path string, g, w any) (string, string) {
	switch wv := w.(type) {
	case map[string]any:
		gv, ok := g.(map[string]any)
		if !ok {
			return path, fmt.Sprintf("got %T, want object", g)
		}
		keys := make([]string, 0, len(wv))
		for k := range wv {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gx, ok := gv[k]
			if !ok {
				return path + "." + k, "missing"
			}
			if p, d := diffValue(path+"."+k, gx, wv[k]); d != "" {
				return p, d
			}
		}
		for k := range gv {
			if _, ok := wv[k]; !ok {
				return path + "." + k, "unexpected key"
			}
		}
	case []any:
		gv, ok := g.([]any)
		if !ok {
			return path, fmt.Sprintf("got %T, want array", g)
		}
		for i := 0; i < len(wv) && i < len(gv); i++ {
			if p, d := diffValue(fmt.Sprintf("%s[%d]", path, i), gv[i], wv[i]); d != "" {
				return p, d
			}
		}
		if len(gv) != len(wv) {
			return path, fmt.Sprintf("got %d elements, want %d", len(gv), len(wv))
		}
	case json.Number:
		gv, ok := g.(json.Number)
		if !ok {
			return path, fmt.Sprintf("got %v, want %v", g, w)
		}
		gf, err1 := strconv.ParseFloat(string(gv), 64)
		wf, err2 := strconv.ParseFloat(string(wv), 64)
		if err1 != nil || err2 != nil || gf != wf {
			return path, fmt.Sprintf("got %s, want %s", gv, wv)
		}
	default:
		if g != w {
			return path, fmt.Sprintf("got %#v, want %#v", g, w)
		}
	}
	return "", ""
}

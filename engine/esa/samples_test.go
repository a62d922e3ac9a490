package esa_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/internal/bzip2"

	"github.com/tapedeck/tapedeck/internal/testenv"
)

// Real stream data the tests run over. The repository's own testdata (MIT
// and BSD samples, see testdata/NOTICE) is always used; Betfair data in
// ../shared (found by internal/testenv) is used when present, and its absence
// is logged locally and a failure under CI.
const repoTestdata = "../../testdata"

// sharedData is the shared data directory, or a path that does not exist
// when there is none (so globs under it match nothing).
func sharedData(tb testing.TB) string {
	tb.Helper()
	if d := testenv.SharedDir(tb); d != "" {
		return filepath.Join(d, "data")
	}
	return filepath.Join(repoTestdata, "no-shared-data")
}

// sample is one stream line (or one pretty-printed message) from a file.
type sample struct {
	name string // file, tar member and line number
	line []byte
}

// sampleFiles lists the files of real stream data available here.
func sampleFiles(tb testing.TB) []string {
	shared := sharedData(tb)
	var files []string
	for _, pat := range []string{
		repoTestdata + "/messages/*",
		repoTestdata + "/tapes/*",
		shared + "/messages/*",
		shared + "/streams/*",
		shared + "/historic/*",
	} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	if testenv.SharedDir(tb) == "" {
		if os.Getenv("CI") != "" {
			tb.Fatalf("shared data (../shared) is missing and CI is set: the samples must include Betfair's")
		}
		tb.Logf("shared data (../shared) is missing: testing with %s only", repoTestdata)
	}
	sort.Strings(files)
	if len(files) == 0 {
		tb.Skipf("no stream data found in %s or %s", repoTestdata, shared)
	}
	return files
}

// forEachSample calls fn for every line of every sample file, bz2 and tar
// archives included. perFile > 0 limits the lines taken from each file.
func forEachSample(tb testing.TB, perFile int, fn func(s sample)) {
	for _, path := range sampleFiles(tb) {
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		if strings.HasSuffix(path, ".tar") {
			forEachTarMember(tb, data, func(member string, content []byte) {
				splitSamples(tb, path+":"+member, content, perFile, fn)
			})
			continue
		}
		splitSamples(tb, path, data, perFile, fn)
	}
}

// splitSamples turns a file's bytes into samples: bz2 is decompressed; a
// .json file under messages/ holds one pretty-printed message or an array
// of them; everything else is one message per line.
func splitSamples(tb testing.TB, name string, data []byte, perFile int, fn func(s sample)) {
	if strings.HasSuffix(name, ".bz2") {
		var err error
		if data, err = io.ReadAll(bzip2.NewReader(bytes.NewReader(data))); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
	}
	if strings.HasSuffix(name, ".json") && strings.Contains(name, "/messages/") {
		trimmed := bytes.TrimSpace(data)
		if len(trimmed) > 0 && trimmed[0] == '[' {
			var elems []json.RawMessage
			if err := json.Unmarshal(trimmed, &elems); err != nil {
				tb.Fatalf("%s: %v", name, err)
			}
			for i, e := range elems {
				if perFile > 0 && i >= perFile {
					break
				}
				fn(sample{name: name + "[" + strconv.Itoa(i) + "]", line: e})
			}
			return
		}
		fn(sample{name: name, line: data})
		return
	}
	n := 0
	for i, line := range bytes.SplitAfter(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if perFile > 0 && n >= perFile {
			break
		}
		n++
		fn(sample{name: name + ":" + strconv.Itoa(i+1), line: line})
	}
}

// forEachTarMember calls fn with the name and contents of every regular
// file in a tar archive.
func forEachTarMember(tb testing.TB, data []byte, fn func(name string, content []byte)) {
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			tb.Fatalf("tar: %v", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			tb.Fatalf("tar: %s: %v", h.Name, err)
		}
		fn(h.Name, content)
	}
}

package importrule

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// module is the import path every project package starts with.
const module = "github.com/tapedeck/tapedeck"

// layers are the project's layers, lowest first: a package may import its own
// layer's group and any lower layer, never a higher one. Each entry is a path
// (relative to the module) and everything under it; the longest match wins.
//
//	cmd → tradecli → pipeline, recorder → engine/… → tape → engine/esa → store
//
// engine/esa (the stream's message types, the decoder, the stream client)
// imports no other layer and sits under tape, whose one replay loop decodes
// with it. internal/cli (the commands' shared flags, logging and exit codes)
// sits just under tradecli so that only commands use it; internal/login
// (the account and endpoint flags of record run, trade paper and trade
// live) sits on it; the commands'
// code is internal/cmd/, under the thin mains of cmd/. internal/bzip2, internal/backoff,
// internal/shard, internal/hugepages and internal/testenv are leaves anyone
// may use.
//
// Packages of one group (engine/…, pipeline/…) may import each other; each
// example and tool (each package under an entry marked each) is a group of
// its own; the commands are one group, so one binary may gather them.
var layers = []struct {
	path  string
	layer int
	each  bool
}{
	{"internal/bzip2", 0, false},
	{"internal/testenv", 0, false},
	{"internal/importrule", 0, false},
	{"internal/backoff", 0, false},
	{"internal/shard", 0, false},
	{"internal/hugepages", 0, false},
	{"store", 1, false},
	{"engine/esa", 2, false},
	{"tape", 3, false},
	{"engine", 4, false},
	{"pipeline", 5, false},
	{"recorder", 5, false},
	{"internal/cli", 6, false},
	{"internal/login", 7, false},
	{"tradecli", 8, false},
	{"cmd", 10, false},
	{"internal/cmd", 9, false},
	{"examples", 10, true},
	{"internal/tools", 10, true},
}

// onlyImportedBy limits who may import a package: the S3 backend only by the
// commands and tradecli (so a strategy binary links no cloud SDK unless it
// asks), and the test helpers only by tests (go list's Imports leave test
// files out, so any importer found is a non-test one).
var onlyImportedBy = map[string][]string{
	"store/s3":              {"cmd", "internal/cmd", "tradecli", "store/storetest"},
	"store/storetest":       {},
	"tradecli/tradeclitest": {},
	"engine/esa/esatest":    {},
	"engine/book/booktest":  {},
}

// forbidden are outside imports some packages must not have: the engine is a
// library, not command code.
var forbidden = map[string][]string{
	"engine": {"github.com/spf13/cobra", "github.com/spf13/pflag", module + "/internal/cli"},
}

// pending are imports that break the rule today and are being removed on
// another branch. Each must still occur: once it is gone, the test fails
// until its line here is deleted, so no exception outlives its reason.
var pending = map[string]string{}

// pkg is one package as go list reports it.
type pkg struct {
	path    string   // relative to the module
	imports []string // full import paths, non-test files only
}

// list runs go list over the whole module from its root.
func list(t *testing.T, format string, patterns ...string) []string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", append([]string{"list", "-f", format}, patterns...)...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(patterns, " "), err, stderr.Bytes())
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// packages lists every package of the module with its direct imports.
func packages(t *testing.T) []pkg {
	var out []pkg
	for _, l := range list(t, "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", "./...") {
		f := strings.Fields(l)
		out = append(out, pkg{path: rel(f[0]), imports: f[1:]})
	}
	if len(out) < 10 {
		t.Fatalf("go list found %d packages; is the test running inside the module?", len(out))
	}
	return out
}

// rel is p relative to the module, or "" for an outside package.
func rel(p string) string {
	if p == module {
		return "."
	}
	r, ok := strings.CutPrefix(p, module+"/")
	if !ok {
		return ""
	}
	return r
}

// under reports whether p is prefix or a package below it.
func under(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// layerOf returns p's layer and the group it belongs to (the matching
// entry's path, or p itself under an entry marked each); ok is false when no
// entry matches.
func layerOf(p string) (layer int, group string, ok bool) {
	best := -1
	for i, l := range layers {
		if under(p, l.path) && (best < 0 || len(l.path) > len(layers[best].path)) {
			best = i
		}
	}
	if best < 0 {
		return 0, "", false
	}
	if layers[best].each {
		return layers[best].layer, p, true
	}
	return layers[best].layer, layers[best].path, true
}

// violations is every import that breaks the rule, as "importer -> import:
// why".
func violations(pkgs []pkg) []string {
	var bad []string
	for _, p := range pkgs {
		pl, pg, ok := layerOf(p.path)
		if !ok {
			bad = append(bad, p.path+": in no layer; add it to the rule in internal/importrule and docs/architecture.md")
			continue
		}
		for _, full := range p.imports {
			for prefix, outs := range forbidden {
				if under(p.path, prefix) && slices.Contains(outs, full) {
					bad = append(bad, p.path+" -> "+full+": "+prefix+"/ must not import command code")
				}
			}
			q := rel(full)
			if q == "" {
				continue
			}
			for target, allowed := range onlyImportedBy {
				if under(q, target) && !slices.ContainsFunc(allowed, func(a string) bool { return under(p.path, a) }) {
					who := strings.Join(allowed, ", ")
					if who == "" {
						who = "tests"
					}
					bad = append(bad, p.path+" -> "+q+": only "+who+" may import "+target)
				}
			}
			ql, qg, ok := layerOf(q)
			if !ok {
				continue // reported as the importer's own line
			}
			switch {
			case ql > pl:
				bad = append(bad, p.path+" -> "+q+": imports upwards")
			case ql == pl && qg != pg:
				bad = append(bad, p.path+" -> "+q+": imports sideways, from "+pg+" into "+qg)
			}
		}
	}
	return bad
}

// TestLayerRule checks every import of every package against the rule.
func TestLayerRule(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range violations(packages(t)) {
		edge, _, _ := strings.Cut(v, ":")
		if _, ok := pending[edge]; ok {
			seen[edge] = true
			continue
		}
		t.Error(v)
	}
	for edge, why := range pending {
		if !seen[edge] {
			t.Errorf("%s no longer occurs (%s): delete it from pending in rule_test.go", edge, why)
		}
	}
}

// The engine's packages, all they pull in, link no AWS SDK and no pipeline:
// a strategy binary stays small.
func TestEngineLinksNoCloudSDK(t *testing.T) {
	for _, d := range list(t, "{{.ImportPath}}", "-deps", "./engine/...") {
		if strings.Contains(d, "aws-sdk-go-v2") || strings.Contains(d, "smithy-go") {
			t.Errorf("go list -deps ./engine/... has %s", d)
		}
	}
}

// The rule itself: a made-up tree with one import of each kind.
func TestViolations(t *testing.T) {
	pkgs := []pkg{
		{"engine", []string{module + "/engine/book", module + "/store", "fmt"}},
		{"engine/book", []string{module + "/pipeline"}},
		{"engine/strategies", []string{"github.com/spf13/cobra", module + "/internal/cli"}},
		{"pipeline", []string{module + "/recorder", module + "/store/s3"}},
		{"cmd/trade", []string{module + "/tradecli", module + "/store/s3", module + "/cmd/convert"}},
		{"examples/favourite", []string{module + "/tradecli", module + "/cmd/trade"}},
		{"tradecli", []string{module + "/store/storetest"}},
		{"newpkg", nil},
	}
	want := []string{
		"engine/book -> pipeline: imports upwards",
		"engine/strategies -> github.com/spf13/cobra: engine/ must not import command code",
		"engine/strategies -> " + module + "/internal/cli: engine/ must not import command code",
		"engine/strategies -> internal/cli: imports upwards",
		"pipeline -> recorder: imports sideways, from pipeline into recorder",
		"pipeline -> store/s3: only cmd, internal/cmd, tradecli, store/storetest may import store/s3",
		"examples/favourite -> cmd/trade: imports sideways, from examples/favourite into cmd",
		"tradecli -> store/storetest: only tests may import store/storetest",
		"newpkg: in no layer; add it to the rule in internal/importrule and docs/architecture.md",
	}
	got := violations(pkgs)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n got %q\nwant %q", got, want)
	}
}

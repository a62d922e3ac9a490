package interop

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// greyhoundTar is the shared Betfair PRO archive the test adds to the
// bundled samples when it is present (it is not copied into the repo).
const greyhoundTar = "data/historic/pro-greyhounds-2022-03-01.tar"

// repoRoot is the main module's directory: interop/ sits inside it.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "testdata", "tapes")); err != nil {
		t.Fatalf("no testdata/tapes above interop/: %v", err)
	}
	return root
}

// sharedFile returns the path of name in the shared reference data
// ($TAPEDECK_SHARED, else ../shared beside the repo), or "" if absent.
func sharedFile(root, name string) string {
	dir := os.Getenv("TAPEDECK_SHARED")
	if dir == "" {
		dir = filepath.Join(filepath.Dir(root), "shared")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// buildConvert builds the convert command of the main module, so the test
// reads what users' binaries write.
func buildConvert(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "convert")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/convert")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/convert: %v\n%s", err, out)
	}
	return bin
}

// check compares one example query's answer with the books reference.
type check struct {
	title string // a word of the example's #### heading
	fn    func(t *testing.T, res *Result, ms map[string]*refMarket)
}

var checks = []check{
	{"Winners", checkWinners},
	{"backtest", checkBacktest},
	{"Win rate", checkWinRate},
	{"volume at each price", checkVolume},
	{"volume curve", checkCurve},
	{"Tick movement", checkTicks},
	{"by trap", checkTraps},
	{"as-of join", checkAsOf},
	{"SP-matched volume per runner", checkSPVolume},
	{"race fields", checkRaceFields},
}

// TestDataset converts the bundled sample tapes (and, unless -short, the
// shared greyhound archive) with the built convert command once, reads the
// same inputs' `convert books` output as the reference, and checks the
// dataset against it two ways: the README's example queries (README) and
// the Betfair Data Scientists' tutorials' definitions (Tutorials).
func TestDataset(t *testing.T) {
	root, ds, ms := convertWithBooks(t)
	t.Run("README", func(t *testing.T) { testREADMEQueries(t, root, ds, ms) })
	t.Run("Tutorials", func(t *testing.T) { testTutorials(t, ds, ms) })
}

// testREADMEQueries runs every README example query on the dataset with
// DuckDB and checks each answer against the books reference.
func testREADMEQueries(t *testing.T, root, ds string, ms map[string]*refMarket) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	examples, err := ExampleQueries(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	used := map[int]bool{}
	for _, ex := range examples {
		i := slices.IndexFunc(checks, func(c check) bool { return strings.Contains(ex.Title, c.title) })
		if i < 0 {
			t.Errorf("README example %q has no check here: add one", ex.Title)
			continue
		}
		used[i] = true
		t.Run(checks[i].title, func(t *testing.T) {
			res, err := Query(context.Background(), db, Rewrite(ex.SQL, ds))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) == 0 {
				t.Fatalf("%q: no rows", ex.Title)
			}
			checks[i].fn(t, res, ms)
		})
	}
	for i, c := range checks {
		if !used[i] {
			t.Errorf("no README example titled with %q", c.title)
		}
	}
}

// sampleInputs lists what the interop tests convert: the bundled sample
// tapes (the AU horse race 1.205822330 among them), the flumine golden
// inputs, which turn in play (the shared files never do), and, unless
// -short, the shared greyhound archive when it is beside the repo.
func sampleInputs(t *testing.T, root string) []string {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join(root, "testdata", "tapes", "*"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no sample tapes: %v", err)
	}
	inPlay, err := filepath.Glob(filepath.Join(root, "testdata", "golden", "flumine", "inputs", "*.zst"))
	if err != nil || len(inPlay) == 0 {
		t.Fatalf("no in-play inputs under testdata/golden/flumine/inputs: %v", err)
	}
	inputs = append(inputs, inPlay...)
	switch tar := sharedFile(root, greyhoundTar); {
	case tar == "":
		t.Logf("%s not found beside the repo: checking the bundled samples only", greyhoundTar)
	case testing.Short():
		t.Logf("-short: leaving out %s", greyhoundTar)
	default:
		inputs = append(inputs, tar)
	}
	return inputs
}

// convertWithBooks converts sampleInputs with the built convert command
// (`convert parquet --tables all`) and reads the same inputs' `convert
// books` output as the reference. It returns the repo root, the dataset's
// directory and the reference markets by id.
func convertWithBooks(t *testing.T) (root, ds string, ms map[string]*refMarket) {
	t.Helper()
	root = repoRoot(t)
	inputs := sampleInputs(t, root)
	conv := buildConvert(t, root)
	ds = filepath.Join(t.TempDir(), "dataset")
	// The conversion runs while the books reference is read: they are
	// independent, and the books JSON (3 GB for the shared archive) is the
	// slow part.
	conversion := exec.Command(conv, append(append([]string{"parquet", "--tables", "all"}, inputs...), "-o", ds)...)
	var convOut strings.Builder
	conversion.Stdout, conversion.Stderr = &convOut, &convOut
	if err := conversion.Start(); err != nil {
		t.Fatal(err)
	}
	defer conversion.Process.Kill() // a no-op once it has exited

	books := exec.Command(conv, append([]string{"books"}, inputs...)...)
	books.Stderr = os.Stderr
	stdout, err := books.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := books.Start(); err != nil {
		t.Fatal(err)
	}
	ms, err = readBooks(stdout)
	if err != nil {
		books.Process.Kill()
		books.Wait()
		t.Fatalf("convert books: %v", err)
	}
	if err := books.Wait(); err != nil {
		t.Fatalf("convert books: %v", err)
	}
	if err := conversion.Wait(); err != nil {
		t.Fatalf("convert parquet: %v\n%s", err, convOut.String())
	}
	t.Logf("convert parquet: %s", strings.TrimSpace(convOut.String()))
	if len(ms) < 5 {
		t.Fatalf("books gave %d markets, want the samples' 5 at least", len(ms))
	}
	return root, ds, ms
}

// col returns the values of res's column name, one per row.
func col(t *testing.T, res *Result, name string) []any {
	t.Helper()
	j := slices.Index(res.Columns, name)
	if j < 0 {
		t.Fatalf("no column %q in %v", name, res.Columns)
	}
	out := make([]any, len(res.Rows))
	for i, r := range res.Rows {
		out[i] = r[j]
	}
	return out
}

// rowKeys joins the named columns of each row with "|".
func rowKeys(t *testing.T, res *Result, names ...string) []string {
	t.Helper()
	cols := make([][]any, len(names))
	for i, n := range names {
		cols[i] = col(t, res, n)
	}
	out := make([]string, len(res.Rows))
	for r := range res.Rows {
		parts := make([]string, len(names))
		for i := range names {
			parts[i] = FormatValue(cols[i][r])
		}
		out[r] = strings.Join(parts, "|")
	}
	return out
}

func fp(p *float64) string {
	if p == nil {
		return "NULL"
	}
	return FormatValue(*p)
}

func ip(p *int64) string {
	if p == nil {
		return "NULL"
	}
	return strconv.FormatInt(*p, 10)
}

// sameRows fails t unless got and want hold the same rows, in any order.
func sameRows(t *testing.T, got, want []string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("the reference has no rows: nothing was checked")
	}
	g, w := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if slices.Equal(g, w) {
		t.Logf("%d rows agree", len(g))
		return
	}
	var missing, extra []string
	for _, x := range w {
		if _, ok := slices.BinarySearch(g, x); !ok {
			missing = append(missing, x)
		}
	}
	for _, x := range g {
		if _, ok := slices.BinarySearch(w, x); !ok {
			extra = append(extra, x)
		}
	}
	t.Errorf("%d rows, want %d; %d missing, e.g. %q; %d unexpected, e.g. %q",
		len(g), len(w), len(missing), head(missing), len(extra), head(extra))
}

func head(s []string) []string { return s[:min(len(s), 8)] }

// sameNumbers fails t unless got and want give the same numbers per key,
// to within tol, a missing key counting as 0.
func sameNumbers(t *testing.T, got, want map[string]float64, tol float64) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("the reference has no rows: nothing was checked")
	}
	var bad []string
	for k := range joinKeys(got, want) {
		if math.Abs(got[k]-want[k]) > tol {
			bad = append(bad, fmt.Sprintf("%s: got %g, want %g", k, got[k], want[k]))
		}
	}
	slices.Sort(bad)
	if len(bad) > 0 {
		t.Errorf("%d of %d values differ, e.g. %q", len(bad), len(want), head(bad))
	} else {
		t.Logf("%d values agree", len(want))
	}
}

func joinKeys(a, b map[string]float64) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	}
	return math.NaN()
}

func checkWinners(t *testing.T, res *Result, ms map[string]*refMarket) {
	var want []string
	for _, m := range ms {
		for k, w := range m.winners {
			if w {
				want = append(want, fmt.Sprintf("%s|%d|%s", m.id, k.sel, fp(m.bsp[k])))
			}
		}
	}
	sameRows(t, rowKeys(t, res, "market_id", "selection_id", "bsp"), want)
}

func checkBacktest(t *testing.T, res *Result, ms map[string]*refMarket) {
	var want []string
	for _, m := range ms {
		p := m.atOff(180)
		if p == nil {
			continue
		}
		for _, r := range p.runners {
			if r.status == "ACTIVE" {
				want = append(want, fmt.Sprintf("%s|%d|%s|%s|%s|%v", m.id, r.key.sel, fp(r.back), fp(r.lay),
					fp(m.bsp[r.key]), m.winners[r.key]))
			}
		}
	}
	sameRows(t, rowKeys(t, res, "market_id", "selection_id", "back", "lay", "bsp", "is_winner"), want)
}

func checkWinRate(t *testing.T, res *Result, ms map[string]*refMarket) {
	type bucket struct{ runners, winners int }
	b := map[float64]*bucket{}
	for _, m := range ms {
		if m.marketType != "WIN" || m.voided || m.status != "CLOSED" {
			continue
		}
		p := m.atOff(0)
		if p == nil {
			continue
		}
		for _, r := range p.runners {
			if r.back == nil || r.status != "ACTIVE" {
				continue
			}
			pct := math.Floor(100 / *r.back / 10) * 10
			if b[pct] == nil {
				b[pct] = &bucket{}
			}
			b[pct].runners++
			if m.winners[r.key] {
				b[pct].winners++
			}
		}
	}
	var want []string
	for pct, x := range b {
		want = append(want, fmt.Sprintf("%s|%d|%d", FormatValue(pct), x.runners, x.winners))
	}
	sameRows(t, rowKeys(t, res, "implied_pct", "runners", "winners"), want)
}

func checkVolume(t *testing.T, res *Result, ms map[string]*refMarket) {
	want := map[string]float64{}
	for _, m := range ms {
		for k, l := range m.phased {
			for price, v := range l {
				key := fmt.Sprintf("%s|%d|%s", m.id, k.sel, FormatValue(price))
				want[key+"|preplay"] += v[0]
				want[key+"|sp"] += v[1]
				want[key+"|inplay"] += v[2]
			}
		}
	}
	got := map[string]float64{}
	keys := rowKeys(t, res, "market_id", "selection_id", "price")
	pre, sp, in := col(t, res, "preplay"), col(t, res, "sp"), col(t, res, "inplay")
	for i, k := range keys {
		got[k+"|preplay"] += num(pre[i])
		got[k+"|sp"] += num(sp[i])
		got[k+"|inplay"] += num(in[i])
	}
	sameNumbers(t, got, want, 0.011)
	var spTotal float64
	for k, v := range want {
		if strings.HasSuffix(k, "|sp") {
			spTotal += v
		}
	}
	if spTotal == 0 {
		t.Error("no SP-matched volume in the reference: a weak case")
	}
}

func checkCurve(t *testing.T, res *Result, ms map[string]*refMarket) {
	want := map[string]float64{}
	for _, m := range ms {
		for _, s := range []int64{3600, 1800, 600, 300, 60, 0} {
			p := m.atOff(s)
			if p == nil {
				continue
			}
			k := fmt.Sprintf("%s|%d", m.venue, s)
			want[k] += 0
			for _, r := range p.runners {
				want[k] += r.traded
			}
		}
	}
	got := map[string]float64{}
	keys := rowKeys(t, res, "venue", "seconds_before")
	v := col(t, res, "traded")
	for i, k := range keys {
		got[k] = num(v[i])
	}
	sameNumbers(t, got, want, 0.011)
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("no row for %s", k)
		}
	}
}

func checkTicks(t *testing.T, res *Result, ms map[string]*refMarket) {
	ladder := ladderCents()
	if len(ladder) != 350 {
		t.Fatalf("reference ladder has %d prices, want 350", len(ladder))
	}
	var want []string
	for _, m := range ms {
		p10, p0 := m.atOff(600), m.atOff(0)
		ticks := map[runnerKey][2]*int64{}
		for i, p := range []*point{p10, p0} {
			if p == nil {
				continue
			}
			for _, r := range p.runners {
				x := ticks[r.key]
				x[i] = tickOf(ladder, r.back)
				ticks[r.key] = x
			}
		}
		for k, x := range ticks {
			moved := "NULL"
			if x[0] != nil && x[1] != nil {
				moved = strconv.FormatInt(*x[1]-*x[0], 10)
			}
			want = append(want, fmt.Sprintf("%s|%d|%s|%s|%s", m.id, k.sel, ip(x[0]), ip(x[1]), moved))
		}
	}
	sameRows(t, rowKeys(t, res, "market_id", "selection_id", "tick_10m", "tick_off", "ticks_moved"), want)
}

// trapRE reads a greyhound's trap from its name ("1. Gotham Prince"), as
// the reference side's own regular expression.
var trapRE = regexp.MustCompile(`^([1-9][0-9]?)\. \S`)

func checkTraps(t *testing.T, res *Result, ms map[string]*refMarket) {
	type bucket struct{ runners, winners int }
	b := map[string]*bucket{}
	for _, m := range ms {
		if m.eventTypeID != "4339" || m.marketType != "WIN" || m.status != "CLOSED" || m.voided {
			continue
		}
		for k, st := range m.finalStatus {
			if st != "WINNER" && st != "LOSER" {
				continue
			}
			trap := "NULL"
			if x := trapRE.FindStringSubmatch(m.name[k]); x != nil {
				trap = x[1]
			}
			if b[trap] == nil {
				b[trap] = &bucket{}
			}
			b[trap].runners++
			if st == "WINNER" {
				b[trap].winners++
			}
		}
	}
	var want []string
	for trap, x := range b {
		want = append(want, fmt.Sprintf("%s|%d|%d", trap, x.runners, x.winners))
	}
	sameRows(t, rowKeys(t, res, "trap", "runners", "winners"), want)
}

func checkAsOf(t *testing.T, res *Result, ms map[string]*refMarket) {
	var want []string
	for _, m := range ms {
		p := m.atOff(95)
		if p == nil {
			continue
		}
		for _, r := range p.runners {
			want = append(want, fmt.Sprintf("%s|%d|%s|%s", m.id, r.key.sel, fp(r.back), fp(r.lay)))
		}
	}
	sameRows(t, rowKeys(t, res, "market_id", "selection_id", "back", "lay"), want)
}

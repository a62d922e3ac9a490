package interop

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// scaleQuery returns the fenced SQL block of docs/scale.md whose first line
// is marker.
func scaleQuery(t *testing.T, root, marker string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", "scale.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range strings.Split(string(b), "```sql\n")[1:] {
		q, _, ok := strings.Cut(block, "```")
		if ok && strings.HasPrefix(q, marker+"\n") {
			return q
		}
	}
	t.Fatalf("docs/scale.md has no SQL block starting %q", marker)
	return ""
}

// rankLine is one line of trade backtest's ranking of combinations.
type rankLine struct {
	params              string
	net, profit, volume float64
	orders, matched     int64
}

// parseRanking reads the ranking table from a backtest summary.
func parseRanking(t *testing.T, summary string) []rankLine {
	t.Helper()
	_, table, ok := strings.Cut(summary, "\nrank ")
	if !ok {
		t.Fatalf("no ranking in the summary:\n%s", summary)
	}
	var out []rankLine
	for _, l := range strings.Split(strings.TrimSpace(table), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) != 7 {
			t.Fatalf("ranking line %q", l)
		}
		num := func(s string) float64 {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("ranking line %q: %v", l, err)
			}
			return v
		}
		out = append(out, rankLine{params: f[6], net: num(f[1]), profit: num(f[2]), volume: num(f[3]),
			orders: int64(num(f[4])), matched: int64(num(f[5]))})
	}
	return out
}

// TestSweepRankingAcrossShards runs a sweep as one run and as three shards
// with the built trade command, and checks that docs/scale.md's DuckDB
// query over the shards' markets files ranks the combinations exactly as
// the one run's summary does.
func TestSweepRankingAcrossShards(t *testing.T) {
	root := repoRoot(t)
	inputs := sampleInputs(t, root)
	bin := filepath.Join(t.TempDir(), "trade")
	build := exec.Command("go", "build", "-o", bin, "./cmd/trade")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/trade: %v\n%s", err, out)
	}
	run := func(args ...string) string {
		t.Helper()
		args = append([]string{"backtest", "--strategy", "passive-back", "--historic",
			"--sweep", "stake=2,5,10", "--sweep", "within=60,180"}, append(args, inputs...)...)
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("trade %v: %v", args, err)
		}
		return string(out)
	}
	want := parseRanking(t, run("-o", t.TempDir()))
	if len(want) != 6 {
		t.Fatalf("%d combinations ranked, want 6", len(want))
	}
	dest := t.TempDir()
	for _, k := range []string{"0/3", "1/3", "2/3"} {
		run("-o", dest, "--shard", k)
	}
	q := strings.ReplaceAll(scaleQuery(t, root, "-- rank the combinations of a sharded sweep"),
		"s3://my-results/backtests/run-2026-12", dest)
	db, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := Query(context.Background(), db, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != len(want) {
		t.Fatalf("query gives %d combinations, the summary %d", len(res.Rows), len(want))
	}
	col := map[string]int{}
	for i, c := range res.Columns {
		col[c] = i
	}
	f := func(row []any, c string) float64 {
		switch v := row[col[c]].(type) {
		case float64:
			return v
		case int64:
			return float64(v)
		}
		x, err := strconv.ParseFloat(FormatValue(row[col[c]]), 64)
		if err != nil {
			t.Fatalf("column %s: %v (%T)", c, row[col[c]], row[col[c]])
		}
		return x
	}
	for i, w := range want {
		row := res.Rows[i]
		got := rankLine{params: row[col["params"]].(string), net: f(row, "net"), profit: f(row, "profit"),
			volume: f(row, "volume"), orders: int64(f(row, "orders")), matched: int64(f(row, "matched"))}
		near := func(a, b float64) bool { return math.Abs(a-b) < 0.0051 }
		if got.params != w.params || !near(got.net, w.net) || !near(got.profit, w.profit) || !near(got.volume, w.volume) ||
			got.orders != w.orders || got.matched != w.matched {
			t.Errorf("rank %d: query %+v, summary %+v", i+1, got, w)
		}
	}
}

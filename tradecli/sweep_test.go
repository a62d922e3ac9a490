package tradecli_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/sim"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/storetest"
	"github.com/tapedeck/tapedeck/tradecli"
)

// backtest runs trade backtest with args and returns its summary.
func backtest(t *testing.T, args ...string) string {
	t.Helper()
	cmd := tradecli.BacktestCommand(strategies.Builtins())
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("backtest %v: %v\n%s", args, err, errOut.String())
	}
	return out.String()
}

// readCSV reads the CSV object key of st: header and rows.
func readCSV(t *testing.T, st store.Store, key string) ([]string, [][]string) {
	t.Helper()
	r, err := st.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("%s: %d rows, %v", key, len(rows), err)
	}
	return rows[0], rows[1:]
}

func dirStore(t *testing.T, dir string) store.Store {
	s, err := store.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// joined turns rows into sorted lines, for comparing runs whose rows come
// out in a different order (markets finish in any order).
func joined(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, "|")
	}
	slices.Sort(out)
	return out
}

// TestSweepEqualsSeparateRuns: each combination of a sweep has exactly the
// orders and market rows of a run of its own with those parameters, on the
// bundled tapes and on the shared greyhound tar.
func TestSweepEqualsSeparateRuns(t *testing.T) {
	cases := []struct {
		name, strategy string
		inputs         func(t *testing.T) []string
		sweeps         []string
		combos         [][]string // --param flags of each combination, in sweep order
	}{
		{"bundled", "passive-back", func(t *testing.T) []string { return []string{testenv.Testdata(t, "tapes")} },
			[]string{"stake=2,5", "within=60,180"},
			[][]string{{"stake=2", "within=60"}, {"stake=2", "within=180"}, {"stake=5", "within=60"}, {"stake=5", "within=180"}}},
		{"flumine-inputs", "lowest-layer", func(t *testing.T) []string { return []string{testenv.Testdata(t, "golden/flumine/inputs")} },
			[]string{"max_price=2,3", "cancel_after=1"},
			[][]string{{"max_price=2", "cancel_after=1"}, {"max_price=3", "cancel_after=1"}}},
		{"greyhound-tar", "passive-back", func(t *testing.T) []string {
			return []string{testenv.Shared(t, "data/historic/pro-greyhounds-2022-03-01.tar")}
		},
			[]string{"within=30,120"},
			[][]string{{"within=30"}, {"within=120"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "greyhound-tar" {
				testenv.Long(t)
			}
			in := c.inputs(t)
			dir := t.TempDir()
			args := []string{"--strategy", c.strategy, "-o", dir}
			for _, s := range c.sweeps {
				args = append(args, "--sweep", s)
			}
			summary := backtest(t, append(args, in...)...)
			if !strings.Contains(summary, "rank") || strings.Count(summary, "\n") < len(c.combos)+10 {
				t.Errorf("summary has no ranking of %d combinations:\n%s", len(c.combos), summary)
			}
			for _, table := range []string{"orders.csv", "markets.csv"} {
				hdr, rows := readCSV(t, dirStore(t, dir), table)
				extra := 1 + len(c.sweeps)
				if hdr[len(hdr)-extra] != "params" {
					t.Fatalf("%s: header %v has no params column", table, hdr)
				}
				byCombo := map[string][][]string{}
				for _, r := range rows {
					label := r[len(r)-extra]
					byCombo[label] = append(byCombo[label], r[:len(r)-extra])
				}
				if len(byCombo) != len(c.combos) && table == "markets.csv" {
					t.Errorf("%s: %d combinations, want %d", table, len(byCombo), len(c.combos))
				}
				total := 0
				for _, combo := range c.combos {
					one := t.TempDir()
					a := []string{"--strategy", c.strategy, "-o", one}
					for _, p := range combo {
						a = append(a, "--param", p)
					}
					backtest(t, append(a, in...)...)
					_, want := readCSV(t, dirStore(t, one), table)
					label := strings.Join(combo, ",")
					got := byCombo[label]
					if table == "orders.csv" && len(want) == 0 {
						t.Errorf("%s alone placed no order: the comparison shows nothing", label)
					}
					if !slices.Equal(joined(got), joined(want)) {
						t.Errorf("%s %s: %d rows in the sweep, %d alone", table, label, len(got), len(want))
					}
					total += len(want)
				}
				if total != len(rows) {
					t.Errorf("%s: the sweep has %d rows, the separate runs %d", table, len(rows), total)
				}
			}
		})
	}
}

// sweptOrder reads the sweep's columns back from Parquet with their types.
type sweptOrder struct {
	MarketID string  `parquet:"market_id"`
	OrderID  int64   `parquet:"order_id"`
	Size     float64 `parquet:"size"`
	Params   string  `parquet:"params"`
	Stake    float64 `parquet:"stake"`
	Within   float64 `parquet:"within"`
}

// labelledOrder reads a STRING swept column named after a fixed column.
type labelledOrder struct {
	MarketID string `parquet:"market_id"`
	Params   string `parquet:"params"`
	Status   string `parquet:"status"`
	Swept    string `parquet:"param_status"`
}

// TestSweepColumns: numeric swept values are DOUBLE columns, others
// STRING; a key that names a fixed column gets a param_ prefix.
func TestSweepColumns(t *testing.T) {
	sw, err := tradecli.ParseSweep([]string{"stake=2,5", "status=a,b"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sw.Columns, []string{"stake", "param_status"}) || !slices.Equal(sw.Numeric, []bool{true, false}) || len(sw.Combos) != 4 {
		t.Fatalf("sweep %+v", sw)
	}
	if got := sw.Label(1); got != "stake=2,status=b" {
		t.Errorf("label 1 = %q", got)
	}

	dir := t.TempDir()
	backtest(t, "--strategy", "passive-back", "-o", dir, "--sweep", "stake=2,5", "--sweep", "within=60,180", testenv.Testdata(t, "tapes/1.197931750"))
	rows, err := parquet.ReadFile[sweptOrder](filepath.Join(dir, "orders.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range rows {
		seen[r.Params]++
		if r.Stake != r.Size || r.Params != "stake="+strconv.FormatFloat(r.Stake, 'f', -1, 64)+",within="+strconv.FormatFloat(r.Within, 'f', -1, 64) {
			t.Errorf("row %+v", r)
		}
	}
	if len(seen) != 4 {
		t.Errorf("combinations seen %v", seen)
	}

	// A STRING column, written through the same writer from a real run.
	res, err := engine.Replay(context.Background(), []string{testenv.Testdata(t, "tapes/1.197931750")}, engine.Config{
		NewStrategy: func() (engine.Strategy, error) {
			in, _ := strategies.Builtins().Lookup("passive-back")
			return in.New(nil)
		},
		NewExecution: sim.NewExecution(sim.Flumine)})
	if err != nil {
		t.Fatal(err)
	}
	one := &tradecli.Sweep{Keys: []string{"status"}, Columns: []string{"param_status"}, Numeric: []bool{false}, Combos: [][]string{{"x"}}}
	dir = t.TempDir()
	w, err := tradecli.NewResultWriter(context.Background(), dirStore(t, dir), "", tradecli.Layout{}, one)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range res.Markets {
		if err := w.Market(m, res.Orders); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lo, err := parquet.ReadFile[labelledOrder](filepath.Join(dir, "orders.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(lo) != len(res.Orders) || len(lo) == 0 || lo[0].Swept != "x" || lo[0].Params != "status=x" || lo[0].Status != res.Orders[0].Status().String() {
		t.Errorf("%d rows, first %+v", len(lo), lo[:min(1, len(lo))])
	}
}

func TestSweepUsageErrors(t *testing.T) {
	in := testenv.Testdata(t, "tapes/1.197931750")
	for _, args := range [][]string{
		{"--sweep", "stake"},
		{"--sweep", "stake="},
		{"--sweep", "stake=2,,3"},
		{"--sweep", "stake=2,2"},
		{"--sweep", "stake=2", "--sweep", "stake=3"},
		{"--sweep", "stake=2,3", "--param", "stake=4"},
		{"--sweep", "st ake=2"},
		{"--sweep", "stake=two"},                       // the strategy refuses it
		{"--sweep", "stakes=2,3"},                      // the strategy has no such parameter
		{"--sweep", "stake=2,3", "--report", "r.html"}, // a report is for one run
		{"--shard", "3/3"},
	} {
		cmd := tradecli.BacktestCommand(strategies.Builtins())
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		cmd.SetArgs(append([]string{"--strategy", "passive-back", "-o", t.TempDir(), in}, args...))
		if err := cmd.Execute(); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// shardUnion returns the rows of the n orders CSV parts of shards under
// prefix in st, as sorted lines.
func shardUnion(t *testing.T, st store.Store, prefix string, n int) []string {
	t.Helper()
	var all [][]string
	objs, err := st.List(context.Background(), path.Join(prefix, "orders")+"/")
	if err != nil {
		t.Fatal(err)
	}
	var csvs int
	for _, o := range objs {
		if strings.HasSuffix(o.Key, ".csv") {
			csvs++
			_, rows := readCSV(t, st, o.Key)
			all = append(all, rows...)
		}
	}
	if csvs != n {
		t.Errorf("%d orders CSV parts under %s, want %d: %v", csvs, prefix, n, objs)
	}
	return joined(all)
}

// TestShardsCoverTheRun: shards 0/3, 1/3 and 2/3 together have exactly the
// orders of the unsharded run, and a rerun of a shard replaces its files.
func TestShardsCoverTheRun(t *testing.T) {
	in := []string{testenv.Testdata(t, "tapes"), testenv.Testdata(t, "golden/flumine/inputs")}
	// The tar's 32 markets make five backtests cost half this package's
	// race run; under -race the bundled tapes shard the same way, and
	// scripts/test.sh adds the tar in its run without -race.
	if testenv.LongWanted() && !testenv.RaceEnabled {
		in = append(in, testenv.Shared(t, "data/historic/pro-greyhounds-2022-03-01.tar"))
	}
	base := []string{"--strategy", "passive-back", "--sweep", "within=60,180"}
	whole := t.TempDir()
	backtest(t, append(append(base, "-o", whole), in...)...)
	_, wantRows := readCSV(t, dirStore(t, whole), "orders.csv")
	want := joined(wantRows)

	dest := t.TempDir()
	for k := range 3 {
		backtest(t, append(append(base, "-o", dest, "--shard", []string{"0/3", "1/3", "2/3"}[k]), in...)...)
	}
	st := dirStore(t, dest)
	if got := shardUnion(t, st, "", 3); !slices.Equal(got, want) {
		t.Errorf("shards have %d orders, the whole run %d", len(got), len(want))
	}
	// The Parquet parts read as one table too.
	var n int
	for k := range 3 {
		rows, err := parquet.ReadFile[sweptOrder](filepath.Join(dest, "orders", []string{"s0of3", "s1of3", "s2of3"}[k]+".parquet"))
		if err != nil {
			t.Fatal(err)
		}
		n += len(rows)
	}
	if n != len(want) {
		t.Errorf("Parquet parts hold %d orders, want %d", n, len(want))
	}
	// A rerun of shard 1 replaces its files: still exactly the whole run.
	backtest(t, append(append(base, "-o", dest, "--shard", "1/3"), in...)...)
	if got := shardUnion(t, st, "", 3); !slices.Equal(got, want) {
		t.Errorf("after a rerun of shard 1, shards have %d orders, the whole run %d", len(got), len(want))
	}
}

// TestShardsToS3: shards read tapes from s3:// and write to s3:// with the
// --s3-* flags, each its own objects, and together hold the orders of the
// whole run over the same tapes on disk.
func TestShardsToS3(t *testing.T) {
	ctx := context.Background()
	url, opt := storetest.URL(t, "results/run-1")
	st, prefix, err := store.Open(ctx, url, opt)
	if err != nil {
		t.Fatal(err)
	}
	local := testenv.Testdata(t, "tapes")
	ents, err := os.ReadDir(local)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(local, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		storetest.Put(t, st, "tapes/"+e.Name(), b)
	}
	tapes := strings.TrimSuffix(url, prefix) + "tapes/"

	base := []string{"--strategy", "passive-back", "--sweep", "stake=2,5", "--s3-endpoint", storetest.Endpoint(t), "--s3-path-style"}
	whole := t.TempDir()
	backtest(t, append(base, "-o", whole, local)...)
	_, wantRows := readCSV(t, dirStore(t, whole), "orders.csv")
	for k := range 2 {
		backtest(t, append(base, "-o", url, "--shard", []string{"0/2", "1/2"}[k], tapes)...)
	}
	if got := shardUnion(t, st, prefix, 2); !slices.Equal(got, joined(wantRows)) {
		t.Errorf("S3 shards have %d orders, the whole run %d", len(got), len(wantRows))
	}
	objs, err := st.List(ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, strings.TrimPrefix(o.Key, prefix))
	}
	want := []string{"/markets/s0of2.csv", "/markets/s0of2.parquet", "/markets/s1of2.csv", "/markets/s1of2.parquet",
		"/orders/s0of2.csv", "/orders/s0of2.parquet", "/orders/s1of2.csv", "/orders/s1of2.parquet", "/run/s0of2.json", "/run/s1of2.json"}
	if !slices.Equal(keys, want) {
		t.Errorf("objects %v, want %v", keys, want)
	}
}

// TestFailedRunLeavesNoFiles: a run stopped before its end (here, its
// context cancelled) commits none of its files, and a shard's earlier
// files stay as they were.
func TestFailedRunLeavesNoFiles(t *testing.T) {
	dir := t.TempDir()
	in := testenv.Testdata(t, "tapes")
	backtest(t, "--strategy", "passive-back", "--shard", "0/2", "-o", dir, in)
	before, err := os.ReadFile(filepath.Join(dir, "orders", "s0of2.csv"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, shard := range []string{"0/2", "1/2"} {
		cmd := tradecli.BacktestCommand(strategies.Builtins())
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		cmd.SetArgs([]string{"--strategy", "passive-back", "--sweep", "stake=2,5", "--shard", shard, "-o", dir, in})
		if err := cmd.ExecuteContext(ctx); err == nil {
			t.Fatalf("shard %s: a cancelled run succeeded", shard)
		}
	}
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return nil
	})
	want := []string{"markets/s0of2.csv", "markets/s0of2.parquet", "orders/s0of2.csv", "orders/s0of2.parquet", "run/s0of2.json"}
	if !slices.Equal(names, want) {
		t.Errorf("files after cancelled runs %v, want only the first run's %v", names, want)
	}
	after, err := os.ReadFile(filepath.Join(dir, "orders", "s0of2.csv"))
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("shard 0's orders changed by a cancelled rerun (%v)", err)
	}
}

package tradecli

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/strategies"
)

// ParseSweep reads --sweep k=v1,v2,... flags into the cartesian product of
// their values, the first flag varying slowest. A key may be swept once and
// not also be fixed with --param (fixed lists those keys).
func ParseSweep(flags []string, fixed strategies.Params) (*Sweep, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	sw := &Sweep{Combos: [][]string{nil}}
	taken := map[string]bool{}
	for _, c := range orderHeader {
		taken[c] = true
	}
	for _, c := range marketHeader {
		taken[c] = true
	}
	taken["params"] = true
	for _, f := range flags {
		k, list, ok := strings.Cut(f, "=")
		if !ok || k == "" || list == "" {
			return nil, fmt.Errorf("--sweep %q: want key=value1,value2,...", f)
		}
		for _, r := range k {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
				return nil, fmt.Errorf("--sweep %q: a parameter name has letters, digits and _ only", f)
			}
		}
		if slices.Contains(sw.Keys, k) {
			return nil, fmt.Errorf("--sweep %q: %s is swept twice; give its values in one --sweep", f, k)
		}
		if _, ok := fixed[k]; ok {
			return nil, fmt.Errorf("--sweep %q: %s is also set with --param", f, k)
		}
		vals := strings.Split(list, ",")
		numeric := true
		for i, v := range vals {
			if v == "" {
				return nil, fmt.Errorf("--sweep %q: value %d is empty", f, i+1)
			}
			if slices.Contains(vals[:i], v) {
				return nil, fmt.Errorf("--sweep %q: value %s is given twice", f, v)
			}
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				numeric = false
			}
		}
		col := k
		if taken[k] {
			col = "param_" + k
		}
		sw.Keys = append(sw.Keys, k)
		sw.Columns = append(sw.Columns, col)
		sw.Numeric = append(sw.Numeric, numeric)
		var next [][]string
		for _, c := range sw.Combos {
			for _, v := range vals {
				next = append(next, append(slices.Clip(c), v))
			}
		}
		sw.Combos = next
	}
	return sw, nil
}

// Params returns the parameters of combination i: fixed plus the swept
// values.
func (s *Sweep) Params(fixed strategies.Params, i int) strategies.Params {
	p := strategies.Params{}
	for k, v := range fixed {
		p[k] = v
	}
	for j, k := range s.Keys {
		p[k] = s.Combos[i][j]
	}
	return p
}

// Totals are one strategy instance's (one combination's) figures over the
// markets of a run.
type Totals struct {
	Markets, Orders, Matched, Violations int
	SizeMatched, Profit, Commission, Net float64
	StrategyErrors                       int
}

// Add counts one market's result and orders.
func (t *Totals) Add(m engine.MarketResult, orders []*engine.Order) {
	t.addRow(marketRow(m))
	for _, o := range orders {
		if o.Status() == engine.Violation {
			t.Violations++
		}
	}
}

// addRow counts one market's row (a live run reads back an earlier run's).
func (t *Totals) addRow(m MarketRow) {
	t.Markets++
	t.Orders += int(m.Orders)
	t.Matched += int(m.OrdersMatched)
	t.StrategyErrors += int(m.StrategyErrors)
	t.SizeMatched += m.SizeMatched
	t.Profit += m.Profit
	t.Commission += m.Commission
	t.Net += m.Net
}

// merge adds another set of totals (another combination's) to t.
func (t *Totals) merge(o Totals) {
	t.Markets += o.Markets
	t.Orders += o.Orders
	t.Matched += o.Matched
	t.Violations += o.Violations
	t.StrategyErrors += o.StrategyErrors
	t.SizeMatched += o.SizeMatched
	t.Profit += o.Profit
	t.Commission += o.Commission
	t.Net += o.Net
}

// round rounds the sums as Result.Profit does.
func (t Totals) round() Totals {
	t.SizeMatched, t.Profit = engine.Round2(t.SizeMatched), engine.Round2(t.Profit)
	t.Commission, t.Net = engine.Round2(t.Commission), engine.Round2(t.Net)
	return t
}

// PrintRanking prints the sweep's combinations ranked by net profit, best
// first, ties by their params label: the order of docs/scale.md's query.
func PrintRanking(w io.Writer, sw *Sweep, totals []Totals) {
	idx := make([]int, len(totals))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		na, nb := totals[a].round().Net, totals[b].round().Net
		switch {
		case na > nb:
			return -1
		case na < nb:
			return 1
		}
		return strings.Compare(sw.Label(a), sw.Label(b))
	})
	fmt.Fprintf(w, "\n%-4s  %10s  %10s  %10s  %7s  %7s  %s\n", "rank", "net", "profit", "volume", "orders", "matched", "params")
	for r, i := range idx {
		t := totals[i].round()
		fmt.Fprintf(w, "%-4d  %10.2f  %10.2f  %10.2f  %7d  %7d  %s\n", r+1, t.Net, t.Profit, t.SizeMatched, t.Orders, t.Matched, sw.Label(i))
	}
}

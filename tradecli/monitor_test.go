package tradecli

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/internal/cli"
)

// TestMetrics scrapes --metrics-addr over HTTP, as Prometheus does, after
// the loop, the betting client and the funds poller have told the monitor
// what happened, and reads every trading metric with Prometheus' own
// parser.
func TestMetrics(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	m := newMonitor(&bytes.Buffer{}, log, time.Minute)
	m.onStatus(engine.RunStatus{Markets: 3, Open: 2, Orders: 12, Violations: 1, Live: 2, Matched: 10, Cancelled: 1, Failed: 1,
		Fills: 17, SizeMatched: 41.5, Exposure: 36.25, Profit: 37.33})
	m.funds.Store(&betting.AccountFunds{AvailableToBetBalance: 1000, Exposure: -100})
	m.request(betting.MethodPlaceOrders, 20*time.Millisecond, nil)
	m.request(betting.MethodPlaceOrders, 30*time.Millisecond, &betting.ExecutionError{Code: betting.ExecInsufficientFunds})
	m.request(betting.MethodCancelOrders, time.Second, &betting.UnknownOutcomeError{Cause: errors.New("dropped")})
	m.onWire(400 * time.Microsecond)
	m.onWire(3 * time.Millisecond)

	stop, err := cli.ServeMetrics("127.0.0.1:0", m.handler(), log)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	var served struct{ Addr string }
	json.Unmarshal(logs.Bytes(), &served)
	resp, err := http.Get("http://" + served.Addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the exposition does not parse: %v", err)
	}
	for _, c := range []struct {
		name string
		typ  dto.MetricType
		want float64
	}{
		{"tapedeck_trade_markets", dto.MetricType_GAUGE, 3},
		{"tapedeck_trade_markets_open", dto.MetricType_GAUGE, 2},
		{"tapedeck_trade_orders_total", dto.MetricType_COUNTER, 12},
		{"tapedeck_trade_orders_matched_total", dto.MetricType_COUNTER, 10},
		{"tapedeck_trade_orders_cancelled_total", dto.MetricType_COUNTER, 1},
		{"tapedeck_trade_orders_failed_total", dto.MetricType_COUNTER, 1},
		{"tapedeck_trade_violations_total", dto.MetricType_COUNTER, 1},
		{"tapedeck_trade_orders_live", dto.MetricType_GAUGE, 2},
		{"tapedeck_trade_fills_total", dto.MetricType_COUNTER, 17},
		{"tapedeck_trade_matched_size_total", dto.MetricType_COUNTER, 41.5},
		{"tapedeck_trade_exposure", dto.MetricType_GAUGE, 36.25},
		{"tapedeck_trade_profit", dto.MetricType_GAUGE, 37.33},
		{"tapedeck_account_balance", dto.MetricType_GAUGE, 1000},
		{"tapedeck_account_exposure", dto.MetricType_GAUGE, -100},
	} {
		f := families[c.name]
		if f == nil || f.GetType() != c.typ || len(f.Metric) != 1 {
			t.Errorf("%s: %v, want one %v", c.name, f, c.typ)
			continue
		}
		if v := f.Metric[0].GetCounter().GetValue() + f.Metric[0].GetGauge().GetValue(); v != c.want {
			t.Errorf("%s = %v, want %v", c.name, v, c.want)
		}
	}
	req := families["tapedeck_trade_request_seconds"]
	counts := map[string]uint64{}
	for _, s := range req.GetMetric() {
		counts[s.GetLabel()[0].GetValue()] = s.GetHistogram().GetSampleCount()
	}
	if req.GetType() != dto.MetricType_HISTOGRAM || counts[betting.MethodPlaceOrders] != 2 || counts[betting.MethodCancelOrders] != 1 {
		t.Errorf("request histogram by method: %v", counts)
	}
	errs := map[string]float64{}
	for _, s := range families["tapedeck_trade_request_errors_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range s.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		errs[labels["method"]+" "+labels["code"]] = s.GetCounter().GetValue()
	}
	if len(errs) != 2 || errs[betting.MethodPlaceOrders+" INSUFFICIENT_FUNDS"] != 1 || errs[betting.MethodCancelOrders+" OUTCOME_UNKNOWN"] != 1 {
		t.Errorf("errors by code: %v", errs)
	}
	wire := families["tapedeck_trade_tick_to_trade_seconds"].GetMetric()
	if len(wire) != 1 || wire[0].GetHistogram().GetSampleCount() != 2 {
		t.Errorf("tick-to-trade histogram: %v", wire)
	}
	if families["process_resident_memory_bytes"] == nil && families["go_goroutines"] == nil {
		t.Error("no process or Go runtime metrics")
	}
}

// TestStatusShown: on a terminal one line redrawn in place, ended by a
// newline at the end; elsewhere slog lines (JSON in cron and systemd).
func TestStatusShown(t *testing.T) {
	s := engine.RunStatus{Markets: 3, Open: 2, Orders: 12, Live: 2, Matched: 10, Exposure: 36.25, Profit: -4.5}
	funds := &betting.AccountFunds{AvailableToBetBalance: 1000, Exposure: -100}
	var term bytes.Buffer
	m := newMonitor(&term, nil, time.Minute)
	m.term = true
	m.show(false) // nothing to show yet
	m.onStatus(s)
	m.show(false)
	m.funds.Store(funds)
	m.final()
	want := "\r\x1b[Kmarkets 3 (2 open) | orders 12: 2 live, 10 matched | exposure 36.25 | P&L -4.50" +
		"\r\x1b[Kmarkets 3 (2 open) | orders 12: 2 live, 10 matched | exposure 36.25 | P&L -4.50 | balance 1000.00 (exposure 100.00)\n"
	if term.String() != want {
		t.Errorf("terminal:\n%q\nwant\n%q", term.String(), want)
	}

	var logs bytes.Buffer
	m = newMonitor(&logs, slog.New(slog.NewJSONHandler(&logs, nil)), time.Minute)
	m.onStatus(s)
	m.funds.Store(funds)
	m.final()
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q", logs.String())
	}
	for k, v := range map[string]any{"msg": "status", "final": true, "orders": 12.0, "live": 2.0, "matched": 10.0, "exposure": 36.25, "profit": -4.5, "balance": 1000.0} {
		if line[k] != v {
			t.Errorf("%s = %v, want %v in %s", k, line[k], v, strings.TrimSpace(logs.String()))
		}
	}
}

package recorder

import (
	"io"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
)

// Metrics are the recorder's counters, served to Prometheus through
// client_golang together with the process (CPU, memory, open files) and Go
// runtime (goroutines, GC, heap) collectors. The counters stay plain atomics,
// so the hot path pays an atomic add, and are read at scrape time.
type Metrics struct {
	Messages       atomic.Int64 // stream lines handled
	Bytes          atomic.Int64 // their bytes, line endings included
	Changes        atomic.Int64 // tape lines written (one per market change)
	Status503      atomic.Int64 // change messages flagged status 503
	Conflated      atomic.Int64 // change messages flagged con
	Late           atomic.Int64 // changes for markets already closed, not written
	Uploads        atomic.Int64 // tapes stored and removed from the spool
	UploadFailures atomic.Int64 // failed upload attempts
	// Latency observes now − pt of every change message, in seconds.
	Latency prometheus.Histogram

	// Reconnects, if set, reports the stream connections' reconnects. Set
	// it before serving the metrics.
	Reconnects func() int64

	closedBytes atomic.Int64
	openGauge   func() (markets, bytes int64)

	reg     *prometheus.Registry
	handler http.Handler
}

// LatencyBuckets are the latency histogram's upper bounds in seconds.
var LatencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// NewMetrics returns zeroed metrics in a registry of their own (not
// Prometheus' global one, so two recorders in one process, as in tests, do
// not collide).
func NewMetrics() *Metrics {
	m := &Metrics{
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tapedeck_record_latency_seconds",
			Help:    "Time from publish (pt) to receipt.",
			Buckets: LatencyBuckets,
		}),
		reg: prometheus.NewRegistry(),
	}
	counter := func(name, help string, v func() int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v()) })
	}
	gauge := func(name, help string, v func() int64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return float64(v()) })
	}
	m.reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
		counter("tapedeck_record_messages_total", "Stream lines received.", m.Messages.Load),
		counter("tapedeck_record_bytes_total", "Bytes of stream lines received.", m.Bytes.Load),
		counter("tapedeck_record_market_changes_total", "Tape lines written (one per market or order change).", m.Changes.Load),
		gauge("tapedeck_record_markets_open", "Markets with an open tape.", func() int64 {
			open, _ := m.open()
			return open
		}),
		gauge("tapedeck_record_spool_bytes", "Bytes of tapes in the spool (open, and closed awaiting upload).", func() int64 {
			_, spool := m.open()
			return spool + m.closedBytes.Load()
		}),
		counter("tapedeck_record_reconnects_total", "Stream reconnections.", func() int64 {
			if m.Reconnects == nil {
				return 0
			}
			return m.Reconnects()
		}),
		counter("tapedeck_record_status_503_total", "Change messages flagged status 503 (stale data).", m.Status503.Load),
		counter("tapedeck_record_conflated_total", "Change messages flagged conflated.", m.Conflated.Load),
		counter("tapedeck_record_late_changes_total", "Changes for markets whose tape was already closed (not written).", m.Late.Load),
		counter("tapedeck_record_uploads_total", "Tapes uploaded and verified.", m.Uploads.Load),
		counter("tapedeck_record_upload_failures_total", "Failed upload attempts (each retried).", m.UploadFailures.Load),
		m.Latency,
	)
	// Errors in collecting are served (HTTP 500 with the cause) rather
	// than hidden, so a broken scrape shows in Prometheus.
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
	return m
}

// open is the open-tape gauge's reading, zero before a recorder sets it.
func (m *Metrics) open() (markets, bytes int64) {
	if m.openGauge == nil {
		return 0, 0
	}
	return m.openGauge()
}

// Registry is where the metrics are registered, for a caller that serves
// them together with its own or adds collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// WriteTo writes every metric in Prometheus' text exposition format
// (version 0.0.4), as a scrape would get it.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	families, err := m.reg.Gather()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, f := range families {
		k, err := expfmt.MetricFamilyToText(w, f)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ServeHTTP serves the metrics for a Prometheus scrape, in whichever
// exposition format the scraper asks for.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.handler.ServeHTTP(w, r)
}

package recorder

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// Metrics are the recorder's counters, written in Prometheus' text
// exposition format by WriteTo (no client library needed).
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
	Latency *Histogram

	// Reconnects, if set, reports the stream connections' reconnects.
	Reconnects func() int64

	closedBytes atomic.Int64
	openGauge   func() (markets, bytes int64)
}

// LatencyBuckets are the latency histogram's upper bounds in seconds.
var LatencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// NewMetrics returns zeroed metrics.
func NewMetrics() *Metrics {
	return &Metrics{Latency: NewHistogram(LatencyBuckets)}
}

// Histogram counts observations into fixed buckets.
type Histogram struct {
	bounds []float64
	mu     sync.Mutex
	counts []uint64 // per bucket, not cumulative; last is +Inf
	sum    float64
	n      uint64
}

// NewHistogram returns a histogram with the given ascending upper bounds.
func NewHistogram(bounds []float64) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

// Observe adds one value.
func (h *Histogram) Observe(v float64) {
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.mu.Lock()
	h.counts[i]++
	h.sum += v
	h.n++
	h.mu.Unlock()
}

func fmtFloat(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// WriteTo writes every metric in the Prometheus text format (version 0.0.4).
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	cw := &countWriter{w: bw}
	metric := func(name, typ, help string, v float64) {
		fmt.Fprintf(cw, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name, help, name, typ, name, fmtFloat(v))
	}
	metric("tapedeck_record_messages_total", "counter", "Stream lines received.", float64(m.Messages.Load()))
	metric("tapedeck_record_bytes_total", "counter", "Bytes of stream lines received.", float64(m.Bytes.Load()))
	metric("tapedeck_record_market_changes_total", "counter", "Tape lines written (one per market or order change).", float64(m.Changes.Load()))
	var open, spool int64
	if m.openGauge != nil {
		open, spool = m.openGauge()
	}
	metric("tapedeck_record_markets_open", "gauge", "Markets with an open tape.", float64(open))
	metric("tapedeck_record_spool_bytes", "gauge", "Bytes of tapes in the spool (open, and closed awaiting upload).", float64(spool+m.closedBytes.Load()))
	var rc int64
	if m.Reconnects != nil {
		rc = m.Reconnects()
	}
	metric("tapedeck_record_reconnects_total", "counter", "Stream reconnections.", float64(rc))
	metric("tapedeck_record_status_503_total", "counter", "Change messages flagged status 503 (stale data).", float64(m.Status503.Load()))
	metric("tapedeck_record_conflated_total", "counter", "Change messages flagged conflated.", float64(m.Conflated.Load()))
	metric("tapedeck_record_late_changes_total", "counter", "Changes for markets whose tape was already closed (not written).", float64(m.Late.Load()))
	metric("tapedeck_record_uploads_total", "counter", "Tapes uploaded and verified.", float64(m.Uploads.Load()))
	metric("tapedeck_record_upload_failures_total", "counter", "Failed upload attempts (each retried).", float64(m.UploadFailures.Load()))

	h := m.Latency
	const name = "tapedeck_record_latency_seconds"
	fmt.Fprintf(cw, "# HELP %s Time from publish (pt) to receipt.\n# TYPE %s histogram\n", name, name)
	h.mu.Lock()
	var cum uint64
	for i, c := range h.counts {
		cum += c
		le := math.Inf(1)
		if i < len(h.bounds) {
			le = h.bounds[i]
		}
		fmt.Fprintf(cw, "%s_bucket{le=\"%s\"} %d\n", name, fmtFloat(le), cum)
	}
	fmt.Fprintf(cw, "%s_sum %s\n%s_count %d\n", name, fmtFloat(h.sum), name, h.n)
	h.mu.Unlock()
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	return cw.n, cw.err
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// ServeHTTP serves the metrics for a Prometheus scrape.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.WriteTo(w)
}

package cli

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ServeMetrics serves h at /metrics on addr (--metrics-addr) until the
// returned stop is called; a bad address is a *UsageError. The address
// listened on (addr may say port 0) is logged.
func ServeMetrics(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("--metrics-addr: %w", err)}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	log.Info("serving metrics", "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}

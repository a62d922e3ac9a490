package esa_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
)

func tlsFor(tb testing.TB, caFile string) *tls.Config {
	tb.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{RootCAs: pool}
}

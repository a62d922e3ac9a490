package esa_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// TestClientMultiMBLine: a SUB_IMAGE line of several MB crosses the TLS
// socket in many records and reaches the handler whole and byte-identical,
// followed by the next line. No real message that large is in the shared
// data, so the line is a real SUB_IMAGE whose market changes are repeated
// until it passes 5 MB.
func TestClientMultiMBLine(t *testing.T) {
	raw, err := os.ReadFile(testenv.Testdata(t, "messages/streaming_mcm_SUB_IMAGE_no_market_def.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	img := bytes.TrimSpace(raw)
	open := bytes.Index(img, []byte(`"mc":[`)) + len(`"mc":[`)
	elems := img[open : len(img)-2] // the mc elements, without "]}"
	big := append([]byte(nil), img[:open]...)
	for len(big) < 5<<20 {
		if big[len(big)-1] != '[' {
			big = append(big, ',')
		}
		big = append(big, elems...)
	}
	big = append(big, "]}"...)
	heartbeat := `{"op":"mcm","id":2,"clk":"APIDAO4EAK8D","pt":1471370165625,"ct":"HEARTBEAT"}` // mcm_heartbeat.json

	// A bare TLS server with httptest's certificate: it answers as the
	// exchange would, in one write.
	hs := httptest.NewUnstartedServer(nil)
	hs.StartTLS()
	defer hs.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", hs.TLS)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		var out []byte
		out = append(out, `{"op":"connection","connectionId":"002-051134157842-432409"}`+"\r\n"...)
		out = append(out, `{"op":"status","id":1,"statusCode":"SUCCESS","connectionClosed":false}`+"\r\n"...)
		out = append(out, `{"op":"status","id":2,"statusCode":"SUCCESS","connectionClosed":false}`+"\r\n"...)
		out = append(out, big...)
		out = append(out, "\r\n"+heartbeat+"\r\n"...)
		conn.Write(out)
		buf := make([]byte, 4096)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
		}
	}()

	pool := x509.NewCertPool()
	pool.AddCert(hs.Certificate())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got [][]byte
	c, err := esa.NewClient(esa.ClientConfig{Addr: ln.Addr().String(), AppKey: "k",
		TLS:     &tls.Config{RootCAs: pool, ServerName: "example.com"},
		Session: func(context.Context) (string, error) { return "s", nil },
		Market:  &esa.MarketSubscription{},
		Handler: func(line []byte, m *esa.Message) error {
			got = append(got, append([]byte(nil), line...))
			if m.Ct == esa.ChangeTypeHeartbeat {
				cancel()
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(ctx); err != context.Canceled {
		t.Fatalf("Run: %v", err)
	}
	if len(got) != 5 || !bytes.Equal(got[3], big) || string(got[4]) != heartbeat {
		t.Fatalf("%d lines; the big one (%d bytes) intact: %v", len(got), len(big), len(got) > 3 && bytes.Equal(got[3], big))
	}
	if st := c.Stats(); st.Bytes < int64(len(big)) {
		t.Errorf("bytes counted %d", st.Bytes)
	}
}

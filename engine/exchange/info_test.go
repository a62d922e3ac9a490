package exchange

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheckLoopback(t *testing.T) {
	for _, c := range []struct {
		endpoints []string
		bad       string
	}{
		{[]string{"127.0.0.1:443", "https://localhost:8443", "https://[::1]:9000/api"}, ""},
		{[]string{"127.0.0.1:443", "203.0.113.5:443"}, "203.0.113.5:443"},
		{[]string{"https://exchange.example.com"}, "exchange.example.com"},
		{[]string{"https://10.0.0.1:443"}, "10.0.0.1"},
	} {
		err := CheckLoopback(c.endpoints...)
		if c.bad == "" && err != nil {
			t.Errorf("%v: %v", c.endpoints, err)
		}
		if c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)) {
			t.Errorf("%v: got %v, want an error naming %s", c.endpoints, err, c.bad)
		}
	}
}

func TestReadInfoWaitsForTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exchange.json")
	go func() {
		time.Sleep(200 * time.Millisecond)
		os.WriteFile(path+".tmp", []byte(`{"stream":"127.0.0.1:1","identity":"https://127.0.0.1:2","betting":"https://127.0.0.1:2","ca":"ca.pem"}`), 0o600)
		os.Rename(path+".tmp", path)
	}()
	info, err := ReadInfo(context.Background(), path, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if info.Stream != "127.0.0.1:1" || info.CA != "ca.pem" {
		t.Errorf("info %+v", info)
	}
	if _, err := ReadInfo(context.Background(), filepath.Join(t.TempDir(), "never"), 0); err == nil || !strings.Contains(err.Error(), "waited") {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{}`), 0o600)
	if _, err := ReadInfo(context.Background(), bad, time.Minute); err == nil || !strings.Contains(err.Error(), "not the JSON") {
		t.Errorf("bad file: %v", err)
	}
}

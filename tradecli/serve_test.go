package tradecli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// TestServeCommand runs `trade serve` in-process, reads its --info file, and
// checks a stream client logs in over HTTPS, authenticates and is refused
// its subscription as --subscription-limit asks.
func TestServeCommand(t *testing.T) {
	info := filepath.Join(t.TempDir(), "exchange.json")
	root := NewCommand(strategies.Builtins())
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"serve", testenv.Testdata(t, "tapes/1.197931750"), "--speed", "0", "--info", info,
		"--subscription-limit", "--log-level", "warn"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	var in exchange.Info
	for i := 0; ; i++ {
		b, err := os.ReadFile(info)
		if err == nil && json.Unmarshal(b, &in) == nil {
			break
		}
		if i > 500 {
			t.Fatalf("no info file: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.HasPrefix(in.Identity, "https://127.0.0.1:") || !strings.HasPrefix(in.Stream, "127.0.0.1:") || in.CA == "" {
		t.Fatalf("info %+v", in)
	}
	// Log in over HTTPS, then subscribe: --subscription-limit refuses.
	login := func(ctx context.Context) (string, error) {
		pem, err := os.ReadFile(in.CA)
		if err != nil {
			return "", err
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		req, _ := http.NewRequestWithContext(ctx, "POST", in.Identity+"/api/login",
			strings.NewReader(url.Values{"username": {"u"}, "password": {"p"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Application", "k")
		resp, err := hc.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var ans struct{ Token, Status string }
		if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || ans.Status != "SUCCESS" {
			return "", fmt.Errorf("login: %v %+v", err, ans)
		}
		return ans.Token, nil
	}
	c, err := esa.NewClient(esa.ClientConfig{Addr: in.Stream, CAFile: in.CA, AppKey: "k",
		Session: login, Market: &esa.MarketSubscription{},
		Handler: func([]byte, *esa.Message) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	var st *esa.StatusError
	if err := c.Run(ctx); !errors.As(err, &st) || st.Code != "SUBSCRIPTION_LIMIT_EXCEEDED" {
		t.Fatalf("Run: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if !strings.Contains(out.String(), "stream    "+in.Stream) {
		t.Errorf("output:\n%s", out.String())
	}
	if _, err := os.Stat(info); !os.IsNotExist(err) {
		t.Errorf("info file left behind: %v", err)
	}
}

func TestServeUsage(t *testing.T) {
	for _, args := range [][]string{
		{"serve"},
		{"serve", "x", "--speed", "-1"},
		{"serve", "x", "--drop-after", "many"},
		{"serve", "x", "--betting", "--currency", "XYZ"},
		{"serve", "x", "--currency", "AUD"},
		{"nosuch"},
	} {
		root := NewCommand(strategies.Builtins())
		root.SetArgs(args)
		root.SetOut(&bytes.Buffer{})
		root.SetErr(&bytes.Buffer{})
		if code := cli.ExitCode(root.Execute()); code != cli.ExitUsage {
			t.Errorf("%v: exit code %d, want %d", args, code, cli.ExitUsage)
		}
	}
}

package esa

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/internal/testenv"
)

// compact reads a real message file and returns it as one line.
func compact(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v) // compacts, keeping key order
	return string(out)
}

func testClient(t *testing.T, whole bool, handler func(line []byte, m *Message) error) *Client {
	t.Helper()
	c, err := NewClient(ClientConfig{Addr: "127.0.0.1:1", AppKey: "k",
		Session: func(context.Context) (string, error) { return "s", nil },
		Market:  &MarketSubscription{}, WholeImages: whole, Handler: handler})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClientClocks: clocks are kept from whole messages only (unsegmented or
// SEG_END); with WholeImages the segments of an image are handed over
// together at SEG_END. The segments are a real SUB_IMAGE marked as Betfair
// marks segments (no segmented message is in the shared data).
func TestClientClocks(t *testing.T) {
	img := strings.TrimSpace(string(must(os.ReadFile(testenv.Testdata(t, "messages/streaming_mcm_SUB_IMAGE.jsonl")))))
	seg := func(kind, clk string) string {
		s := strings.Replace(img, `"ct":"SUB_IMAGE"`, `"ct":"SUB_IMAGE","segmentType":"`+kind+`"`, 1)
		if clk == "" {
			s = strings.Replace(s, `"initialClk":"ab34r43r","clk":"AAAAAAAA",`, "", 1)
		} else {
			s = strings.Replace(s, `"initialClk":"ab34r43r","clk":"AAAAAAAA"`, `"initialClk":"ini2","clk":"`+clk+`"`, 1)
		}
		return s
	}
	heartbeat := compact(t, testenv.Shared(t, "data/messages/mcm_heartbeat.json"))
	type want struct {
		ini, clk  string
		delivered int
	}
	for _, whole := range []bool{false, true} {
		var got []string
		c := testClient(t, whole, func(line []byte, m *Message) error {
			got = append(got, string(line))
			return nil
		})
		steps := []struct {
			line string
			want want
		}{
			{img, want{"ab34r43r", "AAAAAAAA", 1}},
			{seg("SEG_START", ""), want{"ab34r43r", "AAAAAAAA", 2}},
			{seg("SEG", ""), want{"ab34r43r", "AAAAAAAA", 3}},
			{seg("SEG_END", "CLK3"), want{"ini2", "CLK3", 4}},
			{heartbeat, want{"ini2", "APIDAO4EAK8D", 5}},
		}
		for i, st := range steps {
			if _, err := c.line([]byte(st.line)); err != nil {
				t.Fatal(err)
			}
			ini, clk := c.MarketClocks()
			delivered := st.want.delivered
			if whole && (i == 1 || i == 2) {
				delivered = 1 // held back until SEG_END
			}
			if ini != st.want.ini || clk != st.want.clk || len(got) != delivered {
				t.Errorf("whole=%v step %d: clocks %q %q, %d delivered; want %q %q, %d",
					whole, i, ini, clk, len(got), st.want.ini, st.want.clk, delivered)
			}
		}
		for i, st := range steps {
			if got[i] != st.line {
				t.Errorf("whole=%v: line %d delivered out of order", whole, i)
			}
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestClientStatus: what each FAILURE status makes the client do.
func TestClientStatus(t *testing.T) {
	base := compact(t, testenv.Shared(t, "data/messages/status_error.json")) // a real TIMEOUT
	for _, tc := range []struct {
		code                    string
		fatal, relogin, backoff bool
	}{
		{"TIMEOUT", false, false, false},
		{"INVALID_SESSION_INFORMATION", false, true, false},
		{"NO_SESSION", false, true, false},
		{"SUBSCRIPTION_LIMIT_EXCEEDED", true, false, false},
		{"INVALID_APP_KEY", true, false, false},
		{"NO_APP_KEY", true, false, false},
		{"NOT_AUTHORIZED", true, false, false},
		{"TOO_MANY_REQUESTS", false, false, true},
		{"MAX_CONNECTION_LIMIT_EXCEEDED", false, false, true},
		{"INVALID_CLOCK", false, false, false},
	} {
		c := testClient(t, false, func([]byte, *Message) error { return nil })
		c.mktInitial, c.mktClk = "a", "b"
		line := strings.Replace(base, `"TIMEOUT"`, `"`+tc.code+`"`, 1)
		_, err := c.line([]byte(line))
		var st *StatusError
		var rl *errRelogin
		var bo *errBackoff
		switch {
		case tc.relogin:
			if !errors.As(err, &rl) || rl.st.Code != tc.code {
				t.Errorf("%s: %v, want a relogin", tc.code, err)
			}
		case tc.backoff:
			if !errors.As(err, &bo) {
				t.Errorf("%s: %v, want a back-off", tc.code, err)
			}
		default:
			if !errors.As(err, &st) || st.Code != tc.code || st.Fatal() != tc.fatal {
				t.Errorf("%s: %v, want a StatusError with Fatal %v", tc.code, err, tc.fatal)
			}
		}
		if ini, clk := c.MarketClocks(); (tc.code == "INVALID_CLOCK") != (ini == "" && clk == "") {
			t.Errorf("%s: clocks %q %q after the status", tc.code, ini, clk)
		}
	}
	// A SUCCESS status, a 503 change message and a conflated change are
	// not errors.
	c := testClient(t, false, func([]byte, *Message) error { return nil })
	for _, f := range []string{"status.json", "streaming_503.json", "mcm_con_true.json"} {
		if _, err := c.line([]byte(compact(t, testenv.Shared(t, "data/messages/"+f)))); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if st := c.Stats(); st.Status503 != 1 || st.Conflated != 1 || st.Messages != 0 {
		t.Errorf("counted %+v, want one 503 and one conflated change (messages are counted by the reader)", st)
	}
}

// TestClientWatchdogInterval: twice the shortest heartbeat in force, the
// server's echo winning over what was asked.
func TestClientWatchdogInterval(t *testing.T) {
	for _, tc := range []struct {
		name             string
		market, order    *int64
		mktEcho, ordEcho int64
		want             time.Duration
	}{
		{"default", ptr(0), nil, 0, 0, 10 * time.Second},
		{"asked", ptr(1000), nil, 0, 0, 2 * time.Second},
		{"asked below the bound", ptr(100), nil, 0, 0, time.Second},
		{"echoed", ptr(1000), nil, 3000, 0, 6 * time.Second},
		{"shortest of two", ptr(4000), ptr(500), 0, 0, time.Second},
		{"order only", nil, ptr(2000), 0, 0, 4 * time.Second},
	} {
		c := &Client{}
		if tc.market != nil {
			c.cfg.Market = &MarketSubscription{HeartbeatMs: *tc.market}
		}
		if tc.order != nil {
			c.cfg.Order = &OrderSubscription{HeartbeatMs: *tc.order}
		}
		c.mktHB, c.ordHB = tc.mktEcho, tc.ordEcho
		if got := c.watchdog(); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func ptr(v int64) *int64 { return &v }

// TestClientBackoff: the delay doubles from MinBackoff to MaxBackoff and is
// jittered down by at most half.
func TestClientBackoff(t *testing.T) {
	c := testClient(t, false, func([]byte, *Message) error { return nil })
	c.cfg.MinBackoff, c.cfg.MaxBackoff = 100*time.Millisecond, 3*time.Second
	for n := range 30 {
		full := min(c.cfg.MinBackoff<<min(n, 20), c.cfg.MaxBackoff)
		for range 50 {
			if d := c.backoff(n); d < full/2 || d > full {
				t.Fatalf("attempt %d: %v outside [%v, %v]", n, d, full/2, full)
			}
		}
	}
}

func TestNewClientChecks(t *testing.T) {
	ok := ClientConfig{Addr: "127.0.0.1:1", AppKey: "k", Session: func(context.Context) (string, error) { return "", nil },
		Market: &MarketSubscription{}, Handler: func([]byte, *Message) error { return nil }}
	for _, tc := range []struct {
		name  string
		tweak func(*ClientConfig)
	}{
		{"no address", func(c *ClientConfig) { c.Addr = "" }},
		{"no app key", func(c *ClientConfig) { c.AppKey = "" }},
		{"no session", func(c *ClientConfig) { c.Session = nil }},
		{"no subscription", func(c *ClientConfig) { c.Market = nil }},
		{"no handler", func(c *ClientConfig) { c.Handler = nil }},
		{"missing CA file", func(c *ClientConfig) { c.CAFile = "/nonexistent/ca.pem" }},
		{"CA file without PEM", func(c *ClientConfig) { c.CAFile = "client_unit_test.go" }},
		{"address without port", func(c *ClientConfig) { c.Addr = "localhost" }},
	} {
		cfg := ok
		tc.tweak(&cfg)
		if _, err := NewClient(cfg); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if _, err := NewClient(ok); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

package exchange

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

func start(t *testing.T, cfg Config) *Exchange {
	t.Helper()
	if cfg.Tapes == nil {
		cfg.Tapes = []string{testenv.Testdata(t, "tapes/1.197931750"), testenv.Testdata(t, "tapes/1.197931751")}
	}
	ex, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ex.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ex
}

// httpsClient trusts the exchange's certificate and, with cert, presents a
// client certificate (any will do for certlogin).
func httpsClient(t *testing.T, ex *Exchange, clientCert bool) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(ex.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool}
	if clientCert {
		c, err := newCertificate(t.TempDir() + "/client.pem")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
}

func post(t *testing.T, c *http.Client, u string, hdr map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: not JSON: %s", u, b)
	}
	if m, ok := v.(map[string]any); ok {
		return resp.StatusCode, m
	}
	return resp.StatusCode, map[string]any{"array": v}
}

func TestLogin(t *testing.T) {
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-Application": "app", "Accept": "application/json"}
	creds := url.Values{"username": {"u"}, "password": {"p"}}.Encode()
	for _, tc := range []struct {
		name   string
		refuse bool
		cert   bool
		path   string
		key    string // answer key holding the outcome
		want   string
	}{
		{"interactive", false, false, "/api/login", "status", "SUCCESS"},
		{"interactive refused", true, false, "/api/login", "error", "INVALID_USERNAME_OR_PASSWORD"},
		{"cert", false, true, "/api/certlogin", "loginStatus", "SUCCESS"},
		{"cert without certificate", false, false, "/api/certlogin", "loginStatus", "CERT_AUTH_REQUIRED"},
		{"cert refused", true, true, "/api/certlogin", "loginStatus", "INVALID_USERNAME_OR_PASSWORD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := start(t, Config{Faults: Faults{RefuseLogin: tc.refuse}})
			c := httpsClient(t, ex, tc.cert)
			_, ans := post(t, c, ex.Info().Identity+tc.path, form, creds)
			if ans[tc.key] != tc.want {
				t.Fatalf("answer %v, want %s=%s", ans, tc.key, tc.want)
			}
			if tc.want != "SUCCESS" {
				return
			}
			tok, _ := ans["token"].(string)
			if tok == "" {
				tok, _ = ans["sessionToken"].(string)
			}
			auth := map[string]string{"X-Application": "app", "X-Authentication": tok, "Accept": "application/json"}
			if _, a := post(t, c, ex.Info().Identity+"/api/keepAlive", auth, ""); a["status"] != "SUCCESS" || a["token"] != tok {
				t.Errorf("keepAlive: %v", a)
			}
			if _, a := post(t, c, ex.Info().Identity+"/api/logout", auth, ""); a["status"] != "SUCCESS" {
				t.Errorf("logout: %v", a)
			}
			if _, a := post(t, c, ex.Info().Identity+"/api/keepAlive", auth, ""); a["status"] != "FAIL" || a["error"] != "NO_SESSION" {
				t.Errorf("keepAlive after logout: %v", a)
			}
		})
	}
}

func TestListMarketCatalogue(t *testing.T) {
	dir := testenv.Testdata(t, "tapes")
	ex := start(t, Config{Tapes: []string{dir + "/1.197931750", dir + "/BASIC-1.132153978"}})
	c := httpsClient(t, ex, false)
	hdr := map[string]string{"X-Application": "app", "X-Authentication": ex.NewSession(), "Content-Type": "application/json"}
	params := `{"filter":{"marketIds":["1.197931750","1.132153978"]},"marketProjection":["RUNNER_DESCRIPTION","EVENT","EVENT_TYPE","MARKET_START_TIME"],"maxResults":10}`

	_, rpc := post(t, c, ex.Info().Betting+"/exchange/betting/json-rpc/v1", hdr,
		`{"jsonrpc":"2.0","method":"SportsAPING/v1.0/listMarketCatalogue","params":`+params+`,"id":7}`)
	_, rest := post(t, c, ex.Info().Betting+"/exchange/betting/rest/v1.0/listMarketCatalogue/", hdr, params)
	rpcRes, _ := json.Marshal(rpc["result"])
	restRes, _ := json.Marshal(rest["array"])
	if !bytes.Equal(rpcRes, restRes) || rpc["id"] != 7.0 {
		t.Fatalf("JSON-RPC and REST differ:\n%s\n%s", rpcRes, restRes)
	}
	var got []map[string]any
	json.Unmarshal(rpcRes, &got)
	if len(got) != 2 {
		t.Fatalf("%d markets, want 2: %s", len(got), rpcRes)
	}
	// 1.197931750 comes from testdata/catalogues (../catalogues from the
	// tape): its names; no description (not projected), no runner metadata.
	m := got[0]
	if m["marketName"] != "OR 280m" || m["description"] != nil || m["op"] != nil {
		t.Errorf("catalogue file entry: %v", m)
	}
	if ev, _ := m["event"].(map[string]any); ev["venue"] != "Sheffield" {
		t.Errorf("event: %v", m["event"])
	}
	runners, _ := m["runners"].([]any)
	if len(runners) != 6 || runners[0].(map[string]any)["metadata"] != nil || runners[0].(map[string]any)["runnerName"] != "1. Paradise Mission" {
		t.Errorf("runners: %v", runners)
	}
	if et := toJSON(m["eventType"]); et != `{"id":"4339","name":"Greyhound Racing"}` {
		t.Errorf("catalogue file's eventType: %s", et)
	}
	// 1.132153978 has no catalogue: built from its definition, which has
	// the event type's id only; Betfair always names it too.
	if m := got[1]; m["marketId"] != "1.132153978" || m["marketStartTime"] == nil || m["runners"] == nil {
		t.Errorf("entry from the definition: %v", m)
	}
	if et := toJSON(got[1]["eventType"]); et != `{"id":"7","name":"Horse Racing"}` {
		t.Errorf("eventType from the definition: %s", et)
	}

	hdr["X-Authentication"] = "unknown"
	_, bad := post(t, c, ex.Info().Betting+"/exchange/betting/json-rpc/v1", hdr,
		`{"jsonrpc":"2.0","method":"SportsAPING/v1.0/listMarketCatalogue","params":{},"id":1}`)
	if !strings.Contains(toJSON(bad), "INVALID_SESSION_INFORMATION") {
		t.Errorf("unknown session: %v", bad)
	}
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestImageRoundTrip: a market written by appendImage and applied to a new
// cache gives the book of the cache it was written from, for every line of
// real tapes (ladders of every kind, SP, handicaps, removed runners).
func TestImageRoundTrip(t *testing.T) {
	for _, name := range []string{"tapes/1.197931750", "tapes/BASIC-1.132153978", "tapes/1.205822330.bz2"} {
		t.Run(name, func(t *testing.T) {
			r, err := loadReplay(context.Background(), &Config{Tapes: []string{testenv.Testdata(t, name)}})
			if err != nil {
				t.Fatal(err)
			}
			src := book.NewMarketCache(book.Options{})
			dec := esa.NewDecoder()
			var msg esa.Message
			step := max(1, len(r.events)/50) // about 50 images per tape
			for i, ev := range r.events {
				line := `{"op":"mcm","pt":` + itoa(ev.pt) + `,"mc":[` + string(ev.raw) + `]}`
				if err := dec.Decode([]byte(line), &msg); err != nil {
					t.Fatal(err)
				}
				src.Apply(&msg)
				if i%step != 0 && i != len(r.events)-1 {
					continue
				}
				m := src.Markets()[0]
				img := `{"op":"mcm","pt":` + itoa(ev.pt) + `,"mc":[` + string(appendImage(nil, m)) + `]}`
				dst := book.NewMarketCache(book.Options{})
				if err := esa.NewDecoder().Decode([]byte(img), &msg); err != nil {
					t.Fatalf("change %d: image does not decode: %v\n%.300s", i, err, img)
				}
				dst.Apply(&msg)
				want := bookWithoutUpdate(m)
				got := bookWithoutUpdate(dst.Markets()[0])
				if got != want {
					k := 0
					for k < len(got) && k < len(want) && got[k] == want[k] {
						k++
					}
					t.Fatalf("change %d: book from the image differs at byte %d\n got %.300s\nwant %.300s", i, k, got[max(0, k-100):], want[max(0, k-100):])
				}
				// Decode the source line again: dec's Message was reused.
				dec.Decode([]byte(line), &msg)
			}
		})
	}
}

// bookWithoutUpdate is a market's book minus "streaming_update" (the last
// change as received, which an image replaces by design), with runners in
// selection order: a book lists runners in the order first seen, which an
// image resets to its definition's order (as Betfair's own images do).
func bookWithoutUpdate(m *book.Market) string {
	var v map[string]any
	json.Unmarshal(m.AppendLightweightJSON(nil, book.JSONOptions{}), &v)
	delete(v, "streaming_update")
	runners, _ := v["runners"].([]any)
	sort.Slice(runners, func(i, j int) bool {
		a, b := runners[i].(map[string]any), runners[j].(map[string]any)
		return a["selectionId"].(float64) < b["selectionId"].(float64) ||
			a["selectionId"] == b["selectionId"] && a["handicap"].(float64) < b["handicap"].(float64)
	})
	return toJSON(v)
}

func TestMatches(t *testing.T) {
	yes, no := true, false
	def := &esa.MarketDefinition{EventTypeID: "4339", EventID: "31389771", CountryCode: "GB", MarketType: "WIN",
		Venue: "Sheffield", BettingType: "ODDS", BspMarket: true, RaceType: "Flat"}
	m := &market{id: "1.197931750", def: def}
	bare := &market{id: "1.2"}
	for _, tc := range []struct {
		name string
		f    *esa.MarketFilter
		m    *market
		want bool
	}{
		{"no filter", nil, m, true},
		{"empty filter", &esa.MarketFilter{}, bare, true},
		{"market id", &esa.MarketFilter{MarketIDs: []string{"1.197931750"}}, m, true},
		{"other market id", &esa.MarketFilter{MarketIDs: []string{"1.1"}}, m, false},
		{"event type", &esa.MarketFilter{EventTypeIDs: []string{"7", "4339"}}, m, true},
		{"event type other", &esa.MarketFilter{EventTypeIDs: []string{"7"}}, m, false},
		{"event", &esa.MarketFilter{EventIDs: []string{"31389771"}}, m, true},
		{"country", &esa.MarketFilter{CountryCodes: []string{"IE"}}, m, false},
		{"market type", &esa.MarketFilter{MarketTypes: []string{"WIN"}}, m, true},
		{"venue", &esa.MarketFilter{Venues: []string{"Romford"}}, m, false},
		{"betting type", &esa.MarketFilter{BettingTypes: []string{"ODDS"}}, m, true},
		{"bsp", &esa.MarketFilter{BspMarket: &yes}, m, true},
		{"not bsp", &esa.MarketFilter{BspMarket: &no}, m, false},
		{"in play", &esa.MarketFilter{TurnInPlayEnabled: &yes}, m, false},
		{"race type", &esa.MarketFilter{RaceTypes: []string{"Flat"}}, m, true},
		{"needs a definition", &esa.MarketFilter{EventTypeIDs: []string{"7"}}, bare, false},
	} {
		if got := matches(tc.f, tc.m); got != tc.want {
			t.Errorf("%s: matches = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestStreamFilter: a subscription to one market gets that market only.
func TestStreamFilter(t *testing.T) {
	ex := start(t, Config{})
	conn, err := tls.Dial("tcp", ex.Addr(), httpsClient(t, ex, false).Transport.(*http.Transport).TLSClientConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var req []byte
	req, _ = esa.AppendRequest(req, esa.Authentication{Op: esa.OpAuthentication, ID: 1, AppKey: "k", Session: ex.NewSession()})
	req, _ = esa.AppendRequest(req, esa.MarketSubscription{Op: esa.OpMarketSubscription, ID: 2,
		MarketFilter: &esa.MarketFilter{MarketIDs: []string{"1.197931751"}}})
	conn.Write(req)
	sc := bufio.NewScanner(conn)
	sc.Buffer(nil, 16<<20)
	dec := esa.NewDecoder()
	var m esa.Message
	var ops []string
	for n := 0; n < 40 && sc.Scan(); n++ {
		if err := dec.Decode(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		ops = append(ops, m.Op.String())
		for i := range m.MC {
			if string(m.MC[i].ID) != "1.197931751" {
				t.Fatalf("market %s sent to a subscription of 1.197931751 only", m.MC[i].ID)
			}
		}
	}
	if strings.Join(ops[:3], ",") != "connection,status,status" || len(ops) != 40 {
		t.Errorf("ops %v", ops)
	}
}

// streamLines opens a stream connection, sends reqs and returns a function
// reading the next line.
func streamLines(t *testing.T, ex *Exchange, reqs ...any) func() string {
	t.Helper()
	conn, err := tls.Dial("tcp", ex.Addr(), httpsClient(t, ex, false).Transport.(*http.Transport).TLSClientConfig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var out []byte
	for _, r := range reqs {
		out, _ = esa.AppendRequest(out, r)
	}
	conn.Write(out)
	sc := bufio.NewScanner(conn)
	sc.Buffer(nil, 16<<20)
	return func() string {
		if !sc.Scan() {
			t.Fatalf("stream ended: %v", sc.Err())
		}
		return sc.Text()
	}
}

// TestStreamResubscribeAtEnd: resubscribing with the clock of the end of the
// replay gives a RESUB_DELTA with nothing to patch, then heartbeats, in
// Betfair's shapes.
func TestStreamResubscribeAtEnd(t *testing.T) {
	ex := start(t, Config{})
	_, n := ex.Markets()
	clk := itoa(int64(n))
	next := streamLines(t, ex,
		esa.Authentication{Op: esa.OpAuthentication, ID: 1, AppKey: "k", Session: ex.NewSession()},
		esa.MarketSubscription{Op: esa.OpMarketSubscription, ID: 2, HeartbeatMs: 500, InitialClk: "0", Clk: clk})
	if l := next(); !strings.HasPrefix(l, `{"op":"connection","connectionId":"`) {
		t.Errorf("first line %s", l)
	}
	for _, want := range []string{
		`{"op":"status","id":1,"statusCode":"SUCCESS","connectionClosed":false}`,
		`{"op":"status","id":2,"statusCode":"SUCCESS","connectionClosed":false}`,
	} {
		if l := next(); l != want {
			t.Errorf("got %s, want %s", l, want)
		}
	}
	resub := next()
	if !strings.HasPrefix(resub, `{"op":"mcm","id":2,"initialClk":"0","clk":"`+clk+`","conflateMs":0,"heartbeatMs":500,"pt":`) ||
		!strings.HasSuffix(resub, `,"ct":"RESUB_DELTA"}`) {
		t.Errorf("RESUB_DELTA %s", resub)
	}
	hb := next()
	if !strings.HasPrefix(hb, `{"op":"mcm","id":2,"clk":"`+clk+`","pt":`) || !strings.HasSuffix(hb, `,"ct":"HEARTBEAT"}`) {
		t.Errorf("heartbeat %s", hb)
	}
}

// TestStreamStatusFailures: the FAILURE statuses a client must handle, in
// Betfair's shape (as status_error.json), each closing the connection.
func TestStreamStatusFailures(t *testing.T) {
	ex := start(t, Config{AppKey: "right"})
	for _, tc := range []struct {
		name string
		req  any
		code string
	}{
		{"no app key", esa.Authentication{Op: esa.OpAuthentication, ID: 1, Session: "s"}, "NO_APP_KEY"},
		{"wrong app key", esa.Authentication{Op: esa.OpAuthentication, ID: 1, AppKey: "wrong", Session: "s"}, "INVALID_APP_KEY"},
		{"no session", esa.Authentication{Op: esa.OpAuthentication, ID: 1, AppKey: "right"}, "NO_SESSION"},
		{"unknown session", esa.Authentication{Op: esa.OpAuthentication, ID: 1, AppKey: "right", Session: "s"}, "INVALID_SESSION_INFORMATION"},
		{"subscribe first", esa.MarketSubscription{Op: esa.OpMarketSubscription, ID: 2}, "NO_SESSION"},
		{"bad clock", nil, "INVALID_CLOCK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reqs := []any{tc.req}
			if tc.req == nil {
				reqs = []any{esa.Authentication{Op: esa.OpAuthentication, ID: 1, AppKey: "right", Session: ex.NewSession()},
					esa.MarketSubscription{Op: esa.OpMarketSubscription, ID: 2, InitialClk: "5", Clk: "4"}}
			}
			next := streamLines(t, ex, reqs...)
			next() // connection
			l := next()
			if tc.req == nil {
				l = next()
			}
			var st struct {
				Op, StatusCode, ErrorCode, ErrorMessage, ConnectionID string
				ConnectionClosed                                      bool
			}
			if err := json.Unmarshal([]byte(l), &st); err != nil {
				t.Fatal(err)
			}
			if st.Op != "status" || st.StatusCode != "FAILURE" || st.ErrorCode != tc.code || !st.ConnectionClosed ||
				st.ErrorMessage == "" || st.ConnectionID == "" {
				t.Errorf("status %s, want a FAILURE %s closing the connection", l, tc.code)
			}
		})
	}
}

// TestStreamIdleTimeout: a connection left without a subscription is
// closed with TIMEOUT, in the shape of Betfair's (status_error.json).
func TestStreamIdleTimeout(t *testing.T) {
	ex := start(t, Config{IdleTimeout: 50 * time.Millisecond})
	next := streamLines(t, ex)
	next() // connection
	want := `{"op":"status","statusCode":"FAILURE","errorCode":"TIMEOUT","errorMessage":"Connection is not subscribed and is idle: 50 ms","connectionClosed":true,"connectionId":"`
	if l := next(); !strings.HasPrefix(l, want) {
		t.Errorf("got  %s\nwant %s...", l, want)
	}
}

// TestStreamOrders: the order changes of an ORDER tape are replayed to an
// order subscription, each as recorded, after an empty image at speed 0; a
// resubscription with a clock resumes there with RESUB_DELTA.
func TestStreamOrders(t *testing.T) {
	src := testenv.Testdata(t, "tapes/ORDER-1.177596575")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var want []string // the source's oc elements
	dec := esa.NewDecoder()
	var m esa.Message
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		m.Reset()
		if err := dec.Decode([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		for _, oc := range m.OC {
			want = append(want, string(oc.Raw))
		}
	}
	ex := start(t, Config{Tapes: []string{src}})
	for _, tc := range []struct {
		name, initialClk, clk string
		first                 string // ct of the answer to the subscription
		from                  int    // first source change after it
	}{
		{"new", "", "", "SUB_IMAGE", 0},
		{"resubscribed", "0", "2", "RESUB_DELTA", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := streamLines(t, ex,
				esa.Authentication{Op: esa.OpAuthentication, ID: 1, AppKey: "k", Session: ex.NewSession()},
				esa.OrderSubscription{Op: esa.OpOrderSubscription, ID: 2, HeartbeatMs: 500, InitialClk: tc.initialClk, Clk: tc.clk})
			for range 3 { // connection, two statuses
				next()
			}
			var got []string
			for len(got) < len(want)-tc.from+1 {
				l := next()
				m.Reset()
				if err := dec.Decode([]byte(l), &m); err != nil {
					t.Fatal(err)
				}
				if m.Op != esa.OpOCM {
					t.Fatalf("not an ocm: %s", l)
				}
				if len(got) == 0 {
					if !strings.Contains(l, `"ct":"`+tc.first+`"`) {
						t.Fatalf("answer %s, want %s", l, tc.first)
					}
					if tc.first == "RESUB_DELTA" && (len(m.OC) != 1 || string(m.OC[0].Raw) != want[2]) {
						t.Fatalf("RESUB_DELTA %s does not hold source change 3", l)
					}
					got = append(got, "")
					continue
				}
				if m.Ct == esa.ChangeTypeHeartbeat {
					t.Fatalf("heartbeat %s before source change %d", l, tc.from+len(got))
				}
				for _, oc := range m.OC {
					got = append(got, string(oc.Raw))
				}
			}
			if d := strings.Join(got[1:], "\n"); d != strings.Join(want[tc.from:], "\n") {
				t.Errorf("order changes\n%s\nwant\n%s", d, strings.Join(want[tc.from:], "\n"))
			}
			if hb := next(); !strings.Contains(hb, `"clk":"4"`) || !strings.HasSuffix(hb, `"ct":"HEARTBEAT"}`) {
				t.Errorf("after the last change %s, want a heartbeat at clock 4", hb)
			}
		})
	}
}

package ledger_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/exchange/ledger"
)

// rpc makes one Betting API JSON-RPC call as any client would, bypassing
// engine/betting's own checks, and returns the result and the
// APINGException's code.
func (l *local) rpc(t *testing.T, method string, params any) (json.RawMessage, string) {
	t.Helper()
	return l.call(t, "/exchange/betting/json-rpc/v1", "SportsAPING/v1.0/"+method, params)
}

// call is rpc for any JSON-RPC endpoint path and full method name.
func (l *local) call(t *testing.T, path, method string, params any) (json.RawMessage, string) {
	t.Helper()
	pem, err := os.ReadFile(l.ex.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": method, "params": params, "id": 1})
	req, _ := http.NewRequest(http.MethodPost, l.ex.Info().Betting+path, bytes.NewReader(body))
	req.Header.Set("X-Application", "test")
	req.Header.Set("X-Authentication", l.tok)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Data struct {
				APINGException struct {
					ErrorCode string `json:"errorCode"`
				} `json:"APINGException"`
			} `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if env.Error != nil {
		return nil, env.Error.Data.APINGException.ErrorCode
	}
	return env.Result, ""
}

// opened starts a lockstep stream and reads up to the image, so that the
// market is open on the exchange and the replay is held there.
func opened(t *testing.T, l *local) (*stream, *book.Market) {
	s := l.stream(t, "")
	var bk *book.Market
	s.driveUntil(1, func() bool { return bk != nil }, func(b *book.Market, _ int64) int {
		bk = b
		return 0
	}, nil)
	return s, bk
}

// TestRefusesInvalid: the local exchange refuses what Betfair refuses, with
// Betfair's codes, even from a client that does not check (issue tests 2
// and 10); engine/betting refuses the same before sending anything.
func TestRefusesInvalid(t *testing.T) {
	l := serve(t, exchange.Config{Lockstep: true}, ledger.Config{Balance: 50}, "1.197931750")
	_, bk := opened(t, l)
	sel := bk.Runners[0].SelectionID
	limit := func(price, size float64, ref string) betting.PlaceInstruction {
		return betting.PlaceInstruction{OrderType: "LIMIT", SelectionID: sel, Side: "BACK", CustomerOrderRef: ref,
			LimitOrder: &betting.LimitOrder{Price: price, Size: size, PersistenceType: "LAPSE"}}
	}
	many := make([]betting.PlaceInstruction, 201)
	for i := range many {
		many[i] = limit(1000, 2, "")
	}
	lay := limit(5, 20, "")
	lay.Side = "LAY"
	for _, c := range []struct {
		name     string
		req      betting.PlaceRequest
		api      string                       // APINGException code
		exec     betting.ExecutionErrorCode   // execution report code
		instr    betting.InstructionErrorCode // the instruction's code
		prevents bool                         // engine/betting refuses it unsent
	}{
		{"201 instructions", betting.PlaceRequest{Instructions: many}, "INVALID_INPUT_DATA", "", "", true},
		{"price off the ladder", betting.PlaceRequest{Instructions: []betting.PlaceInstruction{limit(2.01, 2, "")}}, "", betting.ExecBetActionError, betting.InstrInvalidOdds, false},
		{"price above 1000", betting.PlaceRequest{Instructions: []betting.PlaceInstruction{limit(1010, 2, "")}}, "", betting.ExecBetActionError, betting.InstrInvalidOdds, false},
		{"below the minimum stake", betting.PlaceRequest{Instructions: []betting.PlaceInstruction{limit(2, 0.5, "")}}, "", betting.ExecBetActionError, betting.InstrInvalidBetSize, false},
		{"a third decimal", betting.PlaceRequest{Instructions: []betting.PlaceInstruction{limit(2, 2.001, "")}}, "", betting.ExecBetActionError, betting.InstrInvalidBetSize, false},
		{"customerOrderRef too long", betting.PlaceRequest{Instructions: []betting.PlaceInstruction{limit(2, 2, strings.Repeat("x", 33))}}, "", betting.ExecBetActionError, betting.InstrInvalidCustomerOrderRef, true},
		{"customerOrderRef character", betting.PlaceRequest{Instructions: []betting.PlaceInstruction{limit(2, 2, "a b")}}, "", betting.ExecBetActionError, betting.InstrInvalidCustomerOrderRef, false},
		{"customerStrategyRef too long", betting.PlaceRequest{CustomerStrategyRef: strings.Repeat("s", 16), Instructions: []betting.PlaceInstruction{limit(2, 2, "")}}, "", betting.ExecBetActionError, betting.InstrInvalidCustomerStrategyRef, true},
		{"unknown runner", betting.PlaceRequest{Instructions: []betting.PlaceInstruction{{OrderType: "LIMIT", SelectionID: 1, Side: "BACK", LimitOrder: &betting.LimitOrder{Price: 2, Size: 2, PersistenceType: "LAPSE"}}}}, "", betting.ExecBetActionError, betting.InstrInvalidRunner, false},
		{"over the balance", betting.PlaceRequest{Instructions: []betting.PlaceInstruction{lay}}, "", betting.ExecInsufficientFunds, betting.InstrInsufficientFunds, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.req.MarketID = bk.ID
			before := l.ex.Stats().BettingRequests
			_, err := l.bc.PlaceOrders(context.Background(), c.req)
			var le *betting.LimitError
			if sent := l.ex.Stats().BettingRequests - before; c.prevents != (errors.As(err, &le) && sent == 0) {
				t.Errorf("engine/betting: %v, %d requests sent", err, sent)
			}
			res, api := l.rpc(t, "placeOrders", c.req)
			if api != c.api {
				t.Fatalf("APINGException %q, want %q", api, c.api)
			}
			if c.api != "" {
				return
			}
			var rep betting.PlaceReport
			json.Unmarshal(res, &rep)
			if rep.Status != "FAILURE" || rep.ErrorCode != c.exec || rep.InstructionReports[0].ErrorCode != c.instr {
				t.Errorf("answer %s", res)
			}
		})
	}
	if _, api := l.rpc(t, "cancelOrders", betting.CancelRequest{MarketID: bk.ID, Instructions: make([]betting.CancelInstruction, 61)}); api != "INVALID_INPUT_DATA" {
		t.Errorf("61 cancels: %q", api)
	}
	res, _ := l.rpc(t, "cancelOrders", betting.CancelRequest{MarketID: bk.ID, Instructions: []betting.CancelInstruction{{BetID: "1"}}})
	if !strings.Contains(string(res), `"INVALID_BET_ID"`) {
		t.Errorf("cancelling an unknown bet: %s", res)
	}
	cur, err := l.bc.ListCurrentOrders(context.Background(), betting.CurrentOrdersFilter{})
	if err != nil || len(cur) != 0 {
		t.Errorf("refused placements left bets: %+v %v", cur, err)
	}
}

// placeOnce places one resting back with PlaceResolved while the replay
// runs in lockstep, and returns its answer once it has one.
func placeOnce(t *testing.T, l *local) (*betting.PlaceReport, error) {
	s := l.stream(t, "")
	var (
		rep  *betting.PlaceReport
		err  error
		sent bool
		got  atomic.Bool
	)
	s.driveUntil(1, got.Load, func(bk *book.Market, _ int64) int {
		if sent {
			return 0
		}
		sent = true
		req := betting.PlaceRequest{MarketID: bk.ID, CustomerRef: "once-1", CustomerStrategyRef: "s",
			Instructions: []betting.PlaceInstruction{{OrderType: "LIMIT", SelectionID: bk.Runners[0].SelectionID, Side: "BACK",
				CustomerOrderRef: "s-1", LimitOrder: &betting.LimitOrder{Price: 1000, Size: 2, PersistenceType: "LAPSE"}}}}
		go func() {
			rep, err = l.bc.PlaceResolved(context.Background(), req, 3)
			got.Store(true)
		}()
		return 1
	}, nil)
	return rep, err
}

// TestLostAnswers: a placement carried out whose answer is lost, or
// answered TIMEOUT, is resolved by its references, and exactly one bet
// exists (issue tests 3 and 4); a request refused before the matcher
// places nothing.
func TestLostAnswers(t *testing.T) {
	for _, c := range []struct {
		name   string
		faults exchange.Faults
		bets   int
	}{
		{"dropped reply", exchange.Faults{DropReplyAfter: 1}, 1},
		{"TIMEOUT", exchange.Faults{APIError: "TIMEOUT", APIErrorAfter: 1}, 1},
		{"TOO_MANY_REQUESTS", exchange.Faults{APIError: "TOO_MANY_REQUESTS", APIErrorAfter: 1}, 0},
		{"INVALID_SESSION", exchange.Faults{APIError: "INVALID_SESSION_INFORMATION", APIErrorAfter: 1}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := serve(t, exchange.Config{Lockstep: true, Faults: c.faults}, ledger.Config{}, "1.197931750")
			rep, err := placeOnce(t, l)
			cur, lerr := l.bc.ListCurrentOrders(context.Background(), betting.CurrentOrdersFilter{CustomerOrderRefs: []string{"s-1"}})
			if lerr != nil || len(cur) != c.bets {
				t.Fatalf("%d bets for the reference (%v), want %d", len(cur), lerr, c.bets)
			}
			if c.bets == 0 {
				var ae *betting.APIError
				if !errors.As(err, &ae) || ae.Code != c.faults.APIError {
					t.Errorf("refused placement: %v", err)
				}
				return
			}
			if err != nil || rep == nil || len(rep.InstructionReports) != 1 || rep.InstructionReports[0].BetID != cur[0].BetID {
				t.Errorf("resolved %+v, %v; the bet %+v", rep, err, cur)
			}
		})
	}
}

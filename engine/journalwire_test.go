package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/journal"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// TestLiveJournal: a live run's journal holds each request before its
// answer (method, market, customerRef, the instructions with the order's
// customerOrderRef), each answer, and each change of an order's state, as
// the orders end, and no secret: neither the session token the login
// answered, nor the application key, username or password.
func TestLiveJournal(t *testing.T) {
	f := &betFake{dir: testenv.Shared(t, "data/api"), bodies: map[string]string{
		betting.MethodPlaceOrders:       "place_orders.json",
		betting.MethodListCurrentOrders: "betting/list_current_orders_empty.json",
	}}
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := liveFake(t, f, BettingConfig{Session: "live1", Journal: j})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	var es []journal.Entry
	if _, err := journal.Read(path, func(e journal.Entry) error { es = append(es, e); return nil }); err != nil {
		t.Fatal(err)
	}
	requested := map[string]int{} // customerRef -> index of its request
	statuses := map[string][]string{}
	for i, e := range es {
		switch e.Kind {
		case "request":
			var req betting.PlaceRequest
			if err := json.Unmarshal(e.Data, &req); err != nil || e.Method != betting.MethodPlaceOrders || req.MarketID != e.MarketID || req.CustomerRef != e.CustomerRef ||
				len(req.Instructions) != 1 || req.Instructions[0].CustomerOrderRef != "betexec-test-0" || req.CustomerStrategyRef != "betexec-test" {
				t.Errorf("request entry %+v (%v)", e, err)
			}
			requested[e.CustomerRef] = i
		case "response":
			at, ok := requested[e.CustomerRef]
			var rep betting.PlaceReport
			if !ok || at > i || e.Status != "SUCCESS" || json.Unmarshal(e.Data, &rep) != nil || rep.InstructionReports[0].BetID != "71962975289" {
				t.Errorf("response entry %+v: want the answer after its request", e)
			}
		case "order":
			statuses[e.MarketID] = append(statuses[e.MarketID], e.Status+" "+e.BetID)
		}
	}
	if len(requested) != 2 {
		t.Errorf("%d requests journaled, want the 2 placements", len(requested))
	}
	for _, o := range res.Orders {
		got := strings.Join(statuses[o.MarketID()], ", ")
		if want := "PENDING , EXECUTABLE 71962975289"; got != want {
			t.Errorf("market %s: order states %q, want %q", o.MarketID(), got, want)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"session_token", fakeAppKey, fakeUsername, fakePassword} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the journal holds %q", secret)
		}
	}
}

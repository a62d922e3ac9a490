package ledger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/exchange/ledger"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// TestAccountDetails: getAccountDetails answers in the form of Betfair's
// own answer (a real one, from shared data): only its fields, each of the
// same JSON type, the currency the ledger was given (GBP by default).
func TestAccountDetails(t *testing.T) {
	var real struct{ Result map[string]any }
	b, err := os.ReadFile(testenv.Shared(t, "data/api/accounts/get_account_details.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &real); err != nil || len(real.Result) == 0 {
		t.Fatalf("the real answer: %v", err)
	}
	for _, tc := range []struct{ currency, want string }{{"", "GBP"}, {"AUD", "AUD"}} {
		l := serve(t, exchange.Config{}, ledger.Config{Currency: tc.currency}, "1.197931750")
		res, code := l.call(t, "/exchange/account/json-rpc/v1", "AccountAPING/v1.0/getAccountDetails", struct{}{})
		var got map[string]any
		if err := json.Unmarshal(res, &got); code != "" || err != nil || got == nil {
			t.Fatalf("getAccountDetails: %s (error code %q, %v)", res, code, err)
		}
		for k, v := range got {
			rv, ok := real.Result[k]
			if !ok {
				t.Errorf("field %s is not in Betfair's answer", k)
			} else if fmt.Sprintf("%T", v) != fmt.Sprintf("%T", rv) {
				t.Errorf("field %s: %T, Betfair's is %T", k, v, rv)
			}
		}
		if got["currencyCode"] != tc.want {
			t.Errorf("currencyCode %v, want %s: %s", got["currencyCode"], tc.want, res)
		}
		d, err := l.bc.GetAccountDetails(context.Background())
		if err != nil || d.CurrencyCode != tc.want {
			t.Errorf("engine/betting's GetAccountDetails: %+v %v", d, err)
		}
	}
}

// TestCurrencyMinimums: the exchange holds placements to its currency's
// minimum bet (Betfair's INVALID_BET_SIZE), and refuses to be configured
// with a currency Betfair's table does not list.
func TestCurrencyMinimums(t *testing.T) {
	if err := (ledger.Config{Currency: "XYZ"}).Check(); err == nil || !strings.Contains(err.Error(), `"XYZ"`) {
		t.Errorf("currency XYZ: %v", err)
	}
	if err := (ledger.Config{Currency: "AUD"}).Check(); err != nil {
		t.Errorf("currency AUD: %v", err)
	}
	l := serve(t, exchange.Config{Lockstep: true}, ledger.Config{Currency: "AUD"}, "1.197931750")
	_, bk := opened(t, l)
	sel := bk.Runners[0].SelectionID
	for _, tc := range []struct {
		name string
		in   betting.PlaceInstruction
	}{
		// A stake of 4 at 2 is a good GBP bet: under AUD's 5, payout 8 under 30.
		{"stake 4 at 2", betting.PlaceInstruction{OrderType: "LIMIT", SelectionID: sel, Side: "BACK",
			LimitOrder: &betting.LimitOrder{Price: 2, Size: 4, PersistenceType: "LAPSE"}}},
		{"lay at BSP, liability 20", betting.PlaceInstruction{OrderType: "MARKET_ON_CLOSE", SelectionID: sel, Side: "LAY",
			MarketOnCloseOrder: &betting.MarketOnCloseOrder{Liability: 20}}},
		{"back at BSP, liability 4", betting.PlaceInstruction{OrderType: "LIMIT_ON_CLOSE", SelectionID: sel, Side: "BACK",
			LimitOnCloseOrder: &betting.LimitOnCloseOrder{Price: 1.5, Liability: 4}}},
	} {
		res, api := l.rpc(t, "placeOrders", betting.PlaceRequest{MarketID: bk.ID, Instructions: []betting.PlaceInstruction{tc.in}})
		var rep betting.PlaceReport
		if err := json.Unmarshal(res, &rep); err != nil || api != "" || len(rep.InstructionReports) != 1 ||
			rep.InstructionReports[0].ErrorCode != betting.InstrInvalidBetSize {
			t.Errorf("%s: %s (%q)", tc.name, res, api)
		}
	}
}

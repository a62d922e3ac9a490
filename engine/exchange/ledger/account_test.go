package ledger_test

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/exchange/ledger"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// TestAccountDetails: getAccountDetails answers in the form of Betfair's
// own answer (a real one, from shared data): only its fields, each of the
// same JSON type, the currency GBP.
func TestAccountDetails(t *testing.T) {
	var real struct{ Result map[string]any }
	b, err := os.ReadFile(testenv.Shared(t, "data/api/accounts/get_account_details.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &real); err != nil || len(real.Result) == 0 {
		t.Fatalf("the real answer: %v", err)
	}
	l := serve(t, exchange.Config{}, ledger.Config{}, "1.197931750")
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
	if got["currencyCode"] != "GBP" {
		t.Errorf("currencyCode %v, want GBP: %s", got["currencyCode"], res)
	}
}

package ledger_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
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
	pem, err := os.ReadFile(l.ex.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest("POST", l.ex.Info().Betting+"/exchange/account/json-rpc/v1",
		strings.NewReader(`{"jsonrpc":"2.0","method":"AccountAPING/v1.0/getAccountDetails","params":{},"id":1}`))
	req.Header.Set("X-Application", "test")
	req.Header.Set("X-Authentication", l.tok)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var got struct {
		Result map[string]any
		Error  any
	}
	if err := json.Unmarshal(body, &got); err != nil || got.Error != nil || got.Result == nil {
		t.Fatalf("getAccountDetails: %s", body)
	}
	for k, v := range got.Result {
		rv, ok := real.Result[k]
		if !ok {
			t.Errorf("field %s is not in Betfair's answer", k)
		} else if fmt.Sprintf("%T", v) != fmt.Sprintf("%T", rv) {
			t.Errorf("field %s: %T, Betfair's is %T", k, v, rv)
		}
	}
	if got.Result["currencyCode"] != "GBP" {
		t.Errorf("currencyCode %v, want GBP: %s", got.Result["currencyCode"], body)
	}
}

// Package betting is the client of Betfair's identity service (login,
// keep-alive, logout) and of the Betting and Account APIs' JSON-RPC
// endpoints: listMarketCatalogue for the recorder; placeOrders,
// cancelOrders, replaceOrders, updateOrders, listCurrentOrders,
// listClearedOrders and getAccountFunds for live trading. Betfair's error
// codes come back typed (ExecutionError, InstructionErrorCode, APIError);
// a request sent without a usable answer is an UnknownOutcomeError, never a
// failure; requests over Betfair's instruction limits are never sent.
//
// Secrets (password, session token, application key, private key) never
// appear in a log line or in an error this package returns: requests carry
// them only in headers and form bodies, and errors name the endpoint and the
// service's status code, never a request.
package betting

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Endpoints are the base URLs of the services a client talks to.
type Endpoints struct {
	// Identity is the interactive login service's base URL; "/api/login",
	// "/api/keepAlive" and "/api/logout" are appended to it.
	Identity string
	// CertIdentity is the certificate login service's base URL;
	// "/api/certlogin" is appended.
	CertIdentity string
	// Betting is the Betting API's base URL; "/exchange/betting/json-rpc/v1"
	// is appended.
	Betting string
	// Stream is the Exchange Stream API's host:port.
	Stream string
}

// jurisdictions are Betfair's public endpoints by the suffix of the site the
// account belongs to. An account must log in at its own jurisdiction's
// identity service: the others answer with an HTML error page. The betting and
// stream hosts are shared by every jurisdiction.
var jurisdictions = map[string]Endpoints{
	"com":    {Identity: "https://identitysso.betfair.com", CertIdentity: "https://identitysso-cert.betfair.com", Betting: "https://api.betfair.com", Stream: "stream-api.betfair.com:443"},
	"com.au": {Identity: "https://identitysso.betfair.com.au", CertIdentity: "https://identitysso-cert.betfair.com.au", Betting: "https://api.betfair.com", Stream: "stream-api.betfair.com:443"},
	"it":     {Identity: "https://identitysso.betfair.it", CertIdentity: "https://identitysso-cert.betfair.it", Betting: "https://api.betfair.com", Stream: "stream-api.betfair.com:443"},
	"es":     {Identity: "https://identitysso.betfair.es", CertIdentity: "https://identitysso-cert.betfair.es", Betting: "https://api.betfair.com", Stream: "stream-api.betfair.com:443"},
	"ro":     {Identity: "https://identitysso.betfair.ro", CertIdentity: "https://identitysso-cert.betfair.ro", Betting: "https://api.betfair.com", Stream: "stream-api.betfair.com:443"},
}

// Jurisdictions lists the names Jurisdiction accepts, sorted.
func Jurisdictions() []string {
	names := make([]string, 0, len(jurisdictions))
	for n := range jurisdictions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Jurisdiction returns Betfair's endpoints for a site suffix such as "com" or
// "com.au" (a leading "." or "betfair." is ignored).
func Jurisdiction(name string) (Endpoints, error) {
	n := strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(name), "."), "betfair.")
	e, ok := jurisdictions[n]
	if !ok {
		return Endpoints{}, fmt.Errorf("betting: unknown jurisdiction %q (known: %s)", name, strings.Join(Jurisdictions(), ", "))
	}
	return e, nil
}

// Local returns the endpoints of a private exchange (such as `trade serve`)
// whose identity and betting services share baseURL's host.
func Local(identity, bettingURL, stream string) Endpoints {
	return Endpoints{Identity: identity, CertIdentity: identity, Betting: bettingURL, Stream: stream}
}

// Validate checks that every base URL is an absolute https URL. Plain
// http is refused whatever the host: the identity service receives the
// username and password, and the others the session token.
func (e Endpoints) Validate() error {
	for _, f := range []struct{ name, v string }{{"identity", e.Identity}, {"cert identity", e.CertIdentity}, {"betting", e.Betting}} {
		u, err := url.Parse(f.v)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return fmt.Errorf("betting: %s endpoint %q is not an https URL", f.name, f.v)
		}
		if u.Scheme != "https" {
			return fmt.Errorf("betting: %s endpoint %q is plain http: credentials and session tokens travel only over https (use https://%s)", f.name, f.v, u.Host)
		}
	}
	return nil
}

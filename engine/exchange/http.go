package exchange

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// httpHandler serves the identity endpoints (Betfair's identitysso paths)
// and the Betting API's listMarketCatalogue, JSON-RPC and REST.
func (e *Exchange) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", e.login)
	mux.HandleFunc("POST /api/certlogin", e.certLogin)
	mux.HandleFunc("POST /api/keepAlive", e.keepAlive)
	mux.HandleFunc("GET /api/keepAlive", e.keepAlive)
	mux.HandleFunc("POST /api/logout", e.logout)
	mux.HandleFunc("GET /api/logout", e.logout)
	mux.HandleFunc("POST /exchange/betting/json-rpc/v1", e.jsonRPC)
	mux.HandleFunc("POST /exchange/betting/rest/v1.0/listMarketCatalogue/", e.restCatalogue)
	mux.HandleFunc("POST /exchange/account/json-rpc/v1", e.jsonRPC)
	mux.HandleFunc("POST /exchange/betting/rest/v1.0/{method}/", e.restBetting)
	mux.HandleFunc("POST /exchange/account/rest/v1.0/{method}/", e.restBetting)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// identityAnswer is the {token, product, status, error} form of the
// interactive login, keepAlive and logout answers.
type identityAnswer struct {
	Token   string `json:"token"`
	Product string `json:"product"`
	Status  string `json:"status"`
	Error   string `json:"error"`
}

// login answers the interactive login (form fields username and password,
// header X-Application).
func (e *Exchange) login(w http.ResponseWriter, r *http.Request) {
	app := r.Header.Get("X-Application")
	if err := r.ParseForm(); err != nil || r.PostForm.Get("username") == "" || r.PostForm.Get("password") == "" {
		writeJSON(w, http.StatusOK, identityAnswer{Product: app, Status: "FAIL", Error: "INVALID_USERNAME_OR_PASSWORD"})
		return
	}
	if e.cfg.Faults.RefuseLogin {
		writeJSON(w, http.StatusOK, identityAnswer{Product: app, Status: "FAIL", Error: "INVALID_USERNAME_OR_PASSWORD"})
		return
	}
	writeJSON(w, http.StatusOK, identityAnswer{Token: e.NewSession(), Product: app, Status: "SUCCESS"})
}

// certLogin answers the non-interactive (certificate) login, which needs a
// client certificate on the TLS connection.
func (e *Exchange) certLogin(w http.ResponseWriter, r *http.Request) {
	type answer struct {
		SessionToken string `json:"sessionToken,omitempty"`
		LoginStatus  string `json:"loginStatus"`
	}
	switch {
	case r.TLS == nil || len(r.TLS.PeerCertificates) == 0:
		writeJSON(w, http.StatusOK, answer{LoginStatus: "CERT_AUTH_REQUIRED"})
	case e.cfg.Faults.RefuseLogin:
		writeJSON(w, http.StatusOK, answer{LoginStatus: "INVALID_USERNAME_OR_PASSWORD"})
	default:
		writeJSON(w, http.StatusOK, answer{SessionToken: e.NewSession(), LoginStatus: "SUCCESS"})
	}
}

func (e *Exchange) keepAlive(w http.ResponseWriter, r *http.Request) {
	tok, app := r.Header.Get("X-Authentication"), r.Header.Get("X-Application")
	if !e.validSession(tok) {
		writeJSON(w, http.StatusOK, identityAnswer{Token: tok, Product: app, Status: "FAIL", Error: "NO_SESSION"})
		return
	}
	writeJSON(w, http.StatusOK, identityAnswer{Token: tok, Product: app, Status: "SUCCESS"})
}

func (e *Exchange) logout(w http.ResponseWriter, r *http.Request) {
	tok, app := r.Header.Get("X-Authentication"), r.Header.Get("X-Application")
	if !e.endSession(tok) {
		writeJSON(w, http.StatusOK, identityAnswer{Token: tok, Product: app, Status: "FAIL", Error: "NO_SESSION"})
		return
	}
	writeJSON(w, http.StatusOK, identityAnswer{Token: tok, Product: app, Status: "SUCCESS"})
}

// catalogueParams are listMarketCatalogue's parameters this exchange uses.
type catalogueParams struct {
	Filter           *catalogueFilter `json:"filter"`
	MarketProjection []string         `json:"marketProjection"`
	MaxResults       int              `json:"maxResults"`
}

type catalogueFilter struct {
	MarketIDs        []string `json:"marketIds"`
	EventTypeIDs     []string `json:"eventTypeIds"`
	EventIDs         []string `json:"eventIds"`
	MarketCountries  []string `json:"marketCountries"`
	MarketTypeCodes  []string `json:"marketTypeCodes"`
	Venues           []string `json:"venues"`
	BspOnly          *bool    `json:"bspOnly"`
	TurnInPlayEnable *bool    `json:"turnInPlayEnabled"`
}

// apingError is the Betting API's exception, as both transports wrap it.
type apingError struct {
	ErrorCode    string `json:"errorCode"`
	ErrorDetails string `json:"errorDetails"`
	RequestUUID  string `json:"requestUUID"`
}

func (e *Exchange) authorised(r *http.Request) *apingError {
	if r.Header.Get("X-Application") == "" {
		return &apingError{ErrorCode: "INVALID_APP_KEY", ErrorDetails: "no X-Application header"}
	}
	if !e.validSession(r.Header.Get("X-Authentication")) {
		return &apingError{ErrorCode: "INVALID_SESSION_INFORMATION", ErrorDetails: "session token unknown or expired"}
	}
	return nil
}

func (e *Exchange) jsonRPC(w http.ResponseWriter, r *http.Request) {
	var req struct {
		JSONRPC string          `json:"jsonrpc"`
		Method  string          `json:"method"`
		Params  json.RawMessage `json:"params"`
		ID      json.RawMessage `json:"id"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"jsonrpc": "2.0", "error": map[string]any{"code": -32700, "message": "Parse error"}})
		return
	}
	fail := func(ae *apingError) {
		writeJSON(w, http.StatusOK, map[string]any{"jsonrpc": "2.0", "id": req.ID, "error": map[string]any{
			"code": -32099, "message": "ANGX-0003",
			"data": map[string]any{"exceptionname": "APINGException", "APINGException": ae}}})
	}
	if ae := e.authorised(r); ae != nil {
		fail(ae)
		return
	}
	account := strings.HasPrefix(r.URL.Path, "/exchange/account/")
	if m, ok := strings.CutPrefix(req.Method, "SportsAPING/v1.0/"); ok && !account && m != "listMarketCatalogue" && !accountMethods[m] {
		e.betCall(w, r, m, req.Params, func(v any) { writeJSON(w, http.StatusOK, map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": v}) },
			func(ae *APIError) { fail(&apingError{ErrorCode: ae.Code, ErrorDetails: ae.Details}) })
		return
	}
	if m, ok := strings.CutPrefix(req.Method, "AccountAPING/v1.0/"); ok && account && accountMethods[m] {
		e.betCall(w, r, m, req.Params, func(v any) { writeJSON(w, http.StatusOK, map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": v}) },
			func(ae *APIError) { fail(&apingError{ErrorCode: ae.Code, ErrorDetails: ae.Details}) })
		return
	}
	if req.Method != "SportsAPING/v1.0/listMarketCatalogue" || account {
		writeJSON(w, http.StatusOK, map[string]any{"jsonrpc": "2.0", "id": req.ID, "error": map[string]any{"code": -32601, "message": "DSC-0021"}})
		return
	}
	var p catalogueParams
	if len(req.Params) > 0 {
		if err := json.Unmarshal(req.Params, &p); err != nil {
			fail(&apingError{ErrorCode: "INVALID_INPUT_DATA", ErrorDetails: err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": e.catalogue(&p)})
}

func (e *Exchange) restCatalogue(w http.ResponseWriter, r *http.Request) {
	fail := func(ae *apingError) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"faultcode": "Client", "faultstring": "ANGX-0003",
			"detail": map[string]any{"exceptionname": "APINGException", "APINGException": ae}})
	}
	if ae := e.authorised(r); ae != nil {
		fail(ae)
		return
	}
	var p catalogueParams
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &p); err != nil {
			fail(&apingError{ErrorCode: "INVALID_INPUT_DATA", ErrorDetails: err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, e.catalogue(&p))
}

// catalogue answers listMarketCatalogue from the tapes' catalogue files, or
// from the markets' definitions when a tape has none, keeping only what
// the projections ask for (marketId, marketName and totalMatched always).
func (e *Exchange) catalogue(p *catalogueParams) []map[string]json.RawMessage {
	proj := map[string]bool{}
	for _, s := range p.MarketProjection {
		proj[s] = true
	}
	out := []map[string]json.RawMessage{}
	for _, m := range e.replay.markets {
		if p.MaxResults > 0 && len(out) >= p.MaxResults {
			break
		}
		if !catalogueMatches(p.Filter, m) {
			continue
		}
		var entry map[string]json.RawMessage
		if m.catalogue == nil || json.Unmarshal(m.catalogue, &entry) != nil {
			entry = catalogueFromDefinition(m)
		}
		delete(entry, "op") // recorders store the catalogue with flumine's op
		keep := map[string]string{"description": "MARKET_DESCRIPTION", "runners": "RUNNER_DESCRIPTION",
			"event": "EVENT", "eventType": "EVENT_TYPE", "competition": "COMPETITION", "marketStartTime": "MARKET_START_TIME"}
		for k, need := range keep {
			if !proj[need] {
				delete(entry, k)
			}
		}
		if raw, ok := entry["runners"]; ok && !proj["RUNNER_METADATA"] {
			var runners []map[string]json.RawMessage
			if json.Unmarshal(raw, &runners) == nil {
				for _, r := range runners {
					delete(r, "metadata")
				}
				entry["runners"], _ = json.Marshal(runners)
			}
		}
		out = append(out, entry)
	}
	return out
}

func catalogueMatches(f *catalogueFilter, m *market) bool {
	if f == nil {
		return true
	}
	return matches(&esaFilter{
		MarketIDs: f.MarketIDs, EventTypeIDs: f.EventTypeIDs, EventIDs: f.EventIDs,
		CountryCodes: f.MarketCountries, MarketTypes: f.MarketTypeCodes, Venues: f.Venues,
		BspMarket: f.BspOnly, TurnInPlayEnabled: f.TurnInPlayEnable,
	}, m)
}

// catalogueFromDefinition builds a catalogue entry from what a market
// definition says, for tapes recorded without one.
func catalogueFromDefinition(m *market) map[string]json.RawMessage {
	entry := map[string]json.RawMessage{}
	set := func(k string, v any) { entry[k], _ = json.Marshal(v) }
	set("marketId", m.id)
	set("totalMatched", 0.0)
	d := m.def
	if d == nil {
		set("marketName", "")
		return entry
	}
	set("marketName", d.Name)
	set("marketStartTime", d.MarketTime)
	set("description", map[string]any{
		"persistenceEnabled": d.PersistenceEnabled, "bspMarket": d.BspMarket, "marketTime": d.MarketTime,
		"suspendTime": d.SuspendTime, "bettingType": d.BettingType, "turnInPlayEnabled": d.TurnInPlayEnabled,
		"marketType": d.MarketType, "marketBaseRate": d.MarketBaseRate, "discountAllowed": d.DiscountAllowed,
		"regulator": strings.Join(d.Regulators, ","), "priceLadderDescription": map[string]string{"type": d.PriceLadderType},
	})
	runners := make([]map[string]any, 0, len(d.Runners))
	for _, r := range d.Runners {
		runners = append(runners, map[string]any{"selectionId": r.ID, "runnerName": r.Name, "handicap": r.Hc,
			"sortPriority": r.SortPriority, "metadata": map[string]string{"runnerId": itoa(r.ID)}})
	}
	set("runners", runners)
	set("eventType", map[string]string{"id": d.EventTypeID, "name": eventTypeName(d.EventTypeID)})
	set("event", map[string]string{"id": d.EventID, "name": d.EventName, "countryCode": d.CountryCode,
		"timezone": d.Timezone, "venue": d.Venue, "openDate": d.OpenDate})
	return entry
}

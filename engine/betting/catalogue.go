package betting

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// MarketFilter selects markets (the Betting API's MarketFilter); empty fields
// are left out of the request.
type MarketFilter struct {
	TextQuery          string   `json:"textQuery,omitempty"`
	EventTypeIDs       []string `json:"eventTypeIds,omitempty"`
	EventIDs           []string `json:"eventIds,omitempty"`
	CompetitionIDs     []string `json:"competitionIds,omitempty"`
	MarketIDs          []string `json:"marketIds,omitempty"`
	Venues             []string `json:"venues,omitempty"`
	BspOnly            *bool    `json:"bspOnly,omitempty"`
	TurnInPlayEnabled  *bool    `json:"turnInPlayEnabled,omitempty"`
	InPlayOnly         *bool    `json:"inPlayOnly,omitempty"`
	MarketBettingTypes []string `json:"marketBettingTypes,omitempty"`
	MarketCountries    []string `json:"marketCountries,omitempty"`
	MarketTypeCodes    []string `json:"marketTypeCodes,omitempty"`
	RaceTypes          []string `json:"raceTypes,omitempty"`
}

// The market projections listMarketCatalogue accepts.
const (
	ProjectionCompetition       = "COMPETITION"
	ProjectionEvent             = "EVENT"
	ProjectionEventType         = "EVENT_TYPE"
	ProjectionMarketStartTime   = "MARKET_START_TIME"
	ProjectionMarketDescription = "MARKET_DESCRIPTION"
	ProjectionRunnerDescription = "RUNNER_DESCRIPTION"
	ProjectionRunnerMetadata    = "RUNNER_METADATA"
)

// AllProjections asks for everything a catalogue file should hold.
var AllProjections = []string{ProjectionCompetition, ProjectionEvent, ProjectionEventType, ProjectionMarketStartTime, ProjectionMarketDescription, ProjectionRunnerDescription, ProjectionRunnerMetadata}

// CatalogueRequest is listMarketCatalogue's parameters.
type CatalogueRequest struct {
	Filter           MarketFilter `json:"filter"`
	MarketProjection []string     `json:"marketProjection,omitempty"`
	// Sort is a MarketSort such as "FIRST_TO_START"; empty leaves it out.
	Sort string `json:"sort,omitempty"`
	// MaxResults is required by Betfair (1..1000); 0 sends 1000.
	MaxResults int    `json:"maxResults"`
	Locale     string `json:"locale,omitempty"`
}

// MarketCatalogue is one market of listMarketCatalogue's answer.
type MarketCatalogue struct {
	MarketID        string             `json:"marketId"`
	MarketName      string             `json:"marketName"`
	MarketStartTime string             `json:"marketStartTime,omitempty"`
	Description     *MarketDescription `json:"description,omitempty"`
	TotalMatched    float64            `json:"totalMatched"`
	Runners         []RunnerCatalog    `json:"runners,omitempty"`
	EventType       *EventType         `json:"eventType,omitempty"`
	Competition     *Competition       `json:"competition,omitempty"`
	Event           *Event             `json:"event,omitempty"`
	// Raw is the market's JSON exactly as Betfair sent it: what a recorder
	// stores as <market_id>.json, so nothing the types leave out is lost.
	Raw json.RawMessage `json:"-"`
}

// MarketDescription is a market's description projection.
type MarketDescription struct {
	PersistenceEnabled     bool                    `json:"persistenceEnabled"`
	BspMarket              bool                    `json:"bspMarket"`
	MarketTime             string                  `json:"marketTime"`
	SuspendTime            string                  `json:"suspendTime"`
	SettleTime             string                  `json:"settleTime,omitempty"`
	BettingType            string                  `json:"bettingType"`
	TurnInPlayEnabled      bool                    `json:"turnInPlayEnabled"`
	MarketType             string                  `json:"marketType"`
	Regulator              string                  `json:"regulator"`
	MarketBaseRate         float64                 `json:"marketBaseRate"`
	DiscountAllowed        bool                    `json:"discountAllowed"`
	Wallet                 string                  `json:"wallet,omitempty"`
	Rules                  string                  `json:"rules,omitempty"`
	RulesHasDate           bool                    `json:"rulesHasDate"`
	EachWayDivisor         float64                 `json:"eachWayDivisor,omitempty"`
	Clarifications         string                  `json:"clarifications,omitempty"`
	LineRangeInfo          *LineRangeInfo          `json:"lineRangeInfo,omitempty"`
	RaceType               string                  `json:"raceType,omitempty"`
	PriceLadderDescription *PriceLadderDescription `json:"priceLadderDescription,omitempty"`
	// BetDelayModels is sent for some markets only (e.g. ["PASSIVE"]) and is
	// not in SportsAPING.xml.
	BetDelayModels []string `json:"betDelayModels,omitempty"`
}

// LineRangeInfo describes a line market's range.
type LineRangeInfo struct {
	MaxUnitValue float64 `json:"maxUnitValue"`
	MinUnitValue float64 `json:"minUnitValue"`
	Interval     float64 `json:"interval"`
	MarketUnit   string  `json:"marketUnit"`
}

// PriceLadderDescription names a market's price ladder (CLASSIC, FINEST,
// LINE_RANGE).
type PriceLadderDescription struct {
	Type string `json:"type"`
}

// RunnerCatalog is one runner of a catalogue.
type RunnerCatalog struct {
	SelectionID  int64   `json:"selectionId"`
	RunnerName   string  `json:"runnerName"`
	Handicap     float64 `json:"handicap"`
	SortPriority int     `json:"sortPriority"`
	// Metadata is the RUNNER_METADATA projection: strings or null (Betfair
	// sends null for unknown values such as a missing AGE).
	Metadata map[string]*string `json:"metadata,omitempty"`
}

// Meta returns metadata key's value, "" when absent or null.
func (r *RunnerCatalog) Meta(key string) string {
	if v := r.Metadata[key]; v != nil {
		return *v
	}
	return ""
}

// ClothNumber returns the runner's CLOTH_NUMBER as a number. ok is false when
// it is absent or not a number: North American races have coupled entries
// such as "1A", which CLOTH_NUMBER_ALPHA (and Meta) keeps as sent.
func (r *RunnerCatalog) ClothNumber() (n int, ok bool) {
	n, err := strconv.Atoi(r.Meta("CLOTH_NUMBER"))
	return n, err == nil
}

// ColoursURL returns the URL of the runner's silks image: COLOURS_FILENAME_URL
// when Betfair sends it, else COLOURS_FILENAME under Betfair's silks
// directory, else "".
func (r *RunnerCatalog) ColoursURL() string {
	if u := r.Meta("COLOURS_FILENAME_URL"); u != "" {
		return u
	}
	if f := r.Meta("COLOURS_FILENAME"); f != "" && !strings.HasPrefix(f, "saddle_") {
		return "https://content-cache.betfair.com/feeds_images/Horses/SilkColours/" + f
	}
	return ""
}

// EventType is a catalogue's event type (sport).
type EventType struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Competition is a catalogue's competition.
type Competition struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Event is a catalogue's event.
type Event struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	CountryCode string `json:"countryCode,omitempty"`
	Timezone    string `json:"timezone,omitempty"`
	Venue       string `json:"venue,omitempty"`
	OpenDate    string `json:"openDate,omitempty"`
}

// APIError is an error answer of the Betting API (an APINGException).
type APIError struct {
	Endpoint string
	Method   string
	// Code is the APINGException's errorCode ("INVALID_SESSION_INFORMATION",
	// "TOO_MUCH_DATA", ...) or the JSON-RPC message when there is none.
	Code string
	// HTTPStatus is set when the answer was not JSON-RPC at all.
	HTTPStatus int
}

// Error names the method, the endpoint and the code.
func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("betting: %s at %s: HTTP %d without a JSON-RPC answer", e.Method, e.Endpoint, e.HTTPStatus)
	}
	return fmt.Sprintf("betting: %s at %s: %s", e.Method, e.Endpoint, e.Code)
}

// ParseCatalogue decodes a listMarketCatalogue JSON-RPC answer (or a bare
// array of catalogues), keeping each market's raw JSON.
func ParseCatalogue(body []byte) ([]MarketCatalogue, error) {
	b := bytes.TrimSpace(body)
	var raws []json.RawMessage
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &raws); err != nil {
			return nil, fmt.Errorf("betting: catalogue: %w", err)
		}
	} else {
		var env rpcResponse
		if err := json.Unmarshal(b, &env); err != nil {
			return nil, fmt.Errorf("betting: catalogue: %w", err)
		}
		if env.Error != nil {
			return nil, &APIError{Method: methodCatalogue, Code: env.Error.code()}
		}
		if err := json.Unmarshal(env.Result, &raws); err != nil {
			return nil, fmt.Errorf("betting: catalogue result: %w", err)
		}
	}
	out := make([]MarketCatalogue, len(raws))
	for i, r := range raws {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, fmt.Errorf("betting: catalogue market %d: %w", i, err)
		}
		out[i].Raw = r
	}
	return out, nil
}

const methodCatalogue = "SportsAPING/v1.0/listMarketCatalogue"

type rpcResponse struct {
	Result json.RawMessage `json:"result"`
	Error  *rpcError       `json:"error"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	// Data holds the exception under its class name: "APINGException" for
	// the Betting API, "AccountAPINGException" for the Account API.
	Data map[string]json.RawMessage `json:"data"`
}

func (e *rpcError) code() string {
	for _, raw := range e.Data {
		var ex struct {
			ErrorCode string `json:"errorCode"`
		}
		if json.Unmarshal(raw, &ex) == nil && ex.ErrorCode != "" {
			return ex.ErrorCode
		}
	}
	if e.Message != "" {
		return e.Message
	}
	return strconv.Itoa(e.Code)
}

// ListMarketCatalogue calls listMarketCatalogue with the client's session.
func (c *Client) ListMarketCatalogue(ctx context.Context, req CatalogueRequest) ([]MarketCatalogue, error) {
	if req.MaxResults == 0 {
		req.MaxResults = 1000
	}
	endpoint := strings.TrimSuffix(c.cfg.Endpoints.Betting, "/") + "/exchange/betting/json-rpc/v1"
	tok, err := c.SessionToken(ctx)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": methodCatalogue, "params": req, "id": 1})
	if err != nil {
		return nil, fmt.Errorf("betting: %s: %w", methodCatalogue, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("betting: %s: %w", endpoint, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("X-Application", c.cfg.AppKey)
	hr.Header.Set("X-Authentication", tok)
	body, resp, err := c.do(c.http, hr, endpoint)
	if err != nil {
		return nil, err
	}
	if isHTML(resp, body) || (resp.StatusCode != http.StatusOK && !bytes.Contains(body, []byte(`"jsonrpc"`))) {
		return nil, &APIError{Endpoint: endpoint, Method: methodCatalogue, HTTPStatus: resp.StatusCode}
	}
	cats, err := ParseCatalogue(body)
	var ae *APIError
	if err != nil && errors.As(err, &ae) {
		ae.Endpoint = endpoint
	}
	return cats, err
}

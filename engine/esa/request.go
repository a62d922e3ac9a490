package esa

import (
	"encoding/json"
	"fmt"
)

// Request ops, the "op" of a message a client sends.
const (
	OpAuthentication     = "authentication"
	OpMarketSubscription = "marketSubscription"
	OpOrderSubscription  = "orderSubscription"
	OpHeartbeat          = "heartbeat"
)

// Market data fields of a MarketDataFilter, as ESASwaggerSchema.json names
// them.
const (
	FieldExBestOffersDisp = "EX_BEST_OFFERS_DISP"
	FieldExBestOffers     = "EX_BEST_OFFERS"
	FieldExAllOffers      = "EX_ALL_OFFERS"
	FieldExTraded         = "EX_TRADED"
	FieldExTradedVol      = "EX_TRADED_VOL"
	FieldExLtp            = "EX_LTP"
	FieldExMarketDef      = "EX_MARKET_DEF"
	FieldSpTraded         = "SP_TRADED"
	FieldSpProjected      = "SP_PROJECTED"
)

// AllMarketDataFields is every field Betfair offers, the default a recorder
// subscribes with so that nothing is lost.
var AllMarketDataFields = []string{FieldExAllOffers, FieldExTraded, FieldExTradedVol,
	FieldExLtp, FieldExMarketDef, FieldSpTraded, FieldSpProjected}

// Authentication is the first request on a connection: the application key
// and a session token from the Betting API's login.
type Authentication struct {
	Op      string `json:"op"`
	ID      int64  `json:"id"`
	AppKey  string `json:"appKey"`
	Session string `json:"session"`
}

// String keeps the secrets out of logs and error messages: only the op and
// id are shown.
func (a Authentication) String() string {
	return fmt.Sprintf("authentication id=%d appKey=<redacted> session=<redacted>", a.ID)
}

// MarketFilter is the horizontal filter of a market subscription: which
// markets. Every field is optional; an empty filter means every market.
type MarketFilter struct {
	MarketIDs         []string `json:"marketIds,omitempty"`
	BspMarket         *bool    `json:"bspMarket,omitempty"`
	BettingTypes      []string `json:"bettingTypes,omitempty"`
	EventTypeIDs      []string `json:"eventTypeIds,omitempty"`
	EventIDs          []string `json:"eventIds,omitempty"`
	TurnInPlayEnabled *bool    `json:"turnInPlayEnabled,omitempty"`
	MarketTypes       []string `json:"marketTypes,omitempty"`
	Venues            []string `json:"venues,omitempty"`
	CountryCodes      []string `json:"countryCodes,omitempty"`
	RaceTypes         []string `json:"raceTypes,omitempty"`
}

// MarketDataFilter is the vertical filter of a market subscription: which
// fields, and how many levels of the best-offers ladders.
type MarketDataFilter struct {
	Fields       []string `json:"fields,omitempty"`
	LadderLevels int      `json:"ladderLevels,omitempty"`
}

// MarketSubscription is a marketSubscription request. InitialClk and Clk
// are set by the client when it resubscribes after a disconnect.
type MarketSubscription struct {
	Op                  string            `json:"op"`
	ID                  int64             `json:"id"`
	MarketFilter        *MarketFilter     `json:"marketFilter,omitempty"`
	MarketDataFilter    *MarketDataFilter `json:"marketDataFilter,omitempty"`
	ConflateMs          *int64            `json:"conflateMs,omitempty"`
	HeartbeatMs         int64             `json:"heartbeatMs,omitempty"`
	SegmentationEnabled bool              `json:"segmentationEnabled"`
	InitialClk          string            `json:"initialClk,omitempty"`
	Clk                 string            `json:"clk,omitempty"`
}

// OrderFilter shapes an order subscription.
type OrderFilter struct {
	IncludeOverallPosition        *bool    `json:"includeOverallPosition,omitempty"`
	AccountIDs                    []int64  `json:"accountIds,omitempty"`
	CustomerStrategyRefs          []string `json:"customerStrategyRefs,omitempty"`
	PartitionMatchedByStrategyRef bool     `json:"partitionMatchedByStrategyRef,omitempty"`
}

// OrderSubscription is an orderSubscription request.
type OrderSubscription struct {
	Op                  string       `json:"op"`
	ID                  int64        `json:"id"`
	OrderFilter         *OrderFilter `json:"orderFilter,omitempty"`
	ConflateMs          *int64       `json:"conflateMs,omitempty"`
	HeartbeatMs         int64        `json:"heartbeatMs,omitempty"`
	SegmentationEnabled bool         `json:"segmentationEnabled"`
	InitialClk          string       `json:"initialClk,omitempty"`
	Clk                 string       `json:"clk,omitempty"`
}

// Heartbeat is a heartbeat request; the server answers with a status.
type Heartbeat struct {
	Op string `json:"op"`
	ID int64  `json:"id"`
}

// AppendRequest appends req as one CRLF-terminated line, the framing the
// stream protocol uses in both directions. req is one of the request types
// of this file (or any value encoding/json accepts).
func AppendRequest(dst []byte, req any) ([]byte, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return dst, fmt.Errorf("esa: encoding %T: %w", req, err)
	}
	dst = append(dst, b...)
	return append(dst, '\r', '\n'), nil
}

// Request is any request a client may send, decoded by a server: the union
// of the request types' fields, selected by Op.
type Request struct {
	Op                  string            `json:"op"`
	ID                  int64             `json:"id"`
	AppKey              string            `json:"appKey,omitempty"`
	Session             string            `json:"session,omitempty"`
	MarketFilter        *MarketFilter     `json:"marketFilter,omitempty"`
	MarketDataFilter    *MarketDataFilter `json:"marketDataFilter,omitempty"`
	OrderFilter         *OrderFilter      `json:"orderFilter,omitempty"`
	ConflateMs          *int64            `json:"conflateMs,omitempty"`
	HeartbeatMs         int64             `json:"heartbeatMs,omitempty"`
	SegmentationEnabled bool              `json:"segmentationEnabled,omitempty"`
	InitialClk          string            `json:"initialClk,omitempty"`
	Clk                 string            `json:"clk,omitempty"`
}

// ParseRequest decodes one request line (without its line ending).
func ParseRequest(line []byte) (*Request, error) {
	var r Request
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, fmt.Errorf("esa: request: %w", err)
	}
	if r.Op == "" {
		return nil, fmt.Errorf("esa: request without op")
	}
	return &r, nil
}

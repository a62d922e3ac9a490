package betting

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Betfair's instruction limits per request.
const (
	MaxPlaceInstructions   = 200
	MaxCancelInstructions  = 60
	MaxReplaceInstructions = 60
	MaxUpdateInstructions  = 60
	// maxRecords is the largest page listCurrentOrders and
	// listClearedOrders give.
	maxRecords = 1000
)

// The methods of the Betting and Account APIs this client calls.
const (
	MethodPlaceOrders       = "SportsAPING/v1.0/placeOrders"
	MethodCancelOrders      = "SportsAPING/v1.0/cancelOrders"
	MethodReplaceOrders     = "SportsAPING/v1.0/replaceOrders"
	MethodUpdateOrders      = "SportsAPING/v1.0/updateOrders"
	MethodListCurrentOrders = "SportsAPING/v1.0/listCurrentOrders"
	MethodListClearedOrders = "SportsAPING/v1.0/listClearedOrders"
	MethodGetAccountFunds   = "AccountAPING/v1.0/getAccountFunds"
	MethodGetAccountDetails = "AccountAPING/v1.0/getAccountDetails"
)

// LimitOrder is a PlaceInstruction's limit order.
type LimitOrder struct {
	Size            float64 `json:"size"`
	Price           float64 `json:"price"`
	PersistenceType string  `json:"persistenceType,omitempty"`
	TimeInForce     string  `json:"timeInForce,omitempty"`
	MinFillSize     float64 `json:"minFillSize,omitempty"`
}

// LimitOnCloseOrder is a BSP bet with a price limit.
type LimitOnCloseOrder struct {
	Liability float64 `json:"liability"`
	Price     float64 `json:"price"`
}

// MarketOnCloseOrder is a BSP bet.
type MarketOnCloseOrder struct {
	Liability float64 `json:"liability"`
}

// PlaceInstruction is one order to place.
type PlaceInstruction struct {
	OrderType          string              `json:"orderType"`
	SelectionID        int64               `json:"selectionId"`
	Handicap           float64             `json:"handicap"`
	Side               string              `json:"side"`
	LimitOrder         *LimitOrder         `json:"limitOrder,omitempty"`
	LimitOnCloseOrder  *LimitOnCloseOrder  `json:"limitOnCloseOrder,omitempty"`
	MarketOnCloseOrder *MarketOnCloseOrder `json:"marketOnCloseOrder,omitempty"`
	CustomerOrderRef   string              `json:"customerOrderRef,omitempty"`
}

// CancelInstruction cancels all of a bet's remainder, or SizeReduction of it.
type CancelInstruction struct {
	BetID         string  `json:"betId"`
	SizeReduction float64 `json:"sizeReduction,omitempty"`
}

// ReplaceInstruction moves a bet's remainder to a new price.
type ReplaceInstruction struct {
	BetID    string  `json:"betId"`
	NewPrice float64 `json:"newPrice"`
}

// UpdateInstruction changes a bet's persistence.
type UpdateInstruction struct {
	BetID              string `json:"betId"`
	NewPersistenceType string `json:"newPersistenceType"`
}

// MarketVersion is the market version a placement is valid for: Betfair
// lapses it when the market has moved on.
type MarketVersion struct {
	Version int64 `json:"version"`
}

// PlaceRequest is placeOrders' parameters.
type PlaceRequest struct {
	MarketID     string             `json:"marketId"`
	Instructions []PlaceInstruction `json:"instructions"`
	// CustomerRef makes the request idempotent within 60 s: resend a
	// request whose outcome is unknown with the same one.
	CustomerRef         string         `json:"customerRef,omitempty"`
	MarketVersion       *MarketVersion `json:"marketVersion,omitempty"`
	CustomerStrategyRef string         `json:"customerStrategyRef,omitempty"`
	Async               bool           `json:"async,omitempty"`
}

// CancelRequest is cancelOrders' parameters. No instructions cancel every
// unmatched bet of the market (and no market id too: of every market).
type CancelRequest struct {
	MarketID     string              `json:"marketId,omitempty"`
	Instructions []CancelInstruction `json:"instructions,omitempty"`
	CustomerRef  string              `json:"customerRef,omitempty"`
}

// ReplaceRequest is replaceOrders' parameters.
type ReplaceRequest struct {
	MarketID      string               `json:"marketId"`
	Instructions  []ReplaceInstruction `json:"instructions"`
	CustomerRef   string               `json:"customerRef,omitempty"`
	MarketVersion *MarketVersion       `json:"marketVersion,omitempty"`
	Async         bool                 `json:"async,omitempty"`
}

// UpdateRequest is updateOrders' parameters.
type UpdateRequest struct {
	MarketID     string              `json:"marketId"`
	Instructions []UpdateInstruction `json:"instructions"`
	CustomerRef  string              `json:"customerRef,omitempty"`
}

// PlaceInstructionReport is one placement's outcome.
type PlaceInstructionReport struct {
	Status              string               `json:"status"`
	ErrorCode           InstructionErrorCode `json:"errorCode,omitempty"`
	OrderStatus         string               `json:"orderStatus,omitempty"`
	Instruction         PlaceInstruction     `json:"instruction"`
	BetID               string               `json:"betId,omitempty"`
	PlacedDate          string               `json:"placedDate,omitempty"`
	AveragePriceMatched float64              `json:"averagePriceMatched"`
	SizeMatched         float64              `json:"sizeMatched"`
}

// CancelInstructionReport is one cancellation's outcome.
type CancelInstructionReport struct {
	Status        string               `json:"status"`
	ErrorCode     InstructionErrorCode `json:"errorCode,omitempty"`
	Instruction   CancelInstruction    `json:"instruction"`
	SizeCancelled float64              `json:"sizeCancelled"`
	CancelledDate string               `json:"cancelledDate,omitempty"`
}

// ReplaceInstructionReport is one replacement's outcome: its cancel and
// its new placement.
type ReplaceInstructionReport struct {
	Status                  string                   `json:"status"`
	ErrorCode               InstructionErrorCode     `json:"errorCode,omitempty"`
	CancelInstructionReport *CancelInstructionReport `json:"cancelInstructionReport,omitempty"`
	PlaceInstructionReport  *PlaceInstructionReport  `json:"placeInstructionReport,omitempty"`
}

// UpdateInstructionReport is one update's outcome.
type UpdateInstructionReport struct {
	Status      string               `json:"status"`
	ErrorCode   InstructionErrorCode `json:"errorCode,omitempty"`
	Instruction UpdateInstruction    `json:"instruction"`
}

// ExecutionReport is the part every order request's answer shares.
type ExecutionReport struct {
	CustomerRef string             `json:"customerRef,omitempty"`
	Status      string             `json:"status"`
	ErrorCode   ExecutionErrorCode `json:"errorCode,omitempty"`
	MarketID    string             `json:"marketId,omitempty"`
}

// PlaceReport is placeOrders' answer.
type PlaceReport struct {
	ExecutionReport
	InstructionReports []PlaceInstructionReport `json:"instructionReports"`
}

// CancelReport is cancelOrders' answer.
type CancelReport struct {
	ExecutionReport
	InstructionReports []CancelInstructionReport `json:"instructionReports"`
}

// ReplaceReport is replaceOrders' answer.
type ReplaceReport struct {
	ExecutionReport
	InstructionReports []ReplaceInstructionReport `json:"instructionReports"`
}

// UpdateReport is updateOrders' answer.
type UpdateReport struct {
	ExecutionReport
	InstructionReports []UpdateInstructionReport `json:"instructionReports"`
}

// PriceSize is a price and a size.
type PriceSize struct {
	Price float64 `json:"price"`
	Size  float64 `json:"size"`
}

// CurrentOrder is one order of listCurrentOrders' answer.
type CurrentOrder struct {
	BetID               string    `json:"betId"`
	MarketID            string    `json:"marketId"`
	SelectionID         int64     `json:"selectionId"`
	Handicap            float64   `json:"handicap"`
	PriceSize           PriceSize `json:"priceSize"`
	BspLiability        float64   `json:"bspLiability"`
	Side                string    `json:"side"`
	Status              string    `json:"status"`
	PersistenceType     string    `json:"persistenceType"`
	OrderType           string    `json:"orderType"`
	PlacedDate          string    `json:"placedDate"`
	MatchedDate         string    `json:"matchedDate,omitempty"`
	AveragePriceMatched float64   `json:"averagePriceMatched"`
	SizeMatched         float64   `json:"sizeMatched"`
	SizeRemaining       float64   `json:"sizeRemaining"`
	SizeLapsed          float64   `json:"sizeLapsed"`
	SizeCancelled       float64   `json:"sizeCancelled"`
	SizeVoided          float64   `json:"sizeVoided"`
	RegulatorCode       string    `json:"regulatorCode,omitempty"`
	CustomerOrderRef    string    `json:"customerOrderRef,omitempty"`
	CustomerStrategyRef string    `json:"customerStrategyRef,omitempty"`
}

// TimeRange is a from-to range of RFC 3339 times; either may be empty.
type TimeRange struct {
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// CurrentOrdersFilter is listCurrentOrders' parameters but for paging,
// which ListCurrentOrders does itself.
type CurrentOrdersFilter struct {
	BetIDs               []string `json:"betIds,omitempty"`
	MarketIDs            []string `json:"marketIds,omitempty"`
	OrderProjection      string   `json:"orderProjection,omitempty"` // ALL, EXECUTABLE, EXECUTION_COMPLETE
	CustomerOrderRefs    []string `json:"customerOrderRefs,omitempty"`
	CustomerStrategyRefs []string `json:"customerStrategyRefs,omitempty"`
	OrderBy              string   `json:"orderBy,omitempty"`
}

// ClearedOrder is one settled (or voided, lapsed, cancelled) bet of
// listClearedOrders' answer.
type ClearedOrder struct {
	EventTypeID         string  `json:"eventTypeId"`
	EventID             string  `json:"eventId"`
	MarketID            string  `json:"marketId"`
	SelectionID         int64   `json:"selectionId"`
	Handicap            float64 `json:"handicap"`
	BetID               string  `json:"betId"`
	PlacedDate          string  `json:"placedDate"`
	PersistenceType     string  `json:"persistenceType"`
	OrderType           string  `json:"orderType"`
	Side                string  `json:"side"`
	BetOutcome          string  `json:"betOutcome"`
	PriceRequested      float64 `json:"priceRequested"`
	SettledDate         string  `json:"settledDate"`
	LastMatchedDate     string  `json:"lastMatchedDate,omitempty"`
	BetCount            int     `json:"betCount"`
	Commission          float64 `json:"commission,omitempty"`
	PriceMatched        float64 `json:"priceMatched"`
	PriceReduced        bool    `json:"priceReduced"`
	SizeSettled         float64 `json:"sizeSettled"`
	Profit              float64 `json:"profit"`
	SizeCancelled       float64 `json:"sizeCancelled,omitempty"`
	CustomerOrderRef    string  `json:"customerOrderRef,omitempty"`
	CustomerStrategyRef string  `json:"customerStrategyRef,omitempty"`
}

// ClearedOrdersFilter is listClearedOrders' parameters but for paging.
// BetStatus is required: SETTLED, VOIDED, LAPSED or CANCELLED.
type ClearedOrdersFilter struct {
	BetStatus            string     `json:"betStatus"`
	EventTypeIDs         []string   `json:"eventTypeIds,omitempty"`
	EventIDs             []string   `json:"eventIds,omitempty"`
	MarketIDs            []string   `json:"marketIds,omitempty"`
	BetIDs               []string   `json:"betIds,omitempty"`
	CustomerOrderRefs    []string   `json:"customerOrderRefs,omitempty"`
	CustomerStrategyRefs []string   `json:"customerStrategyRefs,omitempty"`
	SettledDateRange     *TimeRange `json:"settledDateRange,omitempty"`
}

// AccountFunds is getAccountFunds' answer.
type AccountFunds struct {
	AvailableToBetBalance float64 `json:"availableToBetBalance"`
	Exposure              float64 `json:"exposure"`
	RetainedCommission    float64 `json:"retainedCommission"`
	ExposureLimit         float64 `json:"exposureLimit"`
	DiscountRate          float64 `json:"discountRate"`
	PointsBalance         int     `json:"pointsBalance"`
	Wallet                string  `json:"wallet,omitempty"`
}

// AccountDetails is getAccountDetails' answer (AccountAPING's
// AccountDetailsResponse). CurrencyCode is what every stake and balance is
// in, and so which minimum bet Betfair holds the account to. Every field
// is optional in Betfair's definition; the holder's name is left out, as
// nothing here needs it.
type AccountDetails struct {
	CurrencyCode  string  `json:"currencyCode,omitempty"`
	LocaleCode    string  `json:"localeCode,omitempty"`
	Region        string  `json:"region,omitempty"`
	Timezone      string  `json:"timezone,omitempty"`
	DiscountRate  float64 `json:"discountRate"`
	PointsBalance int     `json:"pointsBalance"`
	CountryCode   string  `json:"countryCode,omitempty"`
}

// Batches splits items into runs of at most max, in order: one request
// each. Betfair allows 200 placements and 60 other instructions per
// request, all in one market.
func Batches[T any](items []T, max int) [][]T {
	var out [][]T
	for len(items) > max {
		out = append(out, items[:max:max])
		items = items[max:]
	}
	if len(items) > 0 {
		out = append(out, items)
	}
	return out
}

// PlaceOrders sends one placeOrders request. More than 200 instructions,
// or a reference over Betfair's limits, is refused before sending (a
// *LimitError). A refusal of the whole request is an *ExecutionError; an
// answer that never came is an *UnknownOutcomeError. Instruction failures
// are in the report's instruction reports.
func (c *Client) PlaceOrders(ctx context.Context, req PlaceRequest) (*PlaceReport, error) {
	if err := checkCount(MethodPlaceOrders, len(req.Instructions), MaxPlaceInstructions); err != nil {
		return nil, err
	}
	if len(req.CustomerRef) > 32 || len(req.CustomerStrategyRef) > 15 {
		return nil, &LimitError{Method: MethodPlaceOrders, Reason: "customerRef over 32 or customerStrategyRef over 15 characters"}
	}
	for i, in := range req.Instructions {
		if len(in.CustomerOrderRef) > 32 {
			return nil, &LimitError{Method: MethodPlaceOrders, Reason: fmt.Sprintf("instruction %d: customerOrderRef over 32 characters", i)}
		}
	}
	var rep PlaceReport
	err := c.order(ctx, MethodPlaceOrders, req.MarketID, req.CustomerRef, len(req.Instructions), req, &rep, &rep.ExecutionReport, func() []InstructionErrorCode {
		codes := make([]InstructionErrorCode, len(rep.InstructionReports))
		for i, r := range rep.InstructionReports {
			codes[i] = r.ErrorCode
		}
		return codes
	})
	return &rep, err
}

// PlaceBatched places any number of instructions in one market as
// requests of at most 200, one after the other, each with its own
// customerRef from ref. It returns each request's report and error in
// order; it stops at the first request whose outcome is unknown, since
// what follows may depend on it.
func (c *Client) PlaceBatched(ctx context.Context, req PlaceRequest, ref func() string) ([]*PlaceReport, []error) {
	var reps []*PlaceReport
	var errs []error
	for _, b := range Batches(req.Instructions, MaxPlaceInstructions) {
		r := req
		r.Instructions, r.CustomerRef = b, ref()
		rep, err := c.PlaceOrders(ctx, r)
		reps, errs = append(reps, rep), append(errs, err)
		if errors.Is(err, ErrOutcomeUnknown) {
			break
		}
	}
	return reps, errs
}

// CancelOrders sends one cancelOrders request (at most 60 instructions;
// none cancels the whole market).
func (c *Client) CancelOrders(ctx context.Context, req CancelRequest) (*CancelReport, error) {
	if err := checkCount(MethodCancelOrders, len(req.Instructions), MaxCancelInstructions); err != nil {
		return nil, err
	}
	var rep CancelReport
	err := c.order(ctx, MethodCancelOrders, req.MarketID, req.CustomerRef, len(req.Instructions), req, &rep, &rep.ExecutionReport, func() []InstructionErrorCode {
		codes := make([]InstructionErrorCode, len(rep.InstructionReports))
		for i, r := range rep.InstructionReports {
			codes[i] = r.ErrorCode
		}
		return codes
	})
	return &rep, err
}

// CancelMarket cancels every unmatched bet of a market.
func (c *Client) CancelMarket(ctx context.Context, marketID, customerRef string) (*CancelReport, error) {
	if marketID == "" {
		return nil, &LimitError{Method: MethodCancelOrders, Reason: "no market id (cancelling every market's bets is not what CancelMarket does)"}
	}
	return c.CancelOrders(ctx, CancelRequest{MarketID: marketID, CustomerRef: customerRef})
}

// ReplaceOrders sends one replaceOrders request (at most 60 instructions).
func (c *Client) ReplaceOrders(ctx context.Context, req ReplaceRequest) (*ReplaceReport, error) {
	if err := checkCount(MethodReplaceOrders, len(req.Instructions), MaxReplaceInstructions); err != nil {
		return nil, err
	}
	var rep ReplaceReport
	err := c.order(ctx, MethodReplaceOrders, req.MarketID, req.CustomerRef, len(req.Instructions), req, &rep, &rep.ExecutionReport, func() []InstructionErrorCode {
		codes := make([]InstructionErrorCode, len(rep.InstructionReports))
		for i, r := range rep.InstructionReports {
			codes[i] = r.ErrorCode
		}
		return codes
	})
	return &rep, err
}

// UpdateOrders sends one updateOrders request (at most 60 instructions).
func (c *Client) UpdateOrders(ctx context.Context, req UpdateRequest) (*UpdateReport, error) {
	if err := checkCount(MethodUpdateOrders, len(req.Instructions), MaxUpdateInstructions); err != nil {
		return nil, err
	}
	var rep UpdateReport
	err := c.order(ctx, MethodUpdateOrders, req.MarketID, req.CustomerRef, len(req.Instructions), req, &rep, &rep.ExecutionReport, func() []InstructionErrorCode {
		codes := make([]InstructionErrorCode, len(rep.InstructionReports))
		for i, r := range rep.InstructionReports {
			codes[i] = r.ErrorCode
		}
		return codes
	})
	return &rep, err
}

// ListCurrentOrders returns every order the filter selects, asking page
// after page until Betfair says no more are available.
func (c *Client) ListCurrentOrders(ctx context.Context, f CurrentOrdersFilter) ([]CurrentOrder, error) {
	var all []CurrentOrder
	for from := 0; ; {
		var page struct {
			CurrentOrders []CurrentOrder `json:"currentOrders"`
			MoreAvailable bool           `json:"moreAvailable"`
		}
		params := struct {
			CurrentOrdersFilter
			FromRecord  int `json:"fromRecord"`
			RecordCount int `json:"recordCount"`
		}{f, from, maxRecords}
		if err := c.call(ctx, c.bettingURL(), MethodListCurrentOrders, params, &page); err != nil {
			return all, err
		}
		all = append(all, page.CurrentOrders...)
		if !page.MoreAvailable || len(page.CurrentOrders) == 0 {
			return all, nil
		}
		from += len(page.CurrentOrders)
	}
}

// ListClearedOrders returns every cleared order the filter selects, page
// after page.
func (c *Client) ListClearedOrders(ctx context.Context, f ClearedOrdersFilter) ([]ClearedOrder, error) {
	if f.BetStatus == "" {
		f.BetStatus = "SETTLED"
	}
	var all []ClearedOrder
	for from := 0; ; {
		var page struct {
			ClearedOrders []ClearedOrder `json:"clearedOrders"`
			MoreAvailable bool           `json:"moreAvailable"`
		}
		params := struct {
			ClearedOrdersFilter
			FromRecord  int `json:"fromRecord"`
			RecordCount int `json:"recordCount"`
		}{f, from, maxRecords}
		if err := c.call(ctx, c.bettingURL(), MethodListClearedOrders, params, &page); err != nil {
			return all, err
		}
		all = append(all, page.ClearedOrders...)
		if !page.MoreAvailable || len(page.ClearedOrders) == 0 {
			return all, nil
		}
		from += len(page.ClearedOrders)
	}
}

// GetAccountFunds returns the account's balance and exposure.
func (c *Client) GetAccountFunds(ctx context.Context) (*AccountFunds, error) {
	var f AccountFunds
	if err := c.call(ctx, c.accountURL(), MethodGetAccountFunds, struct{}{}, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// GetAccountDetails returns the account's details: its currency above
// all.
func (c *Client) GetAccountDetails(ctx context.Context) (*AccountDetails, error) {
	var d AccountDetails
	if err := c.call(ctx, c.accountURL(), MethodGetAccountDetails, struct{}{}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

func checkCount(method string, n, max int) error {
	if n > max {
		return &LimitError{Method: method, Reason: fmt.Sprintf("%d instructions, over Betfair's limit of %d per request (split it: Batches)", n, max)}
	}
	return nil
}

func (c *Client) bettingURL() string {
	return strings.TrimSuffix(c.cfg.Endpoints.Betting, "/") + "/exchange/betting/json-rpc/v1"
}

func (c *Client) accountURL() string {
	return strings.TrimSuffix(c.cfg.Endpoints.Betting, "/") + "/exchange/account/json-rpc/v1"
}

// order runs an order request: the call, then the execution report's
// status. codes gives the instruction error codes once out is decoded.
func (c *Client) order(ctx context.Context, method, market, ref string, n int, params, out any, er *ExecutionReport, codes func() []InstructionErrorCode) error {
	if c.dry.Load() {
		return c.dryRun(method, market, ref, params)
	}
	start := time.Now()
	err := orderOutcome(c.rpc(ctx, c.bettingURL(), method, params, out), method, market, ref, er, codes)
	c.log.Debug("order request", "method", method, "market", market, "customer_ref", ref, "instructions", n,
		"status", er.Status, "error_code", er.ErrorCode, "ms", time.Since(start).Milliseconds(), "err", err)
	if c.cfg.Observe != nil {
		c.cfg.Observe(method, time.Since(start), err)
	}
	return err
}

// orderOutcome reads an order request's call error and execution report
// as the caller's error: nil, *UnknownOutcomeError, *ExecutionError or
// the call's own.
func orderOutcome(err error, method, market, ref string, er *ExecutionReport, codes func() []InstructionErrorCode) error {
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			switch {
			case ae.Code == string(APITimeoutError) || ae.Code == string(APIUnexpectedError):
				// The call reached Betfair and may have reached the
				// matcher.
			case ae.HTTPStatus == 0 || ae.HTTPStatus < 500:
				// Refused before the matcher (TOO_MANY_REQUESTS,
				// INVALID_SESSION_INFORMATION, ...): nothing happened.
				return err
			}
		} else if notSent(err) {
			return err
		}
		return &UnknownOutcomeError{Method: method, MarketID: market, CustomerRef: ref, Cause: err}
	}
	switch er.Status {
	case "SUCCESS":
		return nil
	case "TIMEOUT":
		return &UnknownOutcomeError{Method: method, MarketID: market, CustomerRef: ref, Cause: errors.New("the exchange answered TIMEOUT")}
	}
	return &ExecutionError{Method: method, MarketID: market, CustomerRef: ref, Code: er.ErrorCode, Instructions: codes()}
}

// notSent reports whether err shows the request never left: the
// connection could not be made, or the context ended before sending.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var le *LimitError
	return errors.As(err, &le) || errors.Is(err, errNotLoggedIn)
}

var errNotLoggedIn = errors.New("betting: not logged in")

// call makes one JSON-RPC call to endpoint and decodes its result into
// out, and tells Config.Observe.
func (c *Client) call(ctx context.Context, endpoint, method string, params, out any) error {
	start := time.Now()
	err := c.rpc(ctx, endpoint, method, params, out)
	if c.cfg.Observe != nil {
		c.cfg.Observe(method, time.Since(start), err)
	}
	return err
}

// rpc makes one JSON-RPC call to endpoint and decodes its result into
// out. Its errors name the method and endpoint, never the request (which
// travels with the session token and application key in its headers).
func (c *Client) rpc(ctx context.Context, endpoint, method string, params, out any) error {
	tok, err := c.SessionToken(ctx)
	if err != nil {
		return errNotLoggedIn
	}
	payload, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": method, "params": params, "id": 1})
	if err != nil {
		return fmt.Errorf("betting: %s: %w", method, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("betting: %s: %w", endpoint, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("X-Application", c.cfg.AppKey)
	hr.Header.Set("X-Authentication", tok)
	body, resp, err := c.do(c.http, hr, endpoint)
	if err != nil {
		return err
	}
	if isHTML(resp, body) || (resp.StatusCode != http.StatusOK && !bytes.Contains(body, []byte(`"jsonrpc"`))) {
		return &APIError{Endpoint: endpoint, Method: method, HTTPStatus: resp.StatusCode}
	}
	var env rpcResponse
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("betting: %s at %s: answer is not JSON-RPC (%d bytes): %w", method, endpoint, len(body), err)
	}
	if env.Error != nil {
		return &APIError{Endpoint: endpoint, Method: method, Code: env.Error.code()}
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return fmt.Errorf("betting: %s at %s: result: %w", method, endpoint, err)
	}
	return nil
}

// LimitSize is a placement instruction's limit size (0 for the BSP types).
func (in PlaceInstruction) LimitSize() float64 {
	if in.LimitOrder == nil {
		return 0
	}
	return in.LimitOrder.Size
}

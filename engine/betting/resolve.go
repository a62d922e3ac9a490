package betting

import (
	"context"
	"errors"
	"fmt"
)

// PlaceResolved places req and does what a lost answer calls for, so that
// no order is placed twice and none is given up while it may exist:
//
//   - an answer that never came (*UnknownOutcomeError) is resent with the
//     same customerRef, up to attempts requests in all: Betfair refuses a
//     copy of a request it already carried out within 60 s;
//   - DUPLICATE_TRANSACTION means an earlier copy went through and its
//     answer was lost: the orders are looked up by their customerOrderRef
//     (listCurrentOrders) and their report rebuilt from what the exchange
//     holds;
//   - when the attempts are spent, the orders are looked up once more; if
//     the exchange holds none of them the outcome stays unknown (the
//     *UnknownOutcomeError is returned): they may still appear, and must
//     not be placed again.
//
// Every instruction needs a customerOrderRef, and req a customerRef.
// placeOrders is atomic, so finding any of the orders means all were
// placed.
func (c *Client) PlaceResolved(ctx context.Context, req PlaceRequest, attempts int) (*PlaceReport, error) {
	if req.CustomerRef == "" {
		return nil, &LimitError{Method: MethodPlaceOrders, Reason: "PlaceResolved needs a customerRef to resend the request safely"}
	}
	for i, in := range req.Instructions {
		if in.CustomerOrderRef == "" {
			return nil, &LimitError{Method: MethodPlaceOrders, Reason: fmt.Sprintf("PlaceResolved needs a customerOrderRef on instruction %d to find it again", i)}
		}
	}
	attempts = max(attempts, 1)
	var lastErr error
	for n := 1; ; n++ {
		rep, err := c.PlaceOrders(ctx, req)
		switch {
		case err == nil:
			return rep, nil
		case IsExecutionError(err, ExecDuplicateTransaction):
			c.log.Info("placeOrders answered DUPLICATE_TRANSACTION: looking the orders up", "market", req.MarketID, "customer_ref", req.CustomerRef)
			rep, found, lerr := c.lookupPlaced(ctx, req)
			if lerr != nil {
				return nil, &UnknownOutcomeError{Method: MethodPlaceOrders, MarketID: req.MarketID, CustomerRef: req.CustomerRef, Cause: lerr}
			}
			if !found {
				return nil, &UnknownOutcomeError{Method: MethodPlaceOrders, MarketID: req.MarketID, CustomerRef: req.CustomerRef,
					Cause: errors.New("DUPLICATE_TRANSACTION, yet listCurrentOrders holds none of the orders yet")}
			}
			return rep, nil
		case !errors.Is(err, ErrOutcomeUnknown):
			return rep, err
		}
		lastErr = err
		if n >= attempts || ctx.Err() != nil {
			break
		}
		c.log.Warn("placeOrders answer lost: sending it again with the same customerRef", "market", req.MarketID, "customer_ref", req.CustomerRef, "attempt", n+1, "err", err)
	}
	if ctx.Err() == nil {
		if rep, found, err := c.lookupPlaced(ctx, req); err == nil && found {
			return rep, nil
		}
	}
	return nil, lastErr
}

// lookupPlaced rebuilds a placement's report from the exchange's current
// orders carrying the request's customerOrderRefs; found says whether any
// was there.
func (c *Client) lookupPlaced(ctx context.Context, req PlaceRequest) (*PlaceReport, bool, error) {
	refs := make([]string, len(req.Instructions))
	for i, in := range req.Instructions {
		refs[i] = in.CustomerOrderRef
	}
	orders, err := c.ListCurrentOrders(ctx, CurrentOrdersFilter{MarketIDs: []string{req.MarketID}, CustomerOrderRefs: refs, OrderProjection: "ALL"})
	if err != nil {
		return nil, false, err
	}
	byRef := make(map[string]*CurrentOrder, len(orders))
	for i := range orders {
		if o := &orders[i]; o.MarketID == req.MarketID {
			byRef[o.CustomerOrderRef] = o
		}
	}
	rep := &PlaceReport{ExecutionReport: ExecutionReport{CustomerRef: req.CustomerRef, Status: "SUCCESS", MarketID: req.MarketID}}
	found := false
	for _, in := range req.Instructions {
		ir := PlaceInstructionReport{Instruction: in}
		if o := byRef[in.CustomerOrderRef]; o != nil {
			found = true
			ir.Status, ir.BetID, ir.PlacedDate, ir.OrderStatus = "SUCCESS", o.BetID, o.PlacedDate, o.Status
			ir.SizeMatched, ir.AveragePriceMatched = o.SizeMatched, o.AveragePriceMatched
		} else {
			// Atomic placement: the others being there, this one is too,
			// not yet listed; its bet id comes with the order stream.
			ir.Status = "SUCCESS"
		}
		rep.InstructionReports = append(rep.InstructionReports, ir)
	}
	return rep, found, nil
}

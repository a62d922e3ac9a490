package betting

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ErrDryRun is the error of every order request a client configured with
// DryRun did not send: nothing happened on the exchange.
var ErrDryRun = errors.New("betting: dry run: order request not sent")

// DryRun reports whether the client sends no order-changing request.
func (c *Client) DryRun() bool { return c.dry.Load() }

// SetDryRun makes the client send order-changing requests or not (see
// Config.DryRun), for a caller that did not build it.
func (c *Client) SetDryRun(on bool) { c.dry.Store(on) }

// dryRun logs an order request as it would have been sent and returns
// ErrDryRun. The request's body holds no secret (the session token and
// application key travel in its headers), so its instructions are logged
// whole.
func (c *Client) dryRun(method, market, ref string, params any) error {
	var body struct {
		Instructions json.RawMessage `json:"instructions"`
	}
	b, err := json.Marshal(params)
	if err == nil {
		err = json.Unmarshal(b, &body)
	}
	if err != nil {
		return fmt.Errorf("betting: dry run: %s in %s: %w", method, market, err)
	}
	c.log.Info("dry run: order request not sent", "method", method, "market", market, "customer_ref", ref,
		"instructions", string(body.Instructions))
	return fmt.Errorf("%w: %s in %s (customerRef %s)", ErrDryRun, method, market, ref)
}

package esa

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// ErrNotConnected is Heartbeat's error between connections.
var ErrNotConnected = errors.New("esa: not connected")

func (c *Client) setConn(conn net.Conn) {
	c.connMu.Lock()
	c.conn = conn
	c.connMu.Unlock()
}

// Heartbeat sends a heartbeat request with id on the connection in use;
// the server answers with a status. Against `trade serve --lockstep` it is
// the client's signal that it has finished with the last market change and
// has sent id order requests in all (placeOrders, cancelOrders,
// replaceOrders and updateOrders, each counted once whatever its retries):
// the exchange sends the next change once it has received that many.
func (c *Client) Heartbeat(id int64) error {
	c.connMu.Lock()
	conn := c.conn
	c.connMu.Unlock()
	if conn == nil {
		return ErrNotConnected
	}
	b, err := AppendRequest(nil, Heartbeat{Op: OpHeartbeat, ID: id})
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(b); err != nil {
		return fmt.Errorf("esa: heartbeat to %s: %w", c.cfg.Addr, err)
	}
	return nil
}

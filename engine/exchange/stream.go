package exchange

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// writeTimeout bounds one write to a client that stopped reading.
const writeTimeout = 30 * time.Second

// subscription is a connection's market subscription: what it matches and
// where in the replay it is.
type subscription struct {
	id      int64
	hb      time.Duration
	seg     bool
	matched []bool // by market index
	pos     int    // next event index to consider
	// imageAt is the replay position the image was taken at (its
	// initialClk). Markets whose first change lies at or after it were
	// imaged from that first change, which is therefore never sent again.
	imageAt  int
	lastPt   int64 // pt of the last change sent
	lastSend time.Time
}

// conn is one stream connection.
type conn struct {
	ctx       context.Context
	e         *Exchange
	c         net.Conn
	w         *bufio.Writer
	id        string
	authed    bool
	sub       *subscription
	ordSub    int64 // order subscription id, 0 when none
	ordHb     time.Duration
	ordLast   time.Time   // when the last ocm was sent
	ordPos    int         // next order change to send (index into the order feed)
	ordFilter OrderFilter // the order subscription's orderFilter
	// held: in lockstep, a market change was sent and the client has not
	// yet said it is done with it.
	held    bool
	opened  time.Time
	buf     []byte
	pending int // change messages written since the last flush
}

// errClose ends a connection on purpose (a fault, a FAILURE status).
type errClose struct{ why string }

func (e *errClose) Error() string { return e.why }

func (e *Exchange) serveConn(ctx context.Context, nc net.Conn) {
	defer nc.Close()
	// The connection's own context also ends its request reader.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.connected.Add(1)
	c := &conn{ctx: ctx, e: e, c: nc, opened: time.Now(), w: bufio.NewWriterSize(deadlineWriter{nc}, 64<<10),
		id: fmt.Sprintf("000-%012d-%06d", e.start.Unix(), e.connSeq.Add(1))}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	log := e.log.With("conn", c.id, "remote", nc.RemoteAddr().String())

	reqs := make(chan []byte, 16)
	go func() {
		defer close(reqs)
		fr := esa.NewFrameReader(nc, 1<<20)
		for {
			line, err := fr.Next()
			if err != nil {
				return
			}
			select {
			case reqs <- append([]byte(nil), line...):
			case <-ctx.Done():
				return
			}
		}
	}()

	c.buf = append(c.buf[:0], `{"op":"connection","connectionId":"`...)
	c.buf = append(c.buf, c.id...)
	c.buf = append(c.buf, `"}`...)
	err := c.write(c.buf, false)
	if err == nil {
		err = c.flush()
	}
	for err == nil {
		err = c.step(ctx, reqs)
	}
	c.flush()
	if c.authed {
		e.open.Add(-1)
	}
	if ce, ok := err.(*errClose); ok {
		log.Info("stream connection closed", "why", ce.why)
	} else {
		log.Debug("stream connection ended", "err", err)
	}
}

// step does one thing: handles a request, sends one due change, sends a
// heartbeat, or waits for whichever comes first.
func (c *conn) step(ctx context.Context, reqs <-chan []byte) error {
	r := c.e.replay
	var wait time.Duration = -1
	heartbeat := false
	next := -1
	if s := c.sub; s != nil && !c.held {
		for s.pos < len(r.events) && !c.wanted(s.pos) {
			s.pos++
		}
		if s.pos < len(r.events) {
			next = s.pos
			wait = 0
			if c.e.cfg.Speed > 0 {
				wait = max(0, time.Until(c.dueAt(r.events[next].pt)))
			}
		}
		// Heartbeats fill idle time; at speed 0 a change is always due.
	}
	if s := c.sub; s != nil {
		if wait != 0 {
			if hbAt := time.Until(s.lastSend.Add(s.hb)); wait < 0 || hbAt < wait {
				wait, heartbeat = max(0, hbAt), true
			}
		}
	}
	idle := false
	if c.sub == nil && c.ordSub == 0 {
		// Betfair closes a connection left unsubscribed this long.
		if at := time.Until(c.opened.Add(c.e.cfg.IdleTimeout)); wait < 0 || at < wait {
			wait, idle = max(0, at), true
		}
	}
	ordHeartbeat, ordDelta := false, false
	if c.ordSub != 0 {
		if c.ordPos < c.orderFeedLen() {
			var ow time.Duration
			if c.e.cfg.Speed > 0 && c.e.cfg.Betting == nil {
				ow = max(0, time.Until(c.dueAt(r.orders[c.ordPos].Pt)))
			}
			if wait < 0 || ow < wait || (ow == 0 && heartbeat) {
				wait, heartbeat, ordDelta = ow, false, true
			}
		}
		if hbAt := time.Until(c.ordLast.Add(c.ordHb)); wait < 0 || hbAt < wait {
			wait, heartbeat, ordHeartbeat, ordDelta = max(0, hbAt), false, true, false
		}
	}
	if wait == 0 {
		select {
		case line, ok := <-reqs:
			if !ok {
				return &errClose{"client closed"}
			}
			return c.request(line)
		default:
		}
		if idle {
			ms := c.e.cfg.IdleTimeout.Milliseconds()
			return c.failure(-1, "TIMEOUT", fmt.Sprintf("Connection is not subscribed and is idle: %d ms", ms), true)
		}
		if ordHeartbeat {
			return c.orderHeartbeat()
		}
		if ordDelta {
			return c.orderDelta()
		}
		if heartbeat {
			return c.heartbeat()
		}
		return c.delta(next)
	}
	if err := c.flush(); err != nil {
		return err
	}
	var timer <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timer = t.C
	}
	select {
	case line, ok := <-reqs:
		if !ok {
			return &errClose{"client closed"}
		}
		return c.request(line)
	case <-ctx.Done():
		return ctx.Err()
	case <-timer:
		return nil
	case <-c.e.orderWake(c.ordSub != 0):
		return nil
	}
}

// wanted reports whether event i is sent to the subscription: its market
// matches, and it is not a first change the image already holds.
func (c *conn) wanted(i int) bool {
	s := c.sub
	ev := &c.e.replay.events[i]
	if !s.matched[ev.market] {
		return false
	}
	return i < s.imageAt || i != c.e.replay.markets[ev.market].first
}

// dueAt is when a change published at pt is sent: the replay clock starts
// at the exchange's start with the first change's publish time.
func (c *conn) dueAt(pt int64) time.Time {
	if c.e.cfg.Speed == 0 {
		return time.Time{}
	}
	d := float64(pt-c.e.replay.startPt) / c.e.cfg.Speed
	return c.e.start.Add(time.Duration(d * float64(time.Millisecond)))
}

// position is how far the replay clock has got: the index of the first
// change not yet due.
func (c *conn) position() int {
	r := c.e.replay
	if c.e.cfg.Speed == 0 {
		return 0
	}
	now := time.Now()
	i := 0
	for i < len(r.events) && !c.dueAt(r.events[i].pt).After(now) {
		i++
	}
	return i
}

// virtualPt is the publish time a heartbeat carries: the replay clock's
// now, never before the last change sent.
func (c *conn) virtualPt() int64 {
	pt := c.sub.lastPt
	if c.e.cfg.Speed > 0 {
		v := c.e.replay.startPt + int64(float64(time.Since(c.e.start).Milliseconds())*c.e.cfg.Speed)
		pt = max(pt, v)
	}
	return pt
}

func (c *conn) request(line []byte) error {
	req, err := esa.ParseRequest(line)
	if err != nil {
		return c.failure(0, "INVALID_INPUT", err.Error(), true)
	}
	switch req.Op {
	case esa.OpAuthentication:
		return c.authenticate(req)
	case esa.OpHeartbeat:
		if c.e.cfg.Lockstep && c.held {
			// The client is done with the change: once every order
			// request it has sent is in the ledger, the replay goes on.
			if err := c.e.recv.wait(c.ctx, req.ID); err != nil {
				return err
			}
			c.held = false
			c.e.acks.add("")
		}
		if c.e.cfg.Lockstep && c.sub != nil && c.sub.pos >= len(c.e.replay.events) {
			// The client is done with the last change: nothing more will
			// be acknowledged, so every held answer may go.
			c.e.replayDone.Store(true)
			c.e.acks.raise(1 << 62)
		}
		return c.success(req.ID)
	case esa.OpMarketSubscription, esa.OpOrderSubscription:
		if !c.authed {
			return c.failure(req.ID, "NO_SESSION", "Connection is not authenticated", true)
		}
		if req.Op == esa.OpOrderSubscription {
			return c.orderSubscribe(req)
		}
		return c.subscribe(req)
	}
	return c.failure(req.ID, "INVALID_REQUEST", "Unknown op: "+req.Op, true)
}

func (c *conn) authenticate(req *esa.Request) error {
	cfg := &c.e.cfg
	switch {
	case c.authed:
		return c.failure(req.ID, "INVALID_REQUEST", "Connection is already authenticated", true)
	case req.AppKey == "":
		return c.failure(req.ID, "NO_APP_KEY", "No application key in the authentication message", true)
	case cfg.AppKey != "" && req.AppKey != cfg.AppKey:
		return c.failure(req.ID, "INVALID_APP_KEY", "Invalid application key", true)
	case req.Session == "":
		return c.failure(req.ID, "NO_SESSION", "No session in the authentication message", true)
	case !c.e.validSession(req.Session):
		return c.failure(req.ID, "INVALID_SESSION_INFORMATION", "Invalid session token", true)
	}
	open := c.e.open.Add(1)
	if lim := int64(cfg.MaxConnections); lim > 0 && open > lim {
		c.e.open.Add(-1)
		return c.failure(req.ID, "MAX_CONNECTION_LIMIT_EXCEEDED",
			fmt.Sprintf("You have exceeded your max connection limit which is: %d connection(s).", lim), true)
	}
	c.authed = true
	b := append(c.buf[:0], `{"op":"status","id":`...)
	b = strconv.AppendInt(b, req.ID, 10)
	b = append(b, `,"statusCode":"SUCCESS","connectionClosed":false`...)
	if lim := int64(cfg.MaxConnections); lim > 0 {
		// Betfair adds this to the answer to authentication only.
		b = append(b, `,"connectionsAvailable":`...)
		b = strconv.AppendInt(b, lim-open, 10)
	}
	b = append(b, '}')
	c.buf = b
	return c.write(b, false)
}

// heartbeatMs bounds a requested heartbeat as Betfair does (500 to 5000,
// default 5000).
func heartbeatMs(v int64) int64 {
	if v == 0 {
		return 5000
	}
	return min(max(v, 500), 5000)
}

func (c *conn) subscribe(req *esa.Request) error {
	if c.e.cfg.Faults.SubscriptionLimit {
		// The one error that does not close the connection.
		return c.failure(req.ID, "SUBSCRIPTION_LIMIT_EXCEEDED",
			"trying to subscribe to more markets than allowed (200)", false)
	}
	r := c.e.replay
	hb := heartbeatMs(req.HeartbeatMs)
	s := &subscription{id: req.ID, hb: time.Duration(hb) * time.Millisecond, seg: req.SegmentationEnabled,
		matched: make([]bool, len(r.markets)), lastSend: time.Now()}
	n := 0
	for i, m := range r.markets {
		s.matched[i] = matches(req.MarketFilter, m)
		if s.matched[i] {
			n++
		}
	}
	if lim := c.e.cfg.MarketLimit; lim > 0 && n > lim {
		return c.failure(req.ID, "SUBSCRIPTION_LIMIT_EXCEEDED",
			fmt.Sprintf("trying to subscribe to %d markets, the limit is %d", n, lim), false)
	}
	if req.Clk != "" {
		pos, ok := decodeClk(req.Clk, len(r.events))
		ini, ok2 := decodeClk(req.InitialClk, len(r.events))
		if !ok || !ok2 || ini > pos {
			return c.failure(req.ID, "INVALID_CLOCK", "Invalid clock: initialClk="+req.InitialClk+" clk="+req.Clk, true)
		}
		c.sub = s
		s.pos, s.imageAt = pos, ini
		if err := c.success(req.ID); err != nil {
			return err
		}
		return c.resubDelta(req, hb)
	}
	// A new subscription: the image holds every matched market, as of the
	// replay clock for those already begun, and as of its first change for
	// those the clock has not reached (at speed 0: every market), so that a
	// subscriber starts with an image of each market and then gets every
	// later change of the tapes exactly once.
	pos := c.position()
	s.pos, s.imageAt = pos, pos
	c.sub = s
	if err := c.success(req.ID); err != nil {
		return err
	}
	return c.image(hb)
}

// resubDelta answers a resubscription: the changes since the client's
// clock that are already due (at speed 0, the next one), as RESUB_DELTA.
func (c *conn) resubDelta(req *esa.Request, hb int64) error {
	r, s := c.e.replay, c.sub
	end := max(c.position(), s.pos)
	if c.e.cfg.Speed == 0 {
		end = s.pos
		for end < len(r.events) && !c.wanted(end) {
			end++
		}
		end = min(end+1, len(r.events))
	}
	end = min(end, s.pos+1000)
	if err := c.e.betThrough(end - 1); err != nil {
		return err
	}
	if err := c.sendOrders(); err != nil {
		return err
	}
	b := append(c.buf[:0], `{"op":"mcm","id":`...)
	b = strconv.AppendInt(b, s.id, 10)
	b = append(b, `,"initialClk":`...)
	b = strconv.AppendQuote(b, req.InitialClk)
	b = append(b, `,"clk":"`...)
	b = append(b, encodeClk(end)...)
	b = append(b, `","conflateMs":0,"heartbeatMs":`...)
	b = strconv.AppendInt(b, hb, 10)
	pt := s.lastPt
	b = append(b, `,"pt":`...)
	ptAt := len(b)
	b = append(b, `,"ct":"RESUB_DELTA","mc":[`...)
	n := 0
	for i := s.pos; i < end; i++ {
		ev := &r.events[i]
		if !c.wanted(i) {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, ev.raw...)
		pt = ev.pt
		n++
	}
	if n == 0 {
		// Nothing to patch: Betfair then sends no "mc" at all.
		b = b[:len(b)-len(`,"mc":[`)]
		b = append(b, '}')
	} else {
		b = append(b, "]}"...)
	}
	if pt == 0 {
		pt = c.virtualPt()
	}
	b = insertInt(b, ptAt, pt)
	s.pos, s.lastPt = end, pt
	c.buf = b
	return c.change(b)
}

// insertInt writes v's digits into b at i.
func insertInt(b []byte, i int, v int64) []byte {
	var d [20]byte
	digits := strconv.AppendInt(d[:0], v, 10)
	b = append(b, digits...)
	copy(b[i+len(digits):], b[i:len(b)-len(digits)])
	copy(b[i:], digits)
	return b
}

// image sends the SUB_IMAGE: every matched market as of the subscription's
// position, or as of its first change for a market that begins later. A
// first change that is itself img:true is sent as recorded; otherwise the
// market is rebuilt with book.MarketCache from the tapes and written as a
// full img:true change. The image is split in segments when the client
// enabled segmentation and it is larger than SegmentBytes.
func (c *conn) image(hb int64) error {
	r, s := c.e.replay, c.sub
	cache := book.NewMarketCache(book.Options{})
	dec := esa.NewDecoder()
	var msg esa.Message
	var line []byte
	apply := func(i int) error {
		ev := &r.events[i]
		line = append(line[:0], `{"op":"mcm","pt":`...)
		line = strconv.AppendInt(line, ev.pt, 10)
		line = append(line, `,"mc":[`...)
		line = append(line, ev.raw...)
		line = append(line, "]}"...)
		if err := dec.Decode(line, &msg); err != nil {
			return fmt.Errorf("exchange: replaying change %d: %w", i, err)
		}
		cache.Apply(&msg)
		return nil
	}
	for i := 0; i < s.imageAt; i++ {
		if s.matched[r.events[i].market] {
			if err := apply(i); err != nil {
				return err
			}
		}
	}
	if s.imageAt > 0 {
		s.lastPt = r.events[s.imageAt-1].pt
	}
	// The ledger matches at what the client is shown: the changes before
	// the image, and each market imaged from its first change.
	if err := c.e.betThrough(s.imageAt - 1); err != nil {
		return err
	}
	for i, m := range r.markets {
		if s.matched[i] && m.first >= s.imageAt {
			if err := c.e.betOne(m.first); err != nil {
				return err
			}
		}
	}
	for i, m := range r.markets {
		if s.matched[i] && m.first >= s.imageAt && !m.firstImg {
			if err := apply(m.first); err != nil {
				return err
			}
		}
	}
	// Market images in the order the markets first appear.
	var parts [][]byte
	for i, m := range r.markets {
		if !s.matched[i] || m.first < 0 {
			continue
		}
		if m.first >= s.imageAt && m.firstImg {
			// Imaged as of a first change that is itself a full image:
			// send it as recorded, so a recorder's tape starts with the
			// very line the source tape does.
			parts = append(parts, r.events[m.first].raw)
			continue
		}
		if bm := cache.Market(m.id); bm != nil {
			parts = append(parts, appendImage(nil, bm))
		}
	}
	if s.lastPt == 0 {
		s.lastPt = r.startPt
	}
	clk := encodeClk(s.pos)
	head := func(b []byte, seg string, last bool) []byte {
		b = append(b, `{"op":"mcm","id":`...)
		b = strconv.AppendInt(b, s.id, 10)
		if last {
			b = append(b, `,"initialClk":"`...)
			b = append(b, clk...)
			b = append(b, `","clk":"`...)
			b = append(b, clk...)
			b = append(b, `","conflateMs":0,"heartbeatMs":`...)
			b = strconv.AppendInt(b, hb, 10)
		}
		b = append(b, `,"pt":`...)
		b = strconv.AppendInt(b, s.lastPt, 10)
		b = append(b, `,"ct":"SUB_IMAGE"`...)
		if seg != "" {
			b = append(b, `,"segmentType":"`...)
			b = append(b, seg...)
			b = append(b, '"')
		}
		return b
	}
	// Group the market images into segments of about SegmentBytes.
	var segs [][][]byte
	size := 0
	for _, p := range parts {
		if len(segs) == 0 || (s.seg && size > 0 && size+len(p) > c.e.cfg.SegmentBytes) {
			segs = append(segs, nil)
			size = 0
		}
		segs[len(segs)-1] = append(segs[len(segs)-1], p)
		size += len(p)
	}
	if len(segs) == 0 {
		segs = append(segs, nil)
	}
	for i, seg := range segs {
		kind := ""
		if len(segs) > 1 {
			switch i {
			case 0:
				kind = "SEG_START"
			case len(segs) - 1:
				kind = "SEG_END"
			default:
				kind = "SEG"
			}
		}
		b := head(c.buf[:0], kind, i == len(segs)-1)
		if len(seg) > 0 {
			b = append(b, `,"mc":[`...)
			for j, p := range seg {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, p...)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
		c.buf = b
		if err := c.change(b); err != nil {
			return err
		}
	}
	c.held = c.e.cfg.Lockstep
	return nil
}

// delta sends change i as recorded: with betting, after the ledger has
// matched at it and the order changes it made are sent.
func (c *conn) delta(i int) error {
	if err := c.e.betThrough(i); err != nil {
		return err
	}
	if err := c.sendOrders(); err != nil {
		return err
	}
	ev := &c.e.replay.events[i]
	s := c.sub
	b := append(c.buf[:0], `{"op":"mcm","id":`...)
	b = strconv.AppendInt(b, s.id, 10)
	b = append(b, `,"clk":"`...)
	b = append(b, encodeClk(i+1)...)
	b = append(b, `","pt":`...)
	b = strconv.AppendInt(b, ev.pt, 10)
	b = append(b, `,"mc":[`...)
	b = append(b, ev.raw...)
	b = append(b, "]}"...)
	c.buf = b
	s.pos, s.lastPt = i+1, ev.pt
	c.held = c.e.cfg.Lockstep
	if c.held && s.pos >= len(c.e.replay.events) {
		// The last change: no later heartbeat is owed, so held answers go.
		c.e.replayDone.Store(true)
		c.e.acks.raise(1 << 62)
	}
	return c.change(b)
}

// heartbeat sends a ct HEARTBEAT with the current clock.
func (c *conn) heartbeat() error {
	s := c.sub
	b := append(c.buf[:0], `{"op":"mcm","id":`...)
	b = strconv.AppendInt(b, s.id, 10)
	b = append(b, `,"clk":"`...)
	b = append(b, encodeClk(s.pos)...)
	b = append(b, `","pt":`...)
	b = strconv.AppendInt(b, c.virtualPt(), 10)
	b = append(b, `,"ct":"HEARTBEAT"}`...)
	c.buf = b
	return c.change(b)
}

// orderSubscribe accepts an order subscription. Its feed is the ledger's
// order log with --betting, else the tapes' recorded order changes (ocm
// lines, as in ORDER-<market_id> tapes), replayed like market changes. A
// new subscription's image is, with betting, every order's full image;
// from tapes, the recorded changes already due by the replay clock (none
// at speed 0), each as recorded, so that a client's order cache applying
// them in turn reaches the state a merged image would give. Every later
// change follows as its own ocm, its index in the feed as the clock; a
// resubscription with a clock gets RESUB_DELTA from there. The
// orderFilter (strategies, overall and per-strategy positions) is applied
// to the ledger's orders.
func (c *conn) orderSubscribe(req *esa.Request) error {
	hb := heartbeatMs(req.HeartbeatMs)
	c.ordHb = time.Duration(hb) * time.Millisecond
	c.ordLast = time.Now()
	c.ordFilter = OrderFilter{}
	if f := req.OrderFilter; f != nil {
		c.ordFilter = OrderFilter{Strategies: f.CustomerStrategyRefs, ByStrategy: f.PartitionMatchedByStrategyRef,
			NoOverall: f.IncludeOverallPosition != nil && !*f.IncludeOverallPosition}
	}
	n := c.orderFeedLen()
	ct, ini, from := "SUB_IMAGE", "", 0
	end := c.orderPosition()
	var img []OrderChange
	if bet := c.e.cfg.Betting; bet != nil && req.Clk == "" {
		img, end = bet.OrderImage()
		from = end
	}
	if req.Clk != "" {
		pos, ok := decodeClk(req.Clk, n)
		_, ok2 := decodeClk(req.InitialClk, n)
		if !ok || !ok2 || c.e.cfg.Faults.RefuseOrderResume {
			return c.failure(req.ID, "INVALID_CLOCK", "Invalid clock: initialClk="+req.InitialClk+" clk="+req.Clk, true)
		}
		ct, ini, from = "RESUB_DELTA", req.InitialClk, pos
		end = max(end, pos)
		if c.e.cfg.Betting != nil {
			end = n
		} else if c.e.cfg.Speed == 0 {
			end = min(pos+1, n)
		}
	}
	end = min(end, from+1000)
	if ini == "" {
		ini = encodeClk(end)
	}
	c.ordSub = req.ID
	if err := c.success(req.ID); err != nil {
		return err
	}
	pt := time.Now().UnixMilli()
	if len(c.e.replay.orders) > 0 || c.e.cfg.Betting != nil {
		pt = c.e.replay.startPt
	}
	b := append(c.buf[:0], `{"op":"ocm","id":`...)
	b = strconv.AppendInt(b, req.ID, 10)
	b = append(b, `,"initialClk":`...)
	b = strconv.AppendQuote(b, ini)
	b = append(b, `,"clk":"`...)
	b = append(b, encodeClk(end)...)
	b = append(b, `","conflateMs":0,"heartbeatMs":`...)
	b = strconv.AppendInt(b, hb, 10)
	ptAt := len(b) + len(`,"pt":`)
	b = append(b, `,"pt":`...)
	b = append(b, `,"ct":"`...)
	b = append(b, ct...)
	b = append(b, '"')
	changes := append(img, c.orderFeed(from, end)...)
	k := 0
	for _, ch := range changes {
		if !c.orderWanted(&ch) {
			continue
		}
		if k == 0 {
			b = append(b, `,"oc":[`...)
		} else {
			b = append(b, ',')
		}
		b = ch.Append(b, &c.ordFilter)
		pt = max(pt, ch.Pt)
		k++
	}
	if k > 0 {
		b = append(b, ']')
	}
	b = append(b, '}')
	b = insertInt(b, ptAt, pt)
	c.ordPos = end
	c.buf = b
	if err := c.change(b); err != nil {
		return err
	}
	return c.orderSent()
}

// orderFeedLen is the length of the order feed: the ledger's log, or the
// tapes' order changes.
func (c *conn) orderFeedLen() int {
	if bet := c.e.cfg.Betting; bet != nil {
		return c.ordPos + len(bet.Orders(c.ordPos))
	}
	return len(c.e.replay.orders)
}

// orderFeed returns the order feed's changes from index from up to end
// (end < 0: all there are).
func (c *conn) orderFeed(from, end int) []OrderChange {
	var all []OrderChange
	if bet := c.e.cfg.Betting; bet != nil {
		all = bet.Orders(from)
	} else if from < len(c.e.replay.orders) {
		all = c.e.replay.orders[from:]
	}
	if end >= 0 && end-from < len(all) {
		all = all[:max(end-from, 0)]
	}
	return all
}

// orderWanted applies the order filter's customerStrategyRefs to a
// change of one strategy's orders (a change of several, such as an image,
// is filtered as it is written).
func (c *conn) orderWanted(ch *OrderChange) bool {
	return ch.Strategy == "" || c.ordFilter.wants(ch.Strategy)
}

// orderPosition is how far the replay clock has got in the order changes:
// the index of the first one not yet due (0 at speed 0). The ledger's
// changes are all due as soon as they are made.
func (c *conn) orderPosition() int {
	if c.e.cfg.Betting != nil {
		return c.orderFeedLen()
	}
	r := c.e.replay
	if c.e.cfg.Speed == 0 {
		return 0
	}
	now := time.Now()
	i := 0
	for i < len(r.orders) && !c.dueAt(r.orders[i].Pt).After(now) {
		i++
	}
	return i
}

// orderDelta sends the next order change of the feed as its own ocm.
func (c *conn) orderDelta() error {
	chs := c.orderFeed(c.ordPos, c.ordPos+1)
	if len(chs) == 0 {
		return nil
	}
	ev := &chs[0]
	c.ordPos++
	if !c.orderWanted(ev) {
		if c.e.cfg.Faults.StreamBeforeReply {
			c.e.ordSent.raise(int64(c.ordPos))
		}
		return nil
	}
	b := append(c.buf[:0], `{"op":"ocm","id":`...)
	b = strconv.AppendInt(b, c.ordSub, 10)
	b = append(b, `,"clk":"`...)
	b = append(b, encodeClk(c.ordPos)...)
	b = append(b, `","pt":`...)
	b = strconv.AppendInt(b, ev.Pt, 10)
	b = append(b, `,"oc":[`...)
	b = ev.Append(b, &c.ordFilter)
	b = append(b, "]}"...)
	c.ordLast = time.Now()
	c.buf = b
	if err := c.change(b); err != nil {
		return err
	}
	return c.orderSent()
}

// orderSent records how far the order stream has been sent (flushed, so
// a StreamBeforeReply answer follows it on the wire) and applies the fault
// that drops the order stream.
func (c *conn) orderSent() error {
	if c.e.cfg.Betting == nil {
		return nil
	}
	f := &c.e.cfg.Faults
	if f.StreamBeforeReply {
		if err := c.flush(); err != nil {
			return err
		}
		c.e.ordSent.raise(int64(c.ordPos))
	}
	if f.DropOrdersAfter > 0 && c.e.ordersSentAll.Add(1) >= int64(f.DropOrdersAfter) && c.e.didOrd.CompareAndSwap(false, true) {
		c.e.dropped.Add(1)
		c.flush()
		return &errClose{fmt.Sprintf("fault: order stream dropped after %d order changes", f.DropOrdersAfter)}
	}
	return nil
}

// sendOrders sends every order change of the ledger not yet sent, before
// the market change that follows, so that a client applies what its
// orders did at a change before it sees the change (as a backtest does).
func (c *conn) sendOrders() error {
	if c.ordSub == 0 || c.e.cfg.Betting == nil {
		return nil
	}
	for len(c.orderFeed(c.ordPos, c.ordPos+1)) > 0 {
		if err := c.orderDelta(); err != nil {
			return err
		}
	}
	return nil
}

// orderHeartbeat keeps an order subscription's connection visibly alive.
func (c *conn) orderHeartbeat() error {
	b := append(c.buf[:0], `{"op":"ocm","id":`...)
	b = strconv.AppendInt(b, c.ordSub, 10)
	b = append(b, `,"clk":"`...)
	b = append(b, encodeClk(c.ordPos)...)
	b = append(b, `","pt":`...)
	b = strconv.AppendInt(b, time.Now().UnixMilli(), 10)
	b = append(b, `,"ct":"HEARTBEAT"}`...)
	c.buf = b
	c.ordLast = time.Now()
	return c.change(b)
}

// change writes a change message and applies the faults that count them.
func (c *conn) change(b []byte) error {
	if err := c.write(b, true); err != nil {
		return err
	}
	if c.sub != nil {
		c.sub.lastSend = time.Now()
	}
	n := c.e.sent.Add(1)
	f := &c.e.cfg.Faults
	if f.Status503After > 0 && n >= int64(f.Status503After) && c.e.did503.CompareAndSwap(false, true) {
		id := c.ordSub
		if c.sub != nil {
			id = c.sub.id
		}
		msg := strconv.AppendInt([]byte(`{"op":"mcm","id":`), id, 10)
		msg = append(msg, `,"status":503}`...)
		if err := c.write(msg, true); err != nil {
			return err
		}
	}
	if f.StallAfter > 0 && n >= int64(f.StallAfter) && c.e.didStall.CompareAndSwap(false, true) {
		if err := c.flush(); err != nil {
			return err
		}
		t := time.NewTimer(f.StallFor)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return c.ctx.Err()
		}
	}
	if f.DropAfter > 0 {
		drop := false
		if f.DropEvery {
			drop = n%int64(f.DropAfter) == 0
		} else {
			drop = n >= int64(f.DropAfter) && c.e.didDrop.CompareAndSwap(false, true)
		}
		if drop {
			c.e.dropped.Add(1)
			c.flush()
			return &errClose{fmt.Sprintf("fault: dropped after change message %d", n)}
		}
	}
	return nil
}

func (c *conn) success(id int64) error {
	b := append(c.buf[:0], `{"op":"status","id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"statusCode":"SUCCESS","connectionClosed":false}`...)
	c.buf = b
	if err := c.write(b, false); err != nil {
		return err
	}
	return nil
}

// failure sends a FAILURE status as Betfair does and, when close is set,
// ends the connection. id < 0 leaves the id out.
func (c *conn) failure(id int64, code, msg string, close bool) error {
	b := append(c.buf[:0], `{"op":"status"`...)
	if id >= 0 { // a status answering no request has no id
		b = append(b, `,"id":`...)
		b = strconv.AppendInt(b, id, 10)
	}
	b = append(b, `,"statusCode":"FAILURE","errorCode":"`...)
	b = append(b, code...)
	b = append(b, `","errorMessage":`...)
	b = strconv.AppendQuote(b, msg)
	b = append(b, `,"connectionClosed":`...)
	b = strconv.AppendBool(b, close)
	b = append(b, `,"connectionId":"`...)
	b = append(b, c.id...)
	b = append(b, `"}`...)
	c.buf = b
	if err := c.write(b, false); err != nil {
		return err
	}
	if close {
		c.flush()
		return &errClose{"status " + code}
	}
	return c.flush()
}

// write buffers one CRLF-terminated message. Change messages at speed 0 are
// flushed in batches (by the buffer filling, or before the connection
// waits); everything else at once.
func (c *conn) write(b []byte, isChange bool) error {
	if _, err := c.w.Write(b); err != nil {
		return err
	}
	if _, err := c.w.WriteString("\r\n"); err != nil {
		return err
	}
	if !isChange || c.e.cfg.Speed > 0 {
		return c.flush()
	}
	return nil
}

func (c *conn) flush() error {
	if c.w.Buffered() == 0 {
		return nil
	}
	return c.w.Flush()
}

// deadlineWriter bounds each write to the socket (one per buffer flushed,
// not one per message), so a client that stops reading is given up on.
type deadlineWriter struct{ c net.Conn }

func (w deadlineWriter) Write(p []byte) (int, error) {
	w.c.SetWriteDeadline(time.Now().Add(writeTimeout))
	return w.c.Write(p)
}

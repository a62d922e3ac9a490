package ledger_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/exchange/ledger"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// local is a running exchange taking bets, and a logged-in betting client.
type local struct {
	ex  *exchange.Exchange
	bc  *betting.Client
	tok string
}

// serve starts an exchange over tapes with a ledger (lockstep, speed 0)
// and logs a betting client in to it.
func serve(t *testing.T, cfg exchange.Config, lcfg ledger.Config, tapes ...string) *local {
	t.Helper()
	for i, tp := range tapes {
		tapes[i] = testenv.Testdata(t, "tapes/"+tp)
	}
	cfg.Tapes = tapes
	cfg.Betting = ledger.New(lcfg)
	ex, err := exchange.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ex.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	info := ex.Info()
	bc, err := betting.New(betting.Config{Endpoints: betting.Local(info.Identity, info.Betting, info.Stream), AppKey: "test",
		Username: "u", Password: "p", CAFile: info.CA, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := bc.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	tok, _ := bc.SessionToken(context.Background())
	return &local{ex: ex, bc: bc, tok: tok}
}

// stream is a bare stream connection, so a test says exactly when it is
// done with a change (lockstep) and sees messages in the order sent.
type stream struct {
	t    *testing.T
	c    *tls.Conn
	r    *bufio.Reader
	dec  *esa.Decoder
	msg  esa.Message
	line []byte
	hb   int64 // requests sent so far, the lockstep heartbeat's id
	// onRunner, when set, is given each order runner change (drive).
	onRunner func(market string, rc *esa.OrderRunnerChange)
}

func (l *local) stream(t *testing.T, orderFilter string) *stream {
	t.Helper()
	pem, err := os.ReadFile(l.ex.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c, err := tls.Dial("tcp", l.ex.Addr(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s := &stream{t: t, c: c, r: bufio.NewReader(c), dec: esa.NewDecoder()}
	s.next() // connection
	s.send(`{"op":"authentication","id":1,"appKey":"test","session":"` + l.tok + `"}`)
	s.send(`{"op":"marketSubscription","id":2,"marketFilter":{},"marketDataFilter":{"fields":["EX_ALL_OFFERS","EX_TRADED","EX_MARKET_DEF","EX_LTP"]}}`)
	s.send(`{"op":"orderSubscription","id":3` + orderFilter + `}`)
	return s
}

func (s *stream) send(line string) {
	s.t.Helper()
	s.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := s.c.Write([]byte(line + "\r\n")); err != nil {
		s.t.Fatal(err)
	}
}

// next reads and decodes one message.
func (s *stream) next() *esa.Message {
	s.t.Helper()
	s.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	line, err := s.r.ReadBytes('\n')
	if err != nil {
		s.t.Fatal(err)
	}
	s.line = []byte(strings.TrimRight(string(line), "\r\n"))
	if err := s.dec.Decode(s.line, &s.msg); err != nil {
		s.t.Fatalf("%s: %v", s.line, err)
	}
	return &s.msg
}

// done tells the exchange the client has finished with the change, having
// sent n more order requests.
func (s *stream) done(n int) {
	s.hb += int64(n)
	s.send(fmt.Sprintf(`{"op":"heartbeat","id":%d}`, s.hb))
}

// TestPlaceCancelOrderStream places a resting back and cancels it over the
// real Betting API client, in lockstep: the placement takes effect at the
// first change more than 120 ms after the change it arrived at, its order
// change comes before that market change, listCurrentOrders shows it, and
// the cancel ends it with an EXECUTION_COMPLETE change.
func TestPlaceCancelOrderStream(t *testing.T) {
	l := serve(t, exchange.Config{Lockstep: true}, ledger.Config{}, "1.197931750")
	s := l.stream(t, "")
	cache := book.NewMarketCache(book.Options{})
	ctx := context.Background()
	var (
		placed   = make(chan *betting.PlaceReport, 1)
		cancel   = make(chan *betting.CancelReport, 1)
		errs     = make(chan error, 2)
		betID    string
		atPt     int64 // the change the placement arrived at
		sawOrder bool
		sentCxl  bool
		closed   bool
	)
	for step := 0; !closed; step++ {
		m := s.next()
		switch {
		case m.Op == esa.OpOCM && len(m.OC) > 0:
			for _, oc := range m.OC {
				if oc.Closed {
					closed = true
				}
				for _, rc := range oc.ORC {
					for _, uo := range rc.UO {
						if uo.CustomerOrderRef != "ref-1" || uo.CustomerStrategyRef != "strat" {
							t.Fatalf("order change %s", s.line)
						}
						if !sawOrder && !(m.Pt-atPt > 120) {
							t.Errorf("placed at pt %d, arrived at %d: before its latency", m.Pt, atPt)
						}
						sawOrder = true
						betID = uo.ID
						if uo.Status == "EC" && uo.SizeCancelled != 2 {
							t.Errorf("complete with %g cancelled: %s", uo.SizeCancelled, s.line)
						}
					}
				}
			}
		case m.Op == esa.OpMCM && len(m.MC) > 0:
			cache.Apply(m)
			bk := cache.Market("1.197931750")
			n := 0
			switch {
			case atPt == 0 && bk.Status() == esa.MarketOpen:
				atPt = m.Pt
				r := bk.Runners[0]
				go func() {
					rep, err := l.bc.PlaceOrders(ctx, betting.PlaceRequest{MarketID: bk.ID, CustomerRef: "req-1", CustomerStrategyRef: "strat",
						Instructions: []betting.PlaceInstruction{{OrderType: "LIMIT", SelectionID: r.SelectionID, Side: "BACK",
							LimitOrder: &betting.LimitOrder{Size: 2, Price: 1000, PersistenceType: "LAPSE"}, CustomerOrderRef: "ref-1"}}})
					if err != nil {
						errs <- err
					}
					placed <- rep
				}()
				n = 1
			case sawOrder && !sentCxl:
				sentCxl = true
				go func() {
					rep, err := l.bc.CancelOrders(ctx, betting.CancelRequest{MarketID: bk.ID, CustomerRef: "req-2",
						Instructions: []betting.CancelInstruction{{BetID: betID}}})
					if err != nil {
						errs <- err
					}
					cancel <- rep
				}()
				n = 1
			}
			s.done(n)
		}
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
	}
	rep := <-placed
	if rep == nil || rep.InstructionReports[0].BetID != betID || rep.InstructionReports[0].OrderStatus != "EXECUTABLE" {
		t.Fatalf("place report %+v, bet %s", rep, betID)
	}
	if c := <-cancel; c == nil || c.InstructionReports[0].SizeCancelled != 2 {
		t.Fatalf("cancel report %+v", c)
	}
	if st := l.ex.Stats(); st.OrderRequests != 2 {
		t.Errorf("%d order requests counted, want 2", st.OrderRequests)
	}
	cur, err := l.bc.ListCurrentOrders(ctx, betting.CurrentOrdersFilter{})
	if err != nil || len(cur) != 0 {
		t.Errorf("current orders after the close: %+v, %v", cur, err)
	}
	cl, err := l.bc.ListClearedOrders(ctx, betting.ClearedOrdersFilter{BetStatus: "CANCELLED"})
	if err != nil || len(cl) != 1 || cl[0].BetID != betID || cl[0].SizeCancelled != 2 {
		t.Errorf("cleared orders: %+v, %v", cl, err)
	}
	var ee *betting.ExecutionError
	_, err = l.bc.CancelOrders(ctx, betting.CancelRequest{MarketID: "1.197931750", Instructions: []betting.CancelInstruction{{BetID: betID}}})
	if !errors.As(err, &ee) || ee.Code != betting.ExecMarketNotOpenForBetting && (len(ee.Instructions) == 0 || ee.Instructions[0] != betting.InstrBetTakenOrLapsed) {
		t.Errorf("cancelling a settled bet: %v", err)
	}
}

// drive runs the replay in lockstep until markets markets have closed:
// each market change (the image included) goes to onBook with the market's
// book as the client now has it, which returns how many order requests it
// has sent (from goroutines it starts); each order the order stream tells
// of goes to onOrder.
func (s *stream) drive(markets int, onBook func(bk *book.Market, pt int64) int, onOrder func(pt int64, uo *esa.Order)) {
	s.driveUntil(markets, nil, onBook, onOrder)
}

// driveUntil is drive that also stops once stop reports true.
func (s *stream) driveUntil(markets int, stop func() bool, onBook func(bk *book.Market, pt int64) int, onOrder func(pt int64, uo *esa.Order)) {
	s.t.Helper()
	cache := book.NewMarketCache(book.Options{})
	for closed := 0; closed < markets && (stop == nil || !stop()); {
		m := s.next()
		switch {
		case m.Op == esa.OpOCM:
			for _, oc := range m.OC {
				if oc.Closed {
					closed++
				}
				for j := range oc.ORC {
					rc := &oc.ORC[j]
					if s.onRunner != nil {
						s.onRunner(string(oc.ID), rc)
					}
					for i := range rc.UO {
						if onOrder != nil {
							onOrder(m.Pt, &rc.UO[i])
						}
					}
				}
			}
		case m.Op == esa.OpMCM && len(m.MC) > 0:
			n := 0
			for _, bk := range cache.Apply(m) {
				n += onBook(bk, m.Pt)
			}
			s.done(n)
		case m.Op == esa.OpStatus && string(m.StatusCode) == "FAILURE":
			s.t.Fatalf("stream: %s", s.line)
		}
	}
}

package ledger

import (
	"context"
	"encoding/json"
	"math"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
)

// placeOrders validates a placement as Betfair does, books its bets and
// waits for them to be placed at the change their latency makes them due
// (or answers at once, PENDING, when async).
func (l *Ledger) placeOrders(ctx context.Context, params json.RawMessage, queued func()) (any, error) {
	var p betting.PlaceRequest
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	if n := len(p.Instructions); n == 0 || n > maxPlace {
		return nil, inputError("placeOrders: %d instructions (1 to %d per request)", n, maxPlace)
	}
	if len(p.CustomerRef) > engine.MaxRequestRef {
		return nil, inputError("customerRef over %d characters", engine.MaxRequestRef)
	}
	rep := &betting.PlaceReport{ExecutionReport: betting.ExecutionReport{CustomerRef: p.CustomerRef, Status: "SUCCESS", MarketID: p.MarketID}}
	rep.InstructionReports = make([]betting.PlaceInstructionReport, len(p.Instructions))
	for i, in := range p.Instructions {
		rep.InstructionReports[i] = betting.PlaceInstructionReport{Status: "FAILURE", ErrorCode: betting.InstrErrorInOrder, Instruction: in}
	}
	l.mu.Lock()
	fail := func(code betting.ExecutionErrorCode) (any, error) {
		l.mu.Unlock()
		rep.Status, rep.ErrorCode = "FAILURE", code
		l.log.Info("placeOrders refused", "market", p.MarketID, "customer_ref", p.CustomerRef, "code", code)
		return rep, nil
	}
	if l.duplicate(p.CustomerRef) {
		return fail(betting.ExecDuplicateTransaction)
	}
	if code := l.marketCode(p.MarketID); code != "" {
		return fail(code)
	}
	m := l.markets[p.MarketID]
	bad := false
	if engine.CheckRef("customerStrategyRef", p.CustomerStrategyRef, engine.MaxStrategyRef) != nil {
		for i := range rep.InstructionReports {
			rep.InstructionReports[i].ErrorCode = betting.InstrInvalidCustomerStrategyRef
		}
		bad = true
	}
	states := make([]engine.OrderState, len(p.Instructions))
	need := 0.0
	for i, in := range p.Instructions {
		if bad {
			break
		}
		code := l.checkPlace(m, &in, &states[i])
		if code != "" {
			rep.InstructionReports[i].ErrorCode = code
			bad = true
			continue
		}
		if p.MarketVersion != nil {
			// Checked when the bet takes effect, by the model, as the
			// backtest checks it.
			states[i].PlaceVersion = p.MarketVersion.Version
		}
		need += states[i].Exposure()
	}
	if bad {
		return fail(betting.ExecBetActionError)
	}
	if need > l.available()+1e-9 {
		for i := range rep.InstructionReports {
			rep.InstructionReports[i].ErrorCode = betting.InstrInsufficientFunds
		}
		return fail(betting.ExecInsufficientFunds)
	}
	st := l.strategyOf(m, p.CustomerStrategyRef)
	delay := l.cfg.Latency.Delay(engine.PlaceRequest, m.bk.Def.BetDelay)
	reqs := make([]*request, len(p.Instructions))
	for i, in := range p.Instructions {
		states[i].CreatedAt = m.now
		b := l.newBet(m, st, in.CustomerOrderRef, states[i])
		reqs[i] = &request{kind: engine.PlaceRequest, at: m.now, delay: delay, b: b, done: make(chan struct{})}
		st.pending = append(st.pending, reqs[i])
	}
	queued()
	l.mu.Unlock()
	l.log.Debug("placeOrders queued", "market", p.MarketID, "customer_ref", p.CustomerRef, "instructions", len(reqs))
	if p.Async {
		for i := range reqs {
			ir := &rep.InstructionReports[i]
			ir.Status, ir.ErrorCode, ir.OrderStatus = "SUCCESS", "", "PENDING"
		}
		return rep, nil
	}
	if err := wait(ctx, reqs); err != nil {
		return nil, timeoutError()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	failed := 0
	for i, r := range reqs {
		ir, s := &rep.InstructionReports[i], &r.b.s
		if !r.ok {
			failed++
			ir.ErrorCode = r.code
			continue
		}
		ir.Status, ir.ErrorCode = "SUCCESS", ""
		ir.BetID, ir.PlacedDate = r.b.id, date(r.b.placedAt)
		ir.SizeMatched, ir.AveragePriceMatched = s.SizeMatched, s.AvgPriceMatched
		ir.OrderStatus = "EXECUTABLE"
		if s.Status == engine.ExecutionComplete {
			ir.OrderStatus = "EXECUTION_COMPLETE"
		}
	}
	if failed == len(reqs) {
		rep.Status, rep.ErrorCode = "FAILURE", betting.ExecBetActionError
	}
	return rep, nil
}

// timeoutError answers a request whose client gave up waiting: its
// outcome is unknown to the client, as with Betfair's TIMEOUT_ERROR.
func timeoutError() error {
	return &exchange.APIError{Code: "TIMEOUT_ERROR", Details: "the request did not complete in time"}
}

// checkPlace validates one placement instruction in market m (open) and
// fills in the order it places; it returns Betfair's error code, or "".
func (l *Ledger) checkPlace(m *market, in *betting.PlaceInstruction, s *engine.OrderState) betting.InstructionErrorCode {
	if engine.CheckRef("customerOrderRef", in.CustomerOrderRef, engine.MaxOrderRef) != nil {
		return betting.InstrInvalidCustomerOrderRef
	}
	*s = engine.OrderState{MarketID: m.id, SelectionID: in.SelectionID, Handicap: in.Handicap}
	switch in.Side {
	case "BACK":
		s.Side = engine.Back
	case "LAY":
		s.Side = engine.Lay
	default:
		return betting.InstrInvalidBackLayCombination
	}
	r := m.bk.Runner(in.SelectionID, in.Handicap)
	if r == nil {
		return betting.InstrInvalidRunner
	}
	if r.Status() == esa.RunnerRemoved {
		return betting.InstrRunnerRemoved
	}
	onLadder := func(p float64) bool { _, ok := book.Tick(p); return ok }
	switch in.OrderType {
	case "LIMIT":
		lo := in.LimitOrder
		if lo == nil || in.LimitOnCloseOrder != nil || in.MarketOnCloseOrder != nil {
			return betting.InstrInvalidOrderType
		}
		s.Type, s.Price, s.Size, s.MinFillSize = engine.Limit, lo.Price, lo.Size, lo.MinFillSize
		if !onLadder(lo.Price) {
			return betting.InstrInvalidOdds
		}
		if !(lo.Size > 0) || engine.Round2(lo.Size) != lo.Size || l.minBet.TooSmall(s) != "" {
			return betting.InstrInvalidBetSize
		}
		switch lo.TimeInForce {
		case "":
		case "FILL_OR_KILL":
			if lo.PersistenceType != "" {
				return betting.InstrTimeInForceConflict
			}
			s.FillOrKill = true
		default:
			return betting.InstrInvalidOrderType
		}
		if lo.MinFillSize < 0 || lo.MinFillSize > lo.Size {
			return betting.InstrInvalidMinFillSize
		}
		if lo.MinFillSize > 0 && !s.FillOrKill {
			return betting.InstrUnexpectedMinFillSize
		}
		switch lo.PersistenceType {
		case "LAPSE", "":
			s.Persistence = engine.Lapse
		case "PERSIST":
			s.Persistence = engine.Persist
		case "MARKET_ON_CLOSE":
			s.Persistence = engine.PersistMarketOnClose
		default:
			return betting.InstrInvalidPersistenceType
		}
		if lo.PersistenceType == "" && !s.FillOrKill {
			return betting.InstrInvalidPersistenceType
		}
	case "LIMIT_ON_CLOSE":
		lc := in.LimitOnCloseOrder
		if lc == nil {
			return betting.InstrInvalidOrderType
		}
		s.Type, s.Price, s.Liability = engine.LimitOnClose, lc.Price, lc.Liability
		if !onLadder(lc.Price) {
			return betting.InstrInvalidOdds
		}
		if !(lc.Liability > 0) || l.minBet.TooSmall(s) != "" {
			return betting.InstrInvalidBetSize
		}
	case "MARKET_ON_CLOSE":
		mo := in.MarketOnCloseOrder
		if mo == nil {
			return betting.InstrInvalidOrderType
		}
		s.Type, s.Liability = engine.MarketOnClose, mo.Liability
		if !(mo.Liability > 0) || l.minBet.TooSmall(s) != "" {
			return betting.InstrInvalidBetSize
		}
	default:
		return betting.InstrInvalidOrderType
	}
	if d := m.bk.Def; s.Type != engine.Limit && (!d.BspMarket || d.InPlay || d.BspReconciled) {
		return betting.InstrMarketNotOpenForBspBetting
	}
	return ""
}

// exposure is what a bet may still lose: its stake (back) or liability
// (lay) on what is matched or may yet match; nothing once settled.
func (b *bet) exposure() float64 {
	s := &b.s
	if s.Settled || b.failed {
		return 0
	}
	if s.Type != engine.Limit {
		if s.BSPReconciled {
			if s.Side == engine.Lay {
				return s.SizeMatched * math.Max(s.AvgPriceMatched-1, 0)
			}
			return s.SizeMatched
		}
		return s.Liability
	}
	open := s.SizeRemaining()
	if b.s.Status == engine.Pending {
		open = s.Size
	}
	if s.Side == engine.Lay {
		return open*(s.Price-1) + s.SizeMatched*math.Max(s.AvgPriceMatched-1, 0)
	}
	return open + s.SizeMatched
}

// available is the balance less every unsettled bet's exposure.
func (l *Ledger) available() float64 {
	e := 0.0
	for _, b := range l.order {
		e += b.exposure()
	}
	return l.balance - e
}

// accountFunds answers getAccountFunds.
func (l *Ledger) accountFunds() *betting.AccountFunds {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.available()
	return &betting.AccountFunds{AvailableToBetBalance: engine.Round2(a), Exposure: -engine.Round2(l.balance - a),
		ExposureLimit: -15000, Wallet: "UK"}
}

// accountDetails answers getAccountDetails with what this exchange knows
// of its one account: its currency (Config.Currency, whose minimum stakes
// the placements are held to), no discount, no points. The holder's name,
// locale, region, time zone and country are optional in Betfair's
// AccountDetailsResponse and left out: there is no account holder. flumine
// asks for this at start and every two minutes.
func (l *Ledger) accountDetails() *betting.AccountDetails {
	return &betting.AccountDetails{CurrencyCode: l.cfg.Currency}
}

// instructionBet finds the bet a cancel, replace or update instruction
// names in market id, and why it cannot be changed ("" if it can).
func (l *Ledger) instructionBet(market, betID string) (*bet, betting.InstructionErrorCode) {
	b := l.bets[betID]
	if b == nil || b.m.id != market {
		return nil, betting.InstrInvalidBetId
	}
	if b.failed || b.s.Status == engine.ExecutionComplete || b.m.closed {
		return b, betting.InstrBetTakenOrLapsed
	}
	return b, ""
}

// queue books one request for bet b at its market's clock.
func (l *Ledger) queue(b *bet, kind engine.RequestKind) *request {
	bd := 0
	if b.m.bk != nil && b.m.bk.Def != nil {
		bd = b.m.bk.Def.BetDelay
	}
	r := &request{kind: kind, at: b.m.now, delay: l.cfg.Latency.Delay(kind, bd), b: b, done: make(chan struct{})}
	b.st.pending = append(b.st.pending, r)
	return r
}

// cancelOrders cancels bets: the instructions' bets, every bet of the
// market when there are none, every bet when there is no market either.
func (l *Ledger) cancelOrders(ctx context.Context, params json.RawMessage, queued func()) (any, error) {
	var p betting.CancelRequest
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	if len(p.Instructions) > maxOther {
		return nil, inputError("cancelOrders: %d instructions (at most %d per request)", len(p.Instructions), maxOther)
	}
	if len(p.Instructions) > 0 && p.MarketID == "" {
		return nil, inputError("cancelOrders: instructions need a marketId")
	}
	rep := &betting.CancelReport{ExecutionReport: betting.ExecutionReport{CustomerRef: p.CustomerRef, Status: "SUCCESS", MarketID: p.MarketID}}
	l.mu.Lock()
	if l.duplicate(p.CustomerRef) {
		l.mu.Unlock()
		rep.Status, rep.ErrorCode = "FAILURE", betting.ExecDuplicateTransaction
		return rep, nil
	}
	ins := p.Instructions
	if len(ins) == 0 {
		// Cancel-all: every unmatched bet of the market, or of all.
		for _, b := range l.order {
			if (p.MarketID == "" || b.m.id == p.MarketID) && !b.failed && !b.m.closed && b.s.Status != engine.ExecutionComplete {
				ins = append(ins, betting.CancelInstruction{BetID: b.id})
			}
		}
	}
	reqs := make([]*request, len(ins))
	rep.InstructionReports = make([]betting.CancelInstructionReport, len(ins))
	for i, in := range ins {
		rep.InstructionReports[i] = betting.CancelInstructionReport{Status: "FAILURE", Instruction: in}
		market := p.MarketID
		if b := l.bets[in.BetID]; market == "" && b != nil {
			market = b.m.id
		}
		b, code := l.instructionBet(market, in.BetID)
		if code == "" && (in.SizeReduction < 0 || engine.Round2(in.SizeReduction) != in.SizeReduction) {
			code = betting.InstrInvalidBetSize
		}
		if code != "" {
			rep.InstructionReports[i].ErrorCode = code
			continue
		}
		reqs[i] = l.queue(b, engine.CancelRequest)
		reqs[i].size = in.SizeReduction
	}
	if len(nonNil(reqs)) > 0 {
		queued() // else refused: nothing waits for the replay
	}
	l.mu.Unlock()
	if err := wait(ctx, nonNil(reqs)); err != nil {
		return nil, timeoutError()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	failed := 0
	for i, r := range reqs {
		ir := &rep.InstructionReports[i]
		if r == nil || !r.ok {
			failed++
			if r != nil {
				ir.ErrorCode = r.code
			}
			continue
		}
		ir.Status, ir.SizeCancelled, ir.CancelledDate = "SUCCESS", r.cancelled, date(r.b.cancelledAt)
	}
	if failed > 0 && failed == len(reqs) && len(p.Instructions) > 0 {
		rep.Status, rep.ErrorCode = "FAILURE", betting.ExecBetActionError
	}
	return rep, nil
}

func nonNil(reqs []*request) []*request {
	var out []*request
	for _, r := range reqs {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

// replaceOrders cancels each bet's remainder and places it again at a new
// price, after the replace latency (plus the bet delay).
func (l *Ledger) replaceOrders(ctx context.Context, params json.RawMessage, queued func()) (any, error) {
	var p betting.ReplaceRequest
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	if n := len(p.Instructions); n == 0 || n > maxOther {
		return nil, inputError("replaceOrders: %d instructions (1 to %d per request)", n, maxOther)
	}
	rep := &betting.ReplaceReport{ExecutionReport: betting.ExecutionReport{CustomerRef: p.CustomerRef, Status: "SUCCESS", MarketID: p.MarketID}}
	rep.InstructionReports = make([]betting.ReplaceInstructionReport, len(p.Instructions))
	l.mu.Lock()
	if l.duplicate(p.CustomerRef) {
		l.mu.Unlock()
		rep.Status, rep.ErrorCode = "FAILURE", betting.ExecDuplicateTransaction
		return rep, nil
	}
	if code := l.marketCode(p.MarketID); code != "" {
		l.mu.Unlock()
		rep.Status, rep.ErrorCode = "FAILURE", code
		return rep, nil
	}
	reqs := make([]*request, len(p.Instructions))
	for i, in := range p.Instructions {
		rep.InstructionReports[i] = betting.ReplaceInstructionReport{Status: "FAILURE"}
		b, code := l.instructionBet(p.MarketID, in.BetID)
		if code == "" {
			if _, ok := book.Tick(in.NewPrice); !ok {
				code = betting.InstrInvalidOdds
			} else if b.s.Type != engine.Limit {
				code = betting.InstrInvalidBidType
			}
		}
		if code != "" {
			rep.InstructionReports[i].ErrorCode = code
			continue
		}
		reqs[i] = l.queue(b, engine.ReplaceRequest)
		reqs[i].price = in.NewPrice
	}
	if len(nonNil(reqs)) > 0 {
		queued() // else refused: nothing waits for the replay
	}
	l.mu.Unlock()
	if err := wait(ctx, nonNil(reqs)); err != nil {
		return nil, timeoutError()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	failed := 0
	for i, r := range reqs {
		ir := &rep.InstructionReports[i]
		if r == nil {
			failed++
			continue
		}
		in := p.Instructions[i]
		ir.CancelInstructionReport = &betting.CancelInstructionReport{Status: "FAILURE", Instruction: betting.CancelInstruction{BetID: in.BetID}}
		if r.cancelled > 0 || r.nb != nil {
			ir.CancelInstructionReport.Status, ir.CancelInstructionReport.SizeCancelled = "SUCCESS", r.cancelled
			ir.CancelInstructionReport.CancelledDate = date(r.b.cancelledAt)
		}
		if r.nb != nil {
			s := &r.nb.s
			pir := &betting.PlaceInstructionReport{Status: "FAILURE", ErrorCode: r.code,
				Instruction: betting.PlaceInstruction{OrderType: "LIMIT", SelectionID: s.SelectionID, Handicap: s.Handicap, Side: s.Side.String(),
					LimitOrder:       &betting.LimitOrder{Size: s.Size, Price: s.Price, PersistenceType: s.Persistence.String()},
					CustomerOrderRef: r.nb.rfo}}
			if r.ok {
				pir.Status, pir.ErrorCode, pir.BetID, pir.PlacedDate = "SUCCESS", "", r.nb.id, date(r.nb.placedAt)
				pir.SizeMatched, pir.AveragePriceMatched, pir.OrderStatus = s.SizeMatched, s.AvgPriceMatched, "EXECUTABLE"
				if s.Status == engine.ExecutionComplete {
					pir.OrderStatus = "EXECUTION_COMPLETE"
				}
			}
			ir.PlaceInstructionReport = pir
		}
		if r.ok {
			ir.Status = "SUCCESS"
		} else {
			failed++
			ir.ErrorCode = r.code
		}
	}
	if failed == len(reqs) {
		rep.Status, rep.ErrorCode = "FAILURE", betting.ExecBetActionError
	}
	return rep, nil
}

// updateOrders changes bets' persistence, after the update latency.
func (l *Ledger) updateOrders(ctx context.Context, params json.RawMessage, queued func()) (any, error) {
	var p betting.UpdateRequest
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	if n := len(p.Instructions); n == 0 || n > maxOther {
		return nil, inputError("updateOrders: %d instructions (1 to %d per request)", n, maxOther)
	}
	rep := &betting.UpdateReport{ExecutionReport: betting.ExecutionReport{CustomerRef: p.CustomerRef, Status: "SUCCESS", MarketID: p.MarketID}}
	rep.InstructionReports = make([]betting.UpdateInstructionReport, len(p.Instructions))
	l.mu.Lock()
	if l.duplicate(p.CustomerRef) {
		l.mu.Unlock()
		rep.Status, rep.ErrorCode = "FAILURE", betting.ExecDuplicateTransaction
		return rep, nil
	}
	reqs := make([]*request, len(p.Instructions))
	for i, in := range p.Instructions {
		rep.InstructionReports[i] = betting.UpdateInstructionReport{Status: "FAILURE", Instruction: in}
		b, code := l.instructionBet(p.MarketID, in.BetID)
		var pers engine.Persistence
		if code == "" {
			switch in.NewPersistenceType {
			case "LAPSE":
				pers = engine.Lapse
			case "PERSIST":
				pers = engine.Persist
			case "MARKET_ON_CLOSE":
				pers = engine.PersistMarketOnClose
			default:
				code = betting.InstrInvalidPersistenceType
			}
		}
		if code == "" && pers == b.s.Persistence {
			code = betting.InstrNoActionRequired
		}
		if code != "" {
			rep.InstructionReports[i].ErrorCode = code
			continue
		}
		reqs[i] = l.queue(b, engine.UpdateRequest)
		reqs[i].pers = pers
	}
	if len(nonNil(reqs)) > 0 {
		queued() // else refused: nothing waits for the replay
	}
	l.mu.Unlock()
	if err := wait(ctx, nonNil(reqs)); err != nil {
		return nil, timeoutError()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	failed := 0
	for i, r := range reqs {
		ir := &rep.InstructionReports[i]
		if r == nil || !r.ok {
			failed++
			if r != nil {
				ir.ErrorCode = r.code
			}
			continue
		}
		ir.Status = "SUCCESS"
	}
	if failed == len(reqs) {
		rep.Status, rep.ErrorCode = "FAILURE", betting.ExecBetActionError
	}
	return rep, nil
}

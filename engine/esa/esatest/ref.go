// Package esatest holds test helpers for code that reads the stream: the
// reference decoder (encoding/json, slow and plain) that engine/esa's
// differential and fuzz tests compare the fast Decoder against and that
// engine/book builds books with independently of it, and a dump of a Message
// that shows two Messages' first difference. It is for tests only
// (internal/importrule enforces that).
package esatest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// Decode builds the same Message as esa.Decoder, the straightforward way
// with encoding/json. Objects are decoded into map[string]json.RawMessage so
// that keys match exactly (encoding/json's struct matching ignores case,
// the stream does not) and every value's type is checked explicitly. The
// enumerations are parsed here too, not with esa's own functions, so that
// the reference shares no decoding code with what it checks.

var errRefType = errors.New("wrong type")

type refObj map[string]json.RawMessage

// Decode decodes line into a new Message. With full set it decodes rcm and
// ccm lines too instead of stopping at their op, which the fuzz test uses
// to ask "does any known key hold a wrong type?".
func Decode(line []byte, full bool) (*esa.Message, error) {
	var top refObj
	if err := json.Unmarshal(line, &top); err != nil {
		return nil, err
	}
	m := &esa.Message{}
	if raw, ok := present(top, "op"); ok {
		s, err := refString(raw)
		if err != nil {
			return nil, fmt.Errorf("op: %w", err)
		}
		m.Op = refOp(s)
		if (m.Op == esa.OpRCM || m.Op == esa.OpCCM) && !full {
			return &esa.Message{Op: m.Op}, nil
		}
	}
	var err error
	for k, raw := range top {
		if string(raw) == "null" {
			continue
		}
		switch k {
		case "id":
			m.ID, err = refInt(raw)
			m.HasID = true
		case "clk":
			m.Clk, err = refClock(raw)
		case "initialClk":
			m.InitialClk, err = refClock(raw)
		case "pt":
			m.Pt, err = refInt(raw)
		case "ct":
			var s string
			s, err = refString(raw)
			m.Ct = refChangeType(s)
		case "con":
			m.Con, err = refBool(raw)
		case "segmentType":
			var s string
			s, err = refString(raw)
			m.SegmentType = refSegmentType(s)
		case "status":
			var v int64
			v, err = refInt(raw)
			m.Status = int(v)
		case "heartbeatMs":
			m.HeartbeatMs, err = refInt(raw)
		case "conflateMs":
			m.ConflateMs, err = refInt(raw)
		case "connectionId":
			m.ConnectionID, err = refBytes(raw)
		case "statusCode":
			m.StatusCode, err = refBytes(raw)
		case "errorCode":
			m.ErrorCode, err = refBytes(raw)
		case "errorMessage":
			m.ErrorMessage, err = refBytes(raw)
		case "connectionClosed":
			m.ConnectionClosed, err = refBool(raw)
		case "connectionsAvailable":
			m.ConnectionsAvailable, err = refInt(raw)
		case "mc":
			m.MC, err = refMarketChanges(raw)
		case "oc":
			m.OC, err = refOrderChanges(raw)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	if m.Op == esa.OpRCM || m.Op == esa.OpCCM {
		return &esa.Message{Op: m.Op}, nil
	}
	return m, nil
}

// refOp is the esa.Op an "op" value names; esa.OpUnknown for any other.
func refOp(s string) esa.Op {
	switch s {
	case "mcm":
		return esa.OpMCM
	case "ocm":
		return esa.OpOCM
	case "connection":
		return esa.OpConnection
	case "status":
		return esa.OpStatus
	case "rcm":
		return esa.OpRCM
	case "ccm":
		return esa.OpCCM
	}
	return esa.OpUnknown
}

// refChangeType is the esa.ChangeType a "ct" value names.
func refChangeType(s string) esa.ChangeType {
	switch s {
	case "SUB_IMAGE":
		return esa.ChangeTypeSubImage
	case "RESUB_DELTA":
		return esa.ChangeTypeResubDelta
	case "HEARTBEAT":
		return esa.ChangeTypeHeartbeat
	}
	return esa.ChangeTypeNone
}

// refSegmentType is the esa.SegmentType a "segmentType" value names.
func refSegmentType(s string) esa.SegmentType {
	switch s {
	case "SEG_START":
		return esa.SegmentStart
	case "SEG":
		return esa.Segment
	case "SEG_END":
		return esa.SegmentEnd
	}
	return esa.SegmentNone
}

// present returns a key's value unless it is absent or null.
func present(o refObj, k string) (json.RawMessage, bool) {
	raw, ok := o[k]
	if !ok || string(raw) == "null" {
		return nil, false
	}
	return raw, true
}

func refString(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", errRefType
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

func refBytes(raw json.RawMessage) ([]byte, error) {
	s, err := refString(raw)
	return []byte(s), err
}

func refClock(raw json.RawMessage) ([]byte, error) {
	if len(raw) > 0 && raw[0] == '"' {
		return refBytes(raw)
	}
	if len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return []byte(raw), nil
	}
	return nil, errRefType
}

func refBool(raw json.RawMessage) (bool, error) {
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errRefType
}

func isNumber(raw json.RawMessage) bool {
	return len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9')
}

func refInt(raw json.RawMessage) (int64, error) {
	if !isNumber(raw) {
		return 0, errRefType
	}
	return strconv.ParseInt(string(raw), 10, 64)
}

// refID accepts a number or a string of digits, as selection ids come.
func refID(raw json.RawMessage) (int64, error) {
	if len(raw) > 0 && raw[0] == '"' {
		s, err := refString(raw)
		if err != nil {
			return 0, err
		}
		return strconv.ParseInt(s, 10, 64)
	}
	return refInt(raw)
}

func refFloat(raw json.RawMessage) (float64, error) {
	if !isNumber(raw) {
		return 0, errRefType
	}
	return strconv.ParseFloat(string(raw), 64)
}

func refArray(raw json.RawMessage) ([]json.RawMessage, error) {
	if len(raw) == 0 || raw[0] != '[' {
		return nil, errRefType
	}
	var a []json.RawMessage
	err := json.Unmarshal(raw, &a)
	return a, err
}

func refObject(raw json.RawMessage) (refObj, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errRefType
	}
	var o refObj
	err := json.Unmarshal(raw, &o)
	return o, err
}

func refMarketChanges(raw json.RawMessage) ([]esa.MarketChange, error) {
	a, err := refArray(raw)
	if err != nil {
		return nil, err
	}
	var out []esa.MarketChange
	for i, el := range a {
		o, err := refObject(el)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		mc := esa.MarketChange{Raw: el}
		for k, v := range o {
			if string(v) == "null" {
				continue
			}
			switch k {
			case "id":
				mc.ID, err = refBytes(v)
			case "img":
				mc.Img, err = refBool(v)
			case "con":
				mc.Con, err = refBool(v)
			case "tv":
				mc.Tv, err = refFloat(v)
				mc.HasTv = true
			case "marketDefinition":
				mc.Def, err = refDefinition(v)
			case "rc":
				mc.RC, err = refRunnerChanges(v)
			}
			if err != nil {
				return nil, fmt.Errorf("[%d].%s: %w", i, k, err)
			}
		}
		if len(mc.ID) == 0 {
			return nil, fmt.Errorf("[%d].id: missing, null or empty", i)
		}
		out = append(out, mc)
	}
	return out, nil
}

func refRunnerChanges(raw json.RawMessage) ([]esa.RunnerChange, error) {
	a, err := refArray(raw)
	if err != nil {
		return nil, err
	}
	var out []esa.RunnerChange
	for _, el := range a {
		o, err := refObject(el)
		if err != nil {
			return nil, err
		}
		var rc esa.RunnerChange
		for k, v := range o {
			if string(v) == "null" {
				continue
			}
			switch k {
			case "id":
				rc.ID, err = refID(v)
			case "hc":
				rc.Hc, err = refFloat(v)
				rc.Fields |= esa.FieldHc
			case "ltp":
				rc.Ltp, err = refFloat(v)
				rc.Fields |= esa.FieldLtp
			case "tv":
				rc.Tv, err = refFloat(v)
				rc.Fields |= esa.FieldTv
			case "spn":
				rc.Spn, rc.SpnRaw, err = refProjected(v)
				rc.Fields |= esa.FieldSpn
			case "spf":
				rc.Spf, rc.SpfRaw, err = refProjected(v)
				rc.Fields |= esa.FieldSpf
			case "atb":
				rc.Atb, err = refLadder(v)
				rc.Fields |= esa.FieldAtb
			case "atl":
				rc.Atl, err = refLadder(v)
				rc.Fields |= esa.FieldAtl
			case "trd":
				rc.Trd, err = refLadder(v)
				rc.Fields |= esa.FieldTrd
			case "spb":
				rc.Spb, err = refLadder(v)
				rc.Fields |= esa.FieldSpb
			case "spl":
				rc.Spl, err = refLadder(v)
				rc.Fields |= esa.FieldSpl
			case "batb":
				rc.Batb, err = refLevelLadder(v)
				rc.Fields |= esa.FieldBatb
			case "batl":
				rc.Batl, err = refLevelLadder(v)
				rc.Fields |= esa.FieldBatl
			case "bdatb":
				rc.Bdatb, err = refLevelLadder(v)
				rc.Fields |= esa.FieldBdatb
			case "bdatl":
				rc.Bdatl, err = refLevelLadder(v)
				rc.Fields |= esa.FieldBdatl
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
		out = append(out, rc)
	}
	return out, nil
}

func refProjected(raw json.RawMessage) (float64, []byte, error) {
	if isNumber(raw) {
		f, err := refFloat(raw)
		return f, []byte(raw), err
	}
	s, err := refString(raw)
	if err != nil {
		return 0, nil, err
	}
	switch s {
	case "NaN":
		return math.NaN(), []byte(s), nil
	case "Infinity":
		return math.Inf(1), []byte(s), nil
	case "-Infinity":
		return math.Inf(-1), []byte(s), nil
	}
	return 0, nil, errRefType
}

func refNumbers(raw json.RawMessage, n int) ([]float64, error) {
	a, err := refArray(raw)
	if err != nil {
		return nil, err
	}
	if len(a) != n {
		return nil, errRefType
	}
	out := make([]float64, n)
	for i, v := range a {
		if n == 3 && i == 0 {
			var l int64
			l, err = refInt(v)
			out[i] = float64(l)
		} else {
			out[i], err = refFloat(v)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func refLadder(raw json.RawMessage) ([]esa.PriceSize, error) {
	a, err := refArray(raw)
	if err != nil {
		return nil, err
	}
	out := []esa.PriceSize{}
	for _, el := range a {
		v, err := refNumbers(el, 2)
		if err != nil {
			return nil, err
		}
		out = append(out, esa.PriceSize{Price: v[0], Size: v[1]})
	}
	return out, nil
}

func refLevelLadder(raw json.RawMessage) ([]esa.LevelPriceSize, error) {
	a, err := refArray(raw)
	if err != nil {
		return nil, err
	}
	out := []esa.LevelPriceSize{}
	for _, el := range a {
		v, err := refNumbers(el, 3)
		if err != nil {
			return nil, err
		}
		out = append(out, esa.LevelPriceSize{Level: int(v[0]), Price: v[1], Size: v[2]})
	}
	return out, nil
}

func refStrings(raw json.RawMessage) ([]string, error) {
	a, err := refArray(raw)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, v := range a {
		s, err := refString(v)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func refDefinition(raw json.RawMessage) (*esa.MarketDefinition, error) {
	o, err := refObject(raw)
	if err != nil {
		return nil, err
	}
	def := &esa.MarketDefinition{Raw: raw}
	str := func(dst *string, v json.RawMessage) error {
		var err error
		*dst, err = refString(v)
		return err
	}
	boolean := func(dst *bool, v json.RawMessage) error {
		var err error
		*dst, err = refBool(v)
		return err
	}
	flt := func(dst *float64, v json.RawMessage) error {
		var err error
		*dst, err = refFloat(v)
		return err
	}
	integer := func(dst *int, v json.RawMessage) error {
		n, err := refInt(v)
		*dst = int(n)
		return err
	}
	for k, v := range o {
		if string(v) == "null" {
			continue
		}
		switch k {
		case "venue":
			err = str(&def.Venue, v)
		case "raceType":
			err = str(&def.RaceType, v)
		case "settledTime":
			err = str(&def.SettledTime, v)
		case "timezone":
			err = str(&def.Timezone, v)
		case "eachWayDivisor":
			err = flt(&def.EachWayDivisor, v)
			def.HasEachWayDivisor = true
		case "regulators":
			def.Regulators, err = refStrings(v)
		case "marketType":
			err = str(&def.MarketType, v)
		case "marketBaseRate":
			err = flt(&def.MarketBaseRate, v)
		case "numberOfWinners":
			err = integer(&def.NumberOfWinners, v)
		case "countryCode":
			err = str(&def.CountryCode, v)
		case "lineMaxUnit":
			err = flt(&def.LineMaxUnit, v)
		case "lineMinUnit":
			err = flt(&def.LineMinUnit, v)
		case "lineInterval":
			err = flt(&def.LineInterval, v)
		case "inPlay":
			err = boolean(&def.InPlay, v)
		case "betDelay":
			err = integer(&def.BetDelay, v)
		case "bspMarket":
			err = boolean(&def.BspMarket, v)
		case "bettingType":
			err = str(&def.BettingType, v)
		case "numberOfActiveRunners":
			err = integer(&def.NumberOfActiveRunners, v)
		case "eventId":
			err = str(&def.EventID, v)
		case "crossMatching":
			err = boolean(&def.CrossMatching, v)
		case "runnersVoidable":
			err = boolean(&def.RunnersVoidable, v)
		case "turnInPlayEnabled":
			err = boolean(&def.TurnInPlayEnabled, v)
		case "priceLadderDefinition":
			var p refObj
			if p, err = refObject(v); err == nil {
				if t, ok := present(p, "type"); ok {
					err = str(&def.PriceLadderType, t)
				}
			}
		case "keyLineDefinition":
			def.HasKeyLine = true
			def.KeyLine, err = refKeyLine(v)
		case "suspendTime":
			err = str(&def.SuspendTime, v)
		case "discountAllowed":
			err = boolean(&def.DiscountAllowed, v)
		case "persistenceEnabled":
			err = boolean(&def.PersistenceEnabled, v)
		case "runners":
			def.Runners, err = refRunnerDefinitions(v)
		case "version":
			def.Version, err = refInt(v)
		case "eventTypeId":
			err = str(&def.EventTypeID, v)
		case "complete":
			err = boolean(&def.Complete, v)
		case "openDate":
			err = str(&def.OpenDate, v)
		case "marketTime":
			err = str(&def.MarketTime, v)
		case "bspReconciled":
			err = boolean(&def.BspReconciled, v)
		case "status":
			err = str(&def.Status, v)
		case "suspendReason":
			err = str(&def.SuspendReason, v)
		case "name":
			err = str(&def.Name, v)
		case "eventName":
			err = str(&def.EventName, v)
		case "betDelayModels":
			def.BetDelayModels, err = refStrings(v)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	return def, nil
}

func refKeyLine(raw json.RawMessage) ([]esa.KeyLineSelection, error) {
	o, err := refObject(raw)
	if err != nil {
		return nil, err
	}
	out := []esa.KeyLineSelection{}
	kl, ok := present(o, "kl")
	if !ok {
		return out, nil
	}
	a, err := refArray(kl)
	if err != nil {
		return nil, err
	}
	for _, el := range a {
		s, err := refObject(el)
		if err != nil {
			return nil, err
		}
		var sel esa.KeyLineSelection
		if v, ok := present(s, "id"); ok {
			if sel.ID, err = refID(v); err != nil {
				return nil, err
			}
		}
		if v, ok := present(s, "hc"); ok {
			if sel.Hc, err = refFloat(v); err != nil {
				return nil, err
			}
		}
		out = append(out, sel)
	}
	return out, nil
}

func refRunnerDefinitions(raw json.RawMessage) ([]esa.RunnerDefinition, error) {
	a, err := refArray(raw)
	if err != nil {
		return nil, err
	}
	out := []esa.RunnerDefinition{}
	for _, el := range a {
		o, err := refObject(el)
		if err != nil {
			return nil, err
		}
		var r esa.RunnerDefinition
		for k, v := range o {
			if string(v) == "null" {
				continue
			}
			switch k {
			case "id":
				r.ID, err = refID(v)
			case "hc":
				r.Hc, err = refFloat(v)
				r.HasHc = true
			case "sortPriority":
				var n int64
				n, err = refInt(v)
				r.SortPriority = int(n)
			case "name":
				r.Name, err = refString(v)
			case "status":
				r.Status, err = refString(v)
			case "adjustmentFactor":
				r.AdjustmentFactor, err = refFloat(v)
				r.HasAdjustment = true
			case "removalDate":
				r.RemovalDate, err = refString(v)
			case "bsp":
				r.Bsp, err = refFloat(v)
				r.HasBsp = true
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func refOrderChanges(raw json.RawMessage) ([]esa.OrderMarketChange, error) {
	a, err := refArray(raw)
	if err != nil {
		return nil, err
	}
	var out []esa.OrderMarketChange
	for _, el := range a {
		o, err := refObject(el)
		if err != nil {
			return nil, err
		}
		oc := esa.OrderMarketChange{Raw: el}
		for k, v := range o {
			if string(v) == "null" {
				continue
			}
			switch k {
			case "id":
				oc.ID, err = refBytes(v)
			case "accountId":
				oc.AccountID, err = refInt(v)
			case "closed":
				oc.Closed, err = refBool(v)
			case "fullImage":
				oc.FullImage, err = refBool(v)
			case "orc":
				oc.ORC, err = refOrderRunnerChanges(v)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
		if len(oc.ID) == 0 {
			return nil, errors.New("id: missing, null or empty")
		}
		out = append(out, oc)
	}
	return out, nil
}

func refOrderRunnerChanges(raw json.RawMessage) ([]esa.OrderRunnerChange, error) {
	a, err := refArray(raw)
	if err != nil {
		return nil, err
	}
	var out []esa.OrderRunnerChange
	for _, el := range a {
		o, err := refObject(el)
		if err != nil {
			return nil, err
		}
		var r esa.OrderRunnerChange
		for k, v := range o {
			if string(v) == "null" {
				continue
			}
			switch k {
			case "id":
				r.ID, err = refID(v)
			case "hc":
				r.Hc, err = refFloat(v)
				r.HasHc = true
			case "fullImage":
				r.FullImage, err = refBool(v)
			case "mb":
				r.MB, err = refLadder(v)
				r.HasMB = true
			case "ml":
				r.ML, err = refLadder(v)
				r.HasML = true
			case "uo":
				r.UO, err = refOrders(v)
			case "smc":
				r.SMC, err = refStrategyMatches(v)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// refStrategyMatches decodes "smc". A map loses the order of the keys, so
// the entries are sorted by the order their keys appear in the raw bytes,
// which is the order Decoder keeps.
func refStrategyMatches(raw json.RawMessage) ([]esa.StrategyMatchChange, error) {
	o, err := refObject(raw)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var order []string
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		order = append(order, t.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	var out []esa.StrategyMatchChange
	seen := map[string]bool{}
	for _, ref := range order {
		if seen[ref] {
			continue
		}
		seen[ref] = true
		s := esa.StrategyMatchChange{Ref: ref}
		v := o[ref]
		if string(v) != "null" {
			so, err := refObject(v)
			if err != nil {
				return nil, err
			}
			if mb, ok := present(so, "mb"); ok {
				if s.MB, err = refLadder(mb); err != nil {
					return nil, err
				}
				s.HasMB = true
			}
			if ml, ok := present(so, "ml"); ok {
				if s.ML, err = refLadder(ml); err != nil {
					return nil, err
				}
				s.HasML = true
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func refOrders(raw json.RawMessage) ([]esa.Order, error) {
	a, err := refArray(raw)
	if err != nil {
		return nil, err
	}
	var out []esa.Order
	for _, el := range a {
		o, err := refObject(el)
		if err != nil {
			return nil, err
		}
		var u esa.Order
		for k, v := range o {
			if string(v) == "null" {
				continue
			}
			switch k {
			case "id":
				u.ID, err = refString(v)
			case "p":
				u.Price, err = refFloat(v)
			case "s":
				u.Size, err = refFloat(v)
			case "bsp":
				u.BspLiability, err = refFloat(v)
			case "side":
				u.Side, err = refString(v)
			case "status":
				u.Status, err = refString(v)
			case "pt":
				u.PersistenceType, err = refString(v)
			case "ot":
				u.OrderType, err = refString(v)
			case "pd":
				u.PlacedDate, err = refInt(v)
			case "md":
				u.MatchedDate, err = refInt(v)
			case "cd":
				u.CancelledDate, err = refInt(v)
			case "ld":
				u.LapsedDate, err = refInt(v)
			case "lsrc":
				u.LapseStatusReason, err = refString(v)
			case "avp":
				u.AvgPriceMatched, err = refFloat(v)
			case "sm":
				u.SizeMatched, err = refFloat(v)
			case "sr":
				u.SizeRemaining, err = refFloat(v)
			case "sl":
				u.SizeLapsed, err = refFloat(v)
			case "sc":
				u.SizeCancelled, err = refFloat(v)
			case "sv":
				u.SizeVoided, err = refFloat(v)
			case "rac":
				u.RegulatorAuthCode, err = refString(v)
			case "rc":
				u.RegulatorCode, err = refString(v)
			case "rfo":
				u.CustomerOrderRef, err = refString(v)
			case "rfs":
				u.CustomerStrategyRef, err = refString(v)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
		out = append(out, u)
	}
	return out, nil
}

// Dump renders every field of m, one item per line, so that two
// Messages can be compared and their first difference shown. Floats print
// in the shortest form that round-trips, so equal text means equal bits
// (NaN and -0 included); nil and empty slices print alike. The []byte
// fields print once, quoted: as %+v's decimal lists they cost the
// differential test most of its time.
func Dump(m *esa.Message) string {
	var b bytes.Buffer
	top := *m
	top.MC, top.OC = nil, nil
	fmt.Fprintf(&b, "msg %+v\n", top)
	for i, mc := range m.MC {
		def := mc.Def
		mc.Def = nil
		rcs := mc.RC
		mc.RC = nil
		id, raw := mc.ID, mc.Raw
		mc.ID, mc.Raw = nil, nil
		fmt.Fprintf(&b, "mc[%d] id=%q raw=%q %+v\n", i, id, raw, mc)
		if def != nil {
			d := *def
			runners := d.Runners
			raw := d.Raw
			d.Runners, d.Raw = nil, nil
			fmt.Fprintf(&b, "mc[%d].def raw=%q %+v\n", i, raw, d)
			for j, r := range runners {
				fmt.Fprintf(&b, "mc[%d].def.runners[%d] %+v\n", i, j, r)
			}
		}
		for j, rc := range rcs {
			spn, spf := rc.SpnRaw, rc.SpfRaw
			rc.SpnRaw, rc.SpfRaw = nil, nil
			fmt.Fprintf(&b, "mc[%d].rc[%d] spnRaw=%q spfRaw=%q %+v\n", i, j, spn, spf, rc)
		}
	}
	for i, oc := range m.OC {
		orcs := oc.ORC
		id, raw := oc.ID, oc.Raw
		oc.ORC, oc.ID, oc.Raw = nil, nil, nil
		fmt.Fprintf(&b, "oc[%d] id=%q raw=%q %+v\n", i, id, raw, oc)
		for j, r := range orcs {
			uo, smc := r.UO, r.SMC
			r.UO, r.SMC = nil, nil
			fmt.Fprintf(&b, "oc[%d].orc[%d] %+v\n", i, j, r)
			for k, o := range uo {
				fmt.Fprintf(&b, "oc[%d].orc[%d].uo[%d] %+v\n", i, j, k, o)
			}
			for k, s := range smc {
				fmt.Fprintf(&b, "oc[%d].orc[%d].smc[%d] %+v\n", i, j, k, s)
			}
		}
	}
	return b.String()
}

// FirstDiff returns the first differing line of two dumps, for a test
// failure's message; "" when they are equal.
func FirstDiff(got, want string) string {
	g := bytes.Split([]byte(got), []byte("\n"))
	w := bytes.Split([]byte(want), []byte("\n"))
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl []byte
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if !bytes.Equal(gl, wl) {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i, trunc(gl), trunc(wl))
		}
	}
	return ""
}

func trunc(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}

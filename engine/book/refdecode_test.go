package book

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// refDecode is a slow, obviously-correct decoder built on encoding/json. The
// tests use it to build esa.Messages from real lines independently of the
// fast decoder in engine/esa, and to cross-check that decoder.
func refDecode(line []byte, msg *esa.Message) error {
	var top struct {
		Op  string            `json:"op"`
		Pt  int64             `json:"pt"`
		Ct  string            `json:"ct"`
		Clk *string           `json:"clk"`
		MC  []json.RawMessage `json:"mc"`
		OC  []json.RawMessage `json:"oc"`
	}
	if err := json.Unmarshal(line, &top); err != nil {
		return fmt.Errorf("refDecode: %w", err)
	}
	msg.Reset()
	switch top.Op {
	case "mcm":
		msg.Op = esa.OpMCM
	case "ocm":
		msg.Op = esa.OpOCM
	case "connection":
		msg.Op = esa.OpConnection
	case "status":
		msg.Op = esa.OpStatus
	case "rcm":
		msg.Op = esa.OpRCM
	case "ccm":
		msg.Op = esa.OpCCM
	}
	msg.Pt = top.Pt
	switch top.Ct {
	case "SUB_IMAGE":
		msg.Ct = esa.ChangeTypeSubImage
	case "RESUB_DELTA":
		msg.Ct = esa.ChangeTypeResubDelta
	case "HEARTBEAT":
		msg.Ct = esa.ChangeTypeHeartbeat
	}
	for _, raw := range top.MC {
		mc, err := refMarketChange(raw)
		if err != nil {
			return err
		}
		msg.MC = append(msg.MC, mc)
	}
	for _, raw := range top.OC {
		oc, err := refOrderChange(raw)
		if err != nil {
			return err
		}
		msg.OC = append(msg.OC, oc)
	}
	return nil
}

func refMarketChange(raw json.RawMessage) (esa.MarketChange, error) {
	var mc esa.MarketChange
	var f struct {
		ID  string                       `json:"id"`
		Img bool                         `json:"img"`
		Con bool                         `json:"con"`
		Tv  *float64                     `json:"tv"`
		Def json.RawMessage              `json:"marketDefinition"`
		RC  []map[string]json.RawMessage `json:"rc"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return mc, err
	}
	mc.ID, mc.Img, mc.Con, mc.Raw = []byte(f.ID), f.Img, f.Con, raw
	if f.Tv != nil {
		mc.Tv, mc.HasTv = *f.Tv, true
	}
	if f.Def != nil {
		var d struct {
			Status  string `json:"status"`
			Version int64  `json:"version"`
			Runners []struct {
				ID               int64    `json:"id"`
				Hc               *float64 `json:"hc"`
				SortPriority     int      `json:"sortPriority"`
				Name             string   `json:"name"`
				Status           string   `json:"status"`
				AdjustmentFactor *float64 `json:"adjustmentFactor"`
				RemovalDate      string   `json:"removalDate"`
				Bsp              *float64 `json:"bsp"`
			} `json:"runners"`
		}
		if err := json.Unmarshal(f.Def, &d); err != nil {
			return mc, err
		}
		def := &esa.MarketDefinition{Status: d.Status, Version: d.Version, Raw: bytes.Clone(f.Def)}
		for _, r := range d.Runners {
			rd := esa.RunnerDefinition{ID: r.ID, SortPriority: r.SortPriority, Name: r.Name, Status: r.Status, RemovalDate: r.RemovalDate}
			if r.Hc != nil {
				rd.Hc, rd.HasHc = *r.Hc, true
			}
			if r.AdjustmentFactor != nil {
				rd.AdjustmentFactor, rd.HasAdjustment = *r.AdjustmentFactor, true
			}
			if r.Bsp != nil {
				rd.Bsp, rd.HasBsp = *r.Bsp, true
			}
			def.Runners = append(def.Runners, rd)
		}
		mc.Def = def
	}
	for _, m := range f.RC {
		var rc esa.RunnerChange
		for k, v := range m {
			var err error
			switch k {
			case "id":
				err = json.Unmarshal(v, &rc.ID)
			case "hc":
				rc.Fields |= esa.FieldHc
				err = json.Unmarshal(v, &rc.Hc)
			case "ltp":
				rc.Fields |= esa.FieldLtp
				err = json.Unmarshal(v, &rc.Ltp)
			case "tv":
				rc.Fields |= esa.FieldTv
				err = json.Unmarshal(v, &rc.Tv)
			case "spn":
				rc.Fields |= esa.FieldSpn
				rc.Spn, rc.SpnRaw, err = refSP(v)
			case "spf":
				rc.Fields |= esa.FieldSpf
				rc.Spf, rc.SpfRaw, err = refSP(v)
			case "atb":
				rc.Fields |= esa.FieldAtb
				rc.Atb, err = refPS(v)
			case "atl":
				rc.Fields |= esa.FieldAtl
				rc.Atl, err = refPS(v)
			case "trd":
				rc.Fields |= esa.FieldTrd
				rc.Trd, err = refPS(v)
			case "spb":
				rc.Fields |= esa.FieldSpb
				rc.Spb, err = refPS(v)
			case "spl":
				rc.Fields |= esa.FieldSpl
				rc.Spl, err = refPS(v)
			case "batb":
				rc.Fields |= esa.FieldBatb
				rc.Batb, err = refLPS(v)
			case "batl":
				rc.Fields |= esa.FieldBatl
				rc.Batl, err = refLPS(v)
			case "bdatb":
				rc.Fields |= esa.FieldBdatb
				rc.Bdatb, err = refLPS(v)
			case "bdatl":
				rc.Fields |= esa.FieldBdatl
				rc.Bdatl, err = refLPS(v)
			}
			if err != nil {
				return mc, fmt.Errorf("rc key %s: %w", k, err)
			}
		}
		mc.RC = append(mc.RC, rc)
	}
	return mc, nil
}

func refSP(v json.RawMessage) (float64, []byte, error) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		switch s {
		case "NaN":
			return math.NaN(), []byte(s), nil
		case "Infinity":
			return math.Inf(1), []byte(s), nil
		case "-Infinity":
			return math.Inf(-1), []byte(s), nil
		}
		f, err := strconv.ParseFloat(s, 64)
		return f, []byte(s), err
	}
	var f float64
	err := json.Unmarshal(v, &f)
	return f, v, err
}

func refPS(v json.RawMessage) ([]esa.PriceSize, error) {
	var a [][]float64
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, err
	}
	out := make([]esa.PriceSize, 0, len(a))
	for _, e := range a {
		if len(e) != 2 {
			return nil, fmt.Errorf("price-size entry of %d values", len(e))
		}
		out = append(out, esa.PriceSize{Price: e[0], Size: e[1]})
	}
	return out, nil
}

func refLPS(v json.RawMessage) ([]esa.LevelPriceSize, error) {
	var a [][]float64
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, err
	}
	out := make([]esa.LevelPriceSize, 0, len(a))
	for _, e := range a {
		if len(e) != 3 {
			return nil, fmt.Errorf("level-price-size entry of %d values", len(e))
		}
		out = append(out, esa.LevelPriceSize{Level: int(e[0]), Price: e[1], Size: e[2]})
	}
	return out, nil
}

func refOrderChange(raw json.RawMessage) (esa.OrderMarketChange, error) {
	var oc esa.OrderMarketChange
	var f struct {
		ID        string `json:"id"`
		AccountID int64  `json:"accountId"`
		Closed    bool   `json:"closed"`
		FullImage bool   `json:"fullImage"`
		ORC       []struct {
			ID        int64       `json:"id"`
			Hc        *float64    `json:"hc"`
			FullImage bool        `json:"fullImage"`
			UO        []refOrder  `json:"uo"`
			MB        [][]float64 `json:"mb"`
			ML        [][]float64 `json:"ml"`
			SMC       map[string]struct {
				MB [][]float64 `json:"mb"`
				ML [][]float64 `json:"ml"`
			} `json:"smc"`
		} `json:"orc"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return oc, err
	}
	oc.ID, oc.AccountID, oc.Closed, oc.FullImage, oc.Raw = []byte(f.ID), f.AccountID, f.Closed, f.FullImage, raw
	ps := func(a [][]float64) []esa.PriceSize {
		out := make([]esa.PriceSize, 0, len(a))
		for _, e := range a {
			out = append(out, esa.PriceSize{Price: e[0], Size: e[1]})
		}
		return out
	}
	for _, r := range f.ORC {
		orc := esa.OrderRunnerChange{ID: r.ID, FullImage: r.FullImage, HasMB: r.MB != nil, HasML: r.ML != nil}
		if r.Hc != nil {
			orc.Hc, orc.HasHc = *r.Hc, true
		}
		if r.MB != nil {
			orc.MB = ps(r.MB)
		}
		if r.ML != nil {
			orc.ML = ps(r.ML)
		}
		for _, o := range r.UO {
			orc.UO = append(orc.UO, esa.Order{
				ID: o.ID, Price: o.P, Size: o.S, BspLiability: o.Bsp, Side: o.Side, Status: o.Status,
				PersistenceType: o.Pt, OrderType: o.Ot, PlacedDate: o.Pd, MatchedDate: o.Md,
				CancelledDate: o.Cd, LapsedDate: o.Ld, LapseStatusReason: o.Lsrc, AvgPriceMatched: o.Avp,
				SizeMatched: o.Sm, SizeRemaining: o.Sr, SizeLapsed: o.Sl, SizeCancelled: o.Sc, SizeVoided: o.Sv,
				RegulatorAuthCode: o.Rac, RegulatorCode: o.Rc, CustomerOrderRef: o.Rfo, CustomerStrategyRef: o.Rfs,
			})
		}
		for ref, s := range r.SMC {
			orc.SMC = append(orc.SMC, esa.StrategyMatchChange{Ref: ref, MB: ps(s.MB), ML: ps(s.ML), HasMB: s.MB != nil, HasML: s.ML != nil})
		}
		oc.ORC = append(oc.ORC, orc)
	}
	return oc, nil
}

type refOrder struct {
	ID     string  `json:"id"`
	P      float64 `json:"p"`
	S      float64 `json:"s"`
	Bsp    float64 `json:"bsp"`
	Side   string  `json:"side"`
	Status string  `json:"status"`
	Pt     string  `json:"pt"`
	Ot     string  `json:"ot"`
	Pd     int64   `json:"pd"`
	Md     int64   `json:"md"`
	Cd     int64   `json:"cd"`
	Ld     int64   `json:"ld"`
	Lsrc   string  `json:"lsrc"`
	Avp    float64 `json:"avp"`
	Sm     float64 `json:"sm"`
	Sr     float64 `json:"sr"`
	Sl     float64 `json:"sl"`
	Sc     float64 `json:"sc"`
	Sv     float64 `json:"sv"`
	Rac    string  `json:"rac"`
	Rc     string  `json:"rc"`
	Rfo    string  `json:"rfo"`
	Rfs    string  `json:"rfs"`
}

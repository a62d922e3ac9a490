package book

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// JSONOptions are the two keys bflw adds to every book it hands out, which
// depend on how the book was obtained rather than on the market.
type JSONOptions struct {
	// UniqueID is the stream's id ("streaming_unique_id"); 0 for historic
	// files.
	UniqueID int64
	// Snap is "streaming_snap": true for a book from a snapshot of the cache
	// (what bflw's historic generator yields after every line), false for
	// one pushed by a live stream update.
	Snap bool
}

// AppendLightweightJSON appends the market as betfairlightweight's
// lightweight MarketBook dict (one JSON object, no newline) and returns the
// extended buffer. Definition fields are copied from the last definition as
// received (null when absent or before any definition); "marketDefinition"
// is that definition ({} before any) and "streaming_update" the last market
// change applied. It does not allocate beyond growing dst.
func (m *Market) AppendLightweightJSON(dst []byte, o JSONOptions) []byte {
	d := &m.defRaw
	dst = append(dst, `{"marketId":`...)
	dst = appendString(dst, m.ID)
	dst = append(dst, `,"totalAvailable":null,"isMarketDataDelayed":null,"lastMatchTime":null,"betDelay":`...)
	dst = appendRaw(dst, d.betDelay)
	dst = append(dst, `,"version":`...)
	dst = appendRaw(dst, d.version)
	dst = append(dst, `,"complete":`...)
	dst = appendRaw(dst, d.complete)
	dst = append(dst, `,"runnersVoidable":`...)
	dst = appendRaw(dst, d.runnersVoidable)
	dst = append(dst, `,"totalMatched":`...)
	dst = AppendFloat(dst, m.TotalMatched)
	dst = append(dst, `,"status":`...)
	dst = appendRaw(dst, d.status)
	dst = append(dst, `,"bspReconciled":`...)
	dst = appendRaw(dst, d.bspReconciled)
	dst = append(dst, `,"crossMatching":`...)
	dst = appendRaw(dst, d.crossMatching)
	dst = append(dst, `,"inplay":`...)
	dst = appendRaw(dst, d.inPlay)
	dst = append(dst, `,"numberOfWinners":`...)
	dst = appendRaw(dst, d.numberOfWinners)
	dst = append(dst, `,"numberOfRunners":`...)
	dst = strconv.AppendInt(dst, int64(len(m.Runners)), 10)
	dst = append(dst, `,"numberOfActiveRunners":`...)
	dst = appendRaw(dst, d.numberOfActiveRunners)
	dst = append(dst, `,"runners":[`...)
	for i, r := range m.Runners {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = r.appendLightweightJSON(dst)
	}
	dst = append(dst, `],"publishTime":`...)
	dst = strconv.AppendInt(dst, m.PublishTime, 10)
	dst = append(dst, `,"priceLadderDefinition":`...)
	dst = appendRaw(dst, d.priceLadderDefinition)
	dst = append(dst, `,"keyLineDescription":`...)
	dst = appendRaw(dst, d.keyLineDefinition)
	dst = append(dst, `,"marketDefinition":`...)
	if m.Def != nil && len(m.Def.Raw) > 0 {
		dst = appendCompact(dst, m.Def.Raw)
	} else {
		dst = append(dst, "{}"...)
	}
	dst = append(dst, `,"streaming_update":`...)
	dst = appendRaw(dst, m.change)
	dst = append(dst, `,"streaming_unique_id":`...)
	dst = strconv.AppendInt(dst, o.UniqueID, 10)
	if o.Snap {
		dst = append(dst, `,"streaming_snap":true}`...)
	} else {
		dst = append(dst, `,"streaming_snap":false}`...)
	}
	return dst
}

// appendLightweightJSON appends bflw's serialised RunnerBook dict.
func (r *Runner) appendLightweightJSON(dst []byte) []byte {
	rd := r.Def
	dst = append(dst, `{"status":`...)
	if rd != nil && rd.Status != "" {
		dst = appendString(dst, rd.Status)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"ex":{"tradedVolume":`...)
	dst = appendLadder(dst, r.Traded.Levels)
	dst = append(dst, `,"availableToBack":`...)
	// bflw shows the full ladder when there is one, else the best display
	// levels, else the best levels.
	switch {
	case len(r.AvailableToBack.Levels) > 0:
		dst = appendLadder(dst, r.AvailableToBack.Levels)
	case len(r.BestDisplayAvailableToBack.Levels) > 0:
		dst = appendLevels(dst, r.BestDisplayAvailableToBack.Levels)
	default:
		dst = appendLevels(dst, r.BestAvailableToBack.Levels)
	}
	dst = append(dst, `,"availableToLay":`...)
	switch {
	case len(r.AvailableToLay.Levels) > 0:
		dst = appendLadder(dst, r.AvailableToLay.Levels)
	case len(r.BestDisplayAvailableToLay.Levels) > 0:
		dst = appendLevels(dst, r.BestDisplayAvailableToLay.Levels)
	default:
		dst = appendLevels(dst, r.BestAvailableToLay.Levels)
	}
	dst = append(dst, `},"sp":{"nearPrice":`...)
	dst = AppendSP(dst, r.SPNear, r.HasSPNear)
	dst = append(dst, `,"farPrice":`...)
	dst = AppendSP(dst, r.SPFar, r.HasSPFar)
	// bflw's naming: backStakeTaken is the spl ladder, layLiabilityTaken spb.
	dst = append(dst, `,"backStakeTaken":`...)
	dst = appendLadder(dst, r.SPLay.Levels)
	dst = append(dst, `,"layLiabilityTaken":`...)
	dst = appendLadder(dst, r.SPBack.Levels)
	dst = append(dst, `,"actualSP":`...)
	if rd != nil && rd.HasBsp {
		dst = AppendFloat(dst, rd.Bsp)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `},"adjustmentFactor":`...)
	if rd != nil && rd.HasAdjustment {
		dst = AppendFloat(dst, rd.AdjustmentFactor)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"removalDate":`...)
	if rd != nil && rd.RemovalDate != "" {
		dst = appendString(dst, rd.RemovalDate)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"lastPriceTraded":`...)
	if r.HasLastPriceTraded {
		dst = AppendFloat(dst, r.LastPriceTraded)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"handicap":`...)
	dst = AppendFloat(dst, r.Handicap)
	dst = append(dst, `,"totalMatched":`...)
	dst = AppendFloat(dst, r.TotalMatched)
	dst = append(dst, `,"selectionId":`...)
	dst = strconv.AppendInt(dst, r.SelectionID, 10)
	return append(dst, '}')
}

func appendLadder(dst []byte, levels []esa.PriceSize) []byte {
	dst = append(dst, '[')
	for i, l := range levels {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"price":`...)
		dst = AppendFloat(dst, l.Price)
		dst = append(dst, `,"size":`...)
		dst = AppendFloat(dst, l.Size)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

func appendLevels(dst []byte, levels []esa.LevelPriceSize) []byte {
	dst = append(dst, '[')
	for i, l := range levels {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"price":`...)
		dst = AppendFloat(dst, l.Price)
		dst = append(dst, `,"size":`...)
		dst = AppendFloat(dst, l.Size)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// AppendSP appends a projected starting price (null when !ok). Betfair
// sends "NaN" and "Infinity" as JSON strings, which bflw passes through
// unchanged, so they are written back as those strings.
func AppendSP(dst []byte, v float64, ok bool) []byte {
	switch {
	case !ok:
		return append(dst, "null"...)
	case math.IsNaN(v):
		return append(dst, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(v, -1):
		return append(dst, `"-Infinity"`...)
	}
	return AppendFloat(dst, v)
}

// AppendFloat appends to dst the JSON number that reads back as v exactly:
// an integer without a point, else the fewest decimals. Non-finite values,
// which JSON cannot hold, are written as null. Books, images and anything
// else tapedeck writes as Betfair-style JSON use it.
func AppendFloat(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, "null"...)
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendInt(dst, int64(v), 10)
	}
	// Betfair's prices and sizes have at most two decimals. When v is the
	// double nearest to c/100 (the division is correctly rounded, so c/100
	// == v says exactly that), writing c's digits with a point before the
	// last two reads back as v, at a fraction of strconv's cost.
	if c := math.Round(v * 100); math.Abs(c) < 1e15 && c/100 == v {
		n := int64(c)
		if n < 0 {
			dst = append(dst, '-')
			n = -n
		}
		dst = strconv.AppendInt(dst, n/100, 10)
		frac := n % 100
		dst = append(dst, '.', byte('0'+frac/10))
		if frac%10 != 0 {
			dst = append(dst, byte('0'+frac%10))
		}
		return dst
	}
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}

// appendRaw writes a raw JSON value, or null for an absent one.
func appendRaw(dst, raw []byte) []byte {
	if len(raw) == 0 {
		return append(dst, "null"...)
	}
	return appendCompact(dst, raw)
}

// appendString writes s as a JSON string.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

package exchange

import (
	"strconv"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// appendImage appends market m as one full-image market change ("img":
// true, the definition as last received, every runner's ladders and
// prices), the element Betfair sends in a SUB_IMAGE or for a market that
// cannot be patched.
func appendImage(dst []byte, m *book.Market) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendQuote(dst, m.ID)
	dst = append(dst, `,"img":true`...)
	if m.TotalMatched != 0 {
		dst = append(dst, `,"tv":`...)
		dst = book.AppendFloat(dst, m.TotalMatched)
	}
	if m.Def != nil && len(m.Def.Raw) > 0 {
		dst = append(dst, `,"marketDefinition":`...)
		dst = append(dst, m.Def.Raw...)
	}
	dst = append(dst, `,"rc":[`...)
	for i, r := range m.Runners {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendRunner(dst, r)
	}
	return append(dst, "]}"...)
}

func appendRunner(dst []byte, r *book.Runner) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, r.SelectionID, 10)
	if r.Handicap != 0 {
		dst = append(dst, `,"hc":`...)
		dst = book.AppendFloat(dst, r.Handicap)
	}
	if r.HasLastPriceTraded {
		dst = append(dst, `,"ltp":`...)
		dst = book.AppendFloat(dst, r.LastPriceTraded)
	}
	if r.TotalMatched != 0 {
		dst = append(dst, `,"tv":`...)
		dst = book.AppendFloat(dst, r.TotalMatched)
	}
	if r.HasSPNear {
		dst = append(dst, `,"spn":`...)
		dst = book.AppendSP(dst, r.SPNear, true)
	}
	if r.HasSPFar {
		dst = append(dst, `,"spf":`...)
		dst = book.AppendSP(dst, r.SPFar, true)
	}
	dst = appendLadder(dst, `,"trd":`, r.Traded.Levels)
	dst = appendLadder(dst, `,"atb":`, r.AvailableToBack.Levels)
	dst = appendLadder(dst, `,"atl":`, r.AvailableToLay.Levels)
	dst = appendLadder(dst, `,"spb":`, r.SPBack.Levels)
	dst = appendLadder(dst, `,"spl":`, r.SPLay.Levels)
	dst = appendLevels(dst, `,"batb":`, r.BestAvailableToBack.Levels)
	dst = appendLevels(dst, `,"batl":`, r.BestAvailableToLay.Levels)
	dst = appendLevels(dst, `,"bdatb":`, r.BestDisplayAvailableToBack.Levels)
	dst = appendLevels(dst, `,"bdatl":`, r.BestDisplayAvailableToLay.Levels)
	return append(dst, '}')
}

// appendLadder writes a non-empty price ladder; an empty one is left out,
// as Betfair leaves it out of an image.
func appendLadder(dst []byte, key string, l []esa.PriceSize) []byte {
	if len(l) == 0 {
		return dst
	}
	dst = append(dst, key...)
	dst = append(dst, '[')
	for i, ps := range l {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		dst = book.AppendFloat(dst, ps.Price)
		dst = append(dst, ',')
		dst = book.AppendFloat(dst, ps.Size)
		dst = append(dst, ']')
	}
	return append(dst, ']')
}

func appendLevels(dst []byte, key string, l []esa.LevelPriceSize) []byte {
	if len(l) == 0 {
		return dst
	}
	dst = append(dst, key...)
	dst = append(dst, '[')
	for i, ps := range l {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		dst = strconv.AppendInt(dst, int64(ps.Level), 10)
		dst = append(dst, ',')
		dst = book.AppendFloat(dst, ps.Price)
		dst = append(dst, ',')
		dst = book.AppendFloat(dst, ps.Size)
		dst = append(dst, ']')
	}
	return append(dst, ']')
}

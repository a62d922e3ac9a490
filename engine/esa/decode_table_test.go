package esa_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/esa/esatest"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// loadLine returns sample number idx of a real data file, looked up in the
// repository's testdata first and ../shared second; the test is skipped
// when neither has it.
func loadLine(t *testing.T, name string, idx int) []byte {
	t.Helper()
	var path string
	for _, dir := range []string{repoTestdata, sharedData(t)} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			path = filepath.Join(dir, name)
			break
		}
	}
	if path == "" {
		testenv.Missing(t, name+" not found in "+repoTestdata+" or the shared data")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	splitSamples(t, path, data, idx+1, func(s sample) { lines = append(lines, s.line) })
	if idx >= len(lines) {
		t.Fatalf("%s has %d samples, want #%d", path, len(lines), idx)
	}
	return lines[idx]
}

// TestDecodeRealLines checks decoded values of real lines against what the
// files say (read off with jq).
func TestDecodeRealLines(t *testing.T) {
	tests := []struct {
		file  string
		idx   int
		check func(t *testing.T, m *esa.Message)
	}{
		{"messages/connection.json", 0, func(t *testing.T, m *esa.Message) {
			eq(t, "op", m.Op, esa.OpConnection)
			eq(t, "connectionId", string(m.ConnectionID), "002-051134157842-432409")
		}},
		{"messages/status.json", 0, func(t *testing.T, m *esa.Message) {
			eq(t, "op", m.Op, esa.OpStatus)
			eq(t, "id", m.ID, 2)
			eq(t, "statusCode", string(m.StatusCode), "SUCCESS")
			eq(t, "connectionClosed", m.ConnectionClosed, false)
		}},
		{"messages/status_error.json", 0, func(t *testing.T, m *esa.Message) { // pretty-printed
			eq(t, "op", m.Op, esa.OpStatus)
			eq(t, "hasID", m.HasID, false)
			eq(t, "statusCode", string(m.StatusCode), "FAILURE")
			eq(t, "errorCode", string(m.ErrorCode), "TIMEOUT")
			eq(t, "errorMessage", string(m.ErrorMessage), "Connection is not subscribed and is idle: 15000 ms")
			eq(t, "connectionClosed", m.ConnectionClosed, true)
			eq(t, "connectionId", string(m.ConnectionID), "12345")
		}},
		{"messages/streaming_503.json", 0, func(t *testing.T, m *esa.Message) {
			eq(t, "op", m.Op, esa.OpMCM)
			eq(t, "status", m.Status, 503)
			eq(t, "id", m.ID, 2)
		}},
		{"tapes/1.164917629.bz2", 1, func(t *testing.T, m *esa.Message) { // "clk": null, spaces
			eq(t, "clk is nil", m.Clk == nil, true)
			eq(t, "pt", m.Pt, 1573466106516)
			rc := &m.MC[0].RC[0]
			eq(t, "rc.id", rc.ID, 12722819)
			eq(t, "atl", rc.Atl, []esa.PriceSize{{4.9, 0}, {5, 32.81}})
			eq(t, "trd", rc.Trd, []esa.PriceSize{{4.9, 117.63}, {5, 206.7}})
			eq(t, "ltp", rc.Ltp, 5.0)
			eq(t, "tv", rc.Tv, 1716.22)
			eq(t, "fields", rc.Fields, esa.FieldAtl|esa.FieldTrd|esa.FieldLtp|esa.FieldTv)
		}},
		{"tapes/BASIC-1.132153978", 0, func(t *testing.T, m *esa.Message) {
			eq(t, "clk", string(m.Clk), "3515399387")
			eq(t, "ct", m.Ct, esa.ChangeTypeNone)
			def := m.MC[0].Def
			eq(t, "name", def.Name, "1m Hcap")
			eq(t, "eventName", def.EventName, "Ham 14th Jun")
			eq(t, "version", def.Version, 1676270913)
			eq(t, "marketBaseRate", def.MarketBaseRate, 5.0)
			eq(t, "venue", def.Venue, "Hamilton")
			eq(t, "regulators", def.Regulators, []string{"MR_INT"})
			eq(t, "runners", len(def.Runners), 14)
			eq(t, "runner 0", def.Runners[0], esa.RunnerDefinition{ID: 12115648, SortPriority: 1,
				Name: "Brother Mcgonagall", Status: "ACTIVE", AdjustmentFactor: 22.12, HasAdjustment: true})
			eq(t, "raw is a copy", &def.Raw[0] != &m.MC[0].Raw[0], true)
			eq(t, "raw", bytes.HasPrefix(def.Raw, []byte(`{"bspMarket":true,`)) && bytes.HasSuffix(def.Raw, []byte(`"eventName":"Ham 14th Jun"}`)), true)
		}},
		{"tapes/1.197931750", 0, func(t *testing.T, m *esa.Message) {
			mc := &m.MC[0]
			eq(t, "id", string(mc.ID), "1.197931750")
			eq(t, "priceLadder", mc.Def.PriceLadderType, "CLASSIC")
			eq(t, "atb[0]", mc.RC[0].Atb[0], esa.PriceSize{8.8, 18.62})
			eq(t, "raw", string(mc.Raw[:21]), `{"id":"1.197931750","`)
		}},
		{"tapes/ORDER-1.177596575", 0, func(t *testing.T, m *esa.Message) {
			eq(t, "op", m.Op, esa.OpOCM)
			oc := &m.OC[0]
			eq(t, "fullImage", oc.FullImage, true)
			eq(t, "orc.fullImage", oc.ORC[0].FullImage, true)
			eq(t, "uo", oc.ORC[0].UO, []esa.Order{{ID: "221073337451", Price: 34, Size: 0.8, Side: "B", Status: "E",
				PersistenceType: "L", OrderType: "L", PlacedDate: 1609915841000, SizeRemaining: 0.8,
				RegulatorCode: "REG_GGC", CustomerOrderRef: "34rtr9df-13845490", CustomerStrategyRef: "c5rytry8c2"}})
		}},
		{"tapes/ORDER-1.177596575", 3, func(t *testing.T, m *esa.Message) {
			eq(t, "closed", m.OC[0].Closed, true)
			eq(t, "orc", len(m.OC[0].ORC), 0)
		}},
		{"messages/ocm_full_image_strategy.json", 0, func(t *testing.T, m *esa.Message) {
			orc := &m.OC[0].ORC[0]
			eq(t, "smc refs", []string{orc.SMC[0].Ref, orc.SMC[1].Ref}, []string{"", "Strategy-1"})
			eq(t, "smc[0].mb", orc.SMC[0].MB, []esa.PriceSize{{1.55, 70}})
			eq(t, "smc[0].hasML", orc.SMC[0].HasML, false)
			eq(t, "ml", len(orc.ML), 8)
			eq(t, "ct", m.Ct, esa.ChangeTypeSubImage)
			eq(t, "heartbeatMs", m.HeartbeatMs, 5000)
		}},
		{"tapes/RACE-1.140075353", 0, func(t *testing.T, m *esa.Message) {
			eq(t, "op", m.Op, esa.OpRCM)
		}},
		{"tapes/CRICKET-1.179676557", 0, func(t *testing.T, m *esa.Message) {
			eq(t, "op", m.Op, esa.OpCCM)
		}},
		{"messages/mcm_bsp_data.jsonl", 0, func(t *testing.T, m *esa.Message) {
			rc := &m.MC[4].RC[4]
			eq(t, "id", rc.ID, 49144861)
			eq(t, "spn", rc.Spn, 23.0)
			eq(t, "spf", math.IsInf(rc.Spf, 1), true)
			eq(t, "spfRaw", string(rc.SpfRaw), "Infinity")
		}},
		{"messages/mcm_resub_delta.json", 0, func(t *testing.T, m *esa.Message) { // selection ids as strings
			eq(t, "ct", m.Ct, esa.ChangeTypeResubDelta)
			rc := &m.MC[0].RC[0]
			eq(t, "id", rc.ID, 42153)
			eq(t, "batb", rc.Batb, []esa.LevelPriceSize{{0, 2.7, 179.35}})
		}},
		{"messages/mcm_market_definition_bet_delay_models.json", 0, func(t *testing.T, m *esa.Message) {
			eq(t, "betDelayModels", m.MC[6].Def.BetDelayModels, []string{"PASSIVE"})
		}},
		{"messages/mcm_market_definition_each_way.json", 0, func(t *testing.T, m *esa.Message) {
			def := m.MC[0].Def
			eq(t, "eachWayDivisor", def.EachWayDivisor, 4.0)
			eq(t, "hasEachWayDivisor", def.HasEachWayDivisor, true)
			eq(t, "marketType", def.MarketType, "EACH_WAY")
		}},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.file, "/", "_")+"#"+strconv.Itoa(tt.idx), func(t *testing.T) {
			line := loadLine(t, tt.file, tt.idx)
			var m esa.Message
			if err := esa.NewDecoder().Decode(line, &m); err != nil {
				t.Fatal(err)
			}
			tt.check(t, &m)
		})
	}
}

// eq fails the test when got and want differ.
func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if g, w := dumpAny(got), dumpAny(want); g != w {
		t.Errorf("%s = %s, want %s", what, g, w)
	}
}

// TestDecodeVariants decodes real lines changed in one way each, for forms
// the real files do not show: escapes, CRLF endings, segment types, key
// lines, whitespace everywhere.
func TestDecodeVariants(t *testing.T) {
	basic := loadLine(t, "tapes/BASIC-1.132153978", 0)
	update := loadLine(t, "tapes/1.197931750", 1)
	tests := []struct {
		name  string
		line  []byte
		check func(t *testing.T, m *esa.Message)
	}{
		{"escaped runner name", bytes.Replace(basic, []byte(`"Brother Mcgonagall"`),
			[]byte(`"Br\u00f6ther \"Mc\" \\ Gon\/agall \ud83d\ude00"`), 1), func(t *testing.T, m *esa.Message) {
			eq(t, "name", m.MC[0].Def.Runners[0].Name, `Bröther "Mc" \ Gon/agall 😀`)
		}},
		{"escaped market id", bytes.Replace(update, []byte(`"1.197931750"`), []byte(`"1.19793\u00317\u00350"`), 1),
			func(t *testing.T, m *esa.Message) { eq(t, "id", string(m.MC[0].ID), "1.197931750") }},
		{"escaped key", bytes.Replace(update, []byte(`"pt"`), []byte(`"\u0070t"`), 1),
			func(t *testing.T, m *esa.Message) { eq(t, "pt", m.Pt != 0, true) }},
		{"CRLF", append(bytes.TrimRight(update, "\n"), "\r\n"...),
			func(t *testing.T, m *esa.Message) { eq(t, "mc", len(m.MC), 1) }},
		{"segment start", bytes.Replace(update, []byte(`"op":"mcm",`), []byte(`"op":"mcm","segmentType":"SEG_START","ct":"HEARTBEAT",`), 1),
			func(t *testing.T, m *esa.Message) {
				eq(t, "segmentType", m.SegmentType, esa.SegmentStart)
				eq(t, "ct", m.Ct, esa.ChangeTypeHeartbeat)
			}},
		{"key line", bytes.Replace(basic, []byte(`"bspMarket":true,`),
			[]byte(`"bspMarket":true,"keyLineDefinition":{"kl":[{"hc":-2,"id":11131804},{"hc":2.5,"id":11064886}]},"lineMinUnit":-10.5,"lineMaxUnit":10,"lineInterval":0.5,`), 1),
			func(t *testing.T, m *esa.Message) {
				def := m.MC[0].Def
				eq(t, "keyLine", def.KeyLine, []esa.KeyLineSelection{{11131804, -2}, {11064886, 2.5}})
				eq(t, "hasKeyLine", def.HasKeyLine, true)
				eq(t, "line", []float64{def.LineMinUnit, def.LineMaxUnit, def.LineInterval}, []float64{-10.5, 10, 0.5})
			}},
		{"unknown keys", bytes.Replace(update, []byte(`"op":"mcm",`),
			[]byte(`"op":"mcm","x":{"a":[1,{"b":"]}"}],"c":null},"y":[[]],"z":-1.5e-3,"w":"\"}",`), 1),
			func(t *testing.T, m *esa.Message) { eq(t, "mc", len(m.MC), 1) }},
		{"whitespace everywhere", spaced(update), func(t *testing.T, m *esa.Message) {
			var want esa.Message
			if err := esa.NewDecoder().Decode(update, &want); err != nil {
				t.Fatal(err)
			}
			eq(t, "rc", m.MC[0].RC, want.MC[0].RC)
		}},
		{"spn NaN", bytes.Replace(update, []byte(`"rc":[{`), []byte(`"rc":[{"spn":"NaN","spf":-1.5,`), 1),
			func(t *testing.T, m *esa.Message) {
				rc := &m.MC[0].RC[0]
				eq(t, "spn", math.IsNaN(rc.Spn), true)
				eq(t, "spf", rc.Spf, -1.5)
				eq(t, "spfRaw", string(rc.SpfRaw), "-1.5")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m esa.Message
			if err := esa.NewDecoder().Decode(tt.line, &m); err != nil {
				t.Fatalf("%v\nline: %.300s", err, tt.line)
			}
			tt.check(t, &m)
			want, err := esatest.Decode(tt.line, false)
			if err != nil {
				t.Fatalf("reference: %v", err)
			}
			if g, w := esatest.Dump(&m), esatest.Dump(want); g != w {
				t.Errorf("differs from reference at %s", esatest.FirstDiff(g, w))
			}
		})
	}
}

// spaced puts whitespace around every structural character outside strings.
func spaced(line []byte) []byte {
	var out []byte
	in := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if in {
			out = append(out, c)
			if c == '\\' && i+1 < len(line) {
				i++
				out = append(out, line[i])
			} else if c == '"' {
				in = false
			}
			continue
		}
		switch c {
		case '"':
			in = true
			out = append(out, " \t"...)
			out = append(out, c)
		case '{', '}', '[', ']', ',', ':':
			out = append(out, " \r\n"...)
			out = append(out, c)
			out = append(out, '\t')
		default:
			out = append(out, c)
		}
	}
	return out
}

// TestDecodeErrors checks that broken lines (real lines, broken one way
// each) give a SyntaxError naming the key and the offset.
func TestDecodeErrors(t *testing.T) {
	update := loadLine(t, "tapes/1.197931750", 1)
	update = bytes.TrimSpace(update)
	atb := bytes.Index(update, []byte(`"atb":[[`))
	if atb < 0 {
		t.Fatalf("no atb in %.200s", update)
	}
	tests := []struct {
		name     string
		line     []byte
		wantPath string
		wantMsg  string
		offset   int // -1: do not check
	}{
		{"empty", []byte(""), "", "expected '{'", 0},
		{"not an object", []byte("[1]"), "", "expected '{'", 0},
		{"truncated", update[:len(update)-3], "mc[0]", "expected ',' or '}'", len(update) - 3},
		{"trailing garbage", append(append([]byte{}, update...), "x"...), "", "unexpected data", len(update)},
		{"price as string", splice(update, atb+8, `"1.5"`, 0), "mc[0].rc[0].atb[0]", "expected number", atb + 8},
		{"ladder not an array", splice(update, atb+6, `7`, len(`[[`)+0), "mc[0].rc[0].atb", "expected '['", atb + 6},
		{"pt as string", bytes.Replace(update, []byte(`"pt":`), []byte(`"pt":"x",`), 1), "pt", "expected integer", -1},
		{"op as number", bytes.Replace(update, []byte(`"op":"mcm"`), []byte(`"op":1`), 1), "op", "expected string", 6},
		{"unterminated string", []byte(`{"op":"mcm`), "op", "unterminated string", 6},
		{"bad literal", []byte(`{"op":"mcm","con":tru}`), "con", "expected true or false", 18},
		{"id not integer", []byte(`{"op":"mcm","id":1.5}`), "id", "expected integer", 17},
		{"number out of range", []byte(`{"op":"mcm","mc":[{"id":"1.2","tv":1e999}]}`), "mc[0].tv", "number out of range", 35},
		{"bad spn string", []byte(`{"op":"mcm","mc":[{"id":"1.2","rc":[{"spn":"nan","id":1}]}]}`), "mc[0].rc[0].spn", `expected number, "NaN"`, 43},
		{"unknown value, brackets crossed", []byte(`{"op":"mcm","x":[1,2}}`), "x", "expected ',' or ']'", 20},
		{"unknown value, missing comma", []byte(`{"op":"mcm","x":{"a":1 "b":2}}`), "x", "expected ',' or '}'", 23},
		{"missing colon", []byte(`{"op" "mcm"}`), "", "expected ':'", 6},
		// A change without a market id would make a phantom market "".
		{"null market id", []byte(`{"op":"mcm","pt":1,"mc":[{"id":null,"rc":[{"atb":[[1.5,2]],"id":1}]}]}`), "mc[0].id", "want the market id", 25},
		{"empty market id", []byte(`{"op":"mcm","pt":1,"mc":[{"id":"","rc":[{"atb":[[1.5,2]],"id":1}]}]}`), "mc[0].id", "want the market id", 25},
		{"no market id", []byte(`{"op":"mcm","pt":1,"mc":[{"rc":[{"atb":[[1.5,2]],"id":1}]}]}`), "mc[0].id", "want the market id", 25},
		{"empty market change", []byte(`{"op":"mcm","pt":1,"mc":[{}]}`), "mc[0].id", "want the market id", 25},
		{"second market id null", []byte(`{"op":"mcm","pt":1,"mc":[{"id":"1.2"},{"id":null}]}`), "mc[1].id", "want the market id", 38},
		{"null order market id", []byte(`{"op":"ocm","pt":1,"oc":[{"id":null,"orc":[]}]}`), "oc[0].id", "want the market id", 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m esa.Message
			err := esa.NewDecoder().Decode(tt.line, &m)
			var se *esa.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SyntaxError", err)
			}
			if se.Path != tt.wantPath || !strings.Contains(se.Msg, tt.wantMsg) || (tt.offset >= 0 && se.Offset != tt.offset) {
				t.Errorf("err = %q (path %q, offset %d), want path %q, message containing %q, offset %d",
					err, se.Path, se.Offset, tt.wantPath, tt.wantMsg, tt.offset)
			}
		})
	}
}

// splice replaces n bytes of b at i with s.
func splice(b []byte, i int, s string, n int) []byte {
	out := append([]byte{}, b[:i]...)
	out = append(out, s...)
	return append(out, b[i+n:]...)
}

// TestDecodeAllocs checks that decoding lines without a market definition
// or orders allocates nothing once the Message has grown to size.
func TestDecodeAllocs(t *testing.T) {
	var lines [][]byte
	for _, name := range []string{"tapes/1.197931750", "tapes/1.205822330.bz2"} {
		for i := 1; i < 40; i++ {
			line := loadLine(t, name, i)
			if !bytes.Contains(line, []byte("marketDefinition")) {
				lines = append(lines, line)
			}
		}
	}
	d := esa.NewDecoder()
	var m esa.Message
	for _, l := range lines {
		if err := d.Decode(l, &m); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(20, func() {
		for _, l := range lines {
			if err := d.Decode(l, &m); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations decoding %d lines, want 0", allocs, len(lines))
	}
}

// TestPeekOp checks the cheap op lookup on real first keys.
func TestPeekOp(t *testing.T) {
	tests := []struct {
		line string
		want esa.Op
	}{
		{`{"op":"mcm","clk":"AAAAAAAA"}`, esa.OpMCM},
		{`{"op": "ocm"}`, esa.OpOCM},
		{` {"op":"rcm","id":2}`, esa.OpRCM},
		{`{"clk":"1","op":"mcm"}`, esa.OpUnknown},
		{`{"op":`, esa.OpUnknown},
		{``, esa.OpUnknown},
	}
	for _, tt := range tests {
		if got := esa.PeekOp([]byte(tt.line)); got != tt.want {
			t.Errorf("PeekOp(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

// dumpAny renders a value for comparison in tests; see esatest.Dump.
func dumpAny(v any) string { return fmt.Sprintf("%+v", v) }

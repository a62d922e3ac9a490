package esa

import (
	"fmt"
	"strings"
	"testing"
)

// TestRequestEncoding: requests encode as the specification's examples do
// (stream-api-specification.txt, "Example marketSubscription" and the
// OrderSubscription example), one CRLF-terminated line each.
func TestRequestEncoding(t *testing.T) {
	yes := true
	no := false
	for _, tc := range []struct {
		name string
		req  any
		want string
	}{
		{"spec marketSubscription", MarketSubscription{Op: OpMarketSubscription, ID: 2,
			MarketFilter: &MarketFilter{MarketIDs: []string{"1.120684740"}, BspMarket: &yes, BettingTypes: []string{"ODDS"},
				EventTypeIDs: []string{"1"}, EventIDs: []string{"27540841"}, TurnInPlayEnabled: &yes,
				MarketTypes: []string{"MATCH_ODDS"}, CountryCodes: []string{"ES"}},
			MarketDataFilter: &MarketDataFilter{}, SegmentationEnabled: true},
			`{"op":"marketSubscription","id":2,"marketFilter":{"marketIds":["1.120684740"],"bspMarket":true,"bettingTypes":["ODDS"],"eventTypeIds":["1"],"eventIds":["27540841"],"turnInPlayEnabled":true,"marketTypes":["MATCH_ODDS"],"countryCodes":["ES"]},"marketDataFilter":{},"segmentationEnabled":true}`},
		{"every field and clocks", MarketSubscription{Op: OpMarketSubscription, ID: 2,
			MarketFilter:     &MarketFilter{Venues: []string{"Sheffield"}, RaceTypes: []string{"Flat"}, BspMarket: &no},
			MarketDataFilter: &MarketDataFilter{Fields: []string{FieldExBestOffers, FieldExMarketDef}, LadderLevels: 3},
			ConflateMs:       new(int64), HeartbeatMs: 500, InitialClk: "ini", Clk: "clk"},
			`{"op":"marketSubscription","id":2,"marketFilter":{"bspMarket":false,"venues":["Sheffield"],"raceTypes":["Flat"]},"marketDataFilter":{"fields":["EX_BEST_OFFERS","EX_MARKET_DEF"],"ladderLevels":3},"conflateMs":0,"heartbeatMs":500,"segmentationEnabled":false,"initialClk":"ini","clk":"clk"}`},
		{"spec orderSubscription", OrderSubscription{Op: OpOrderSubscription, ID: 3,
			OrderFilter:         &OrderFilter{IncludeOverallPosition: &no, CustomerStrategyRefs: []string{"betstrategy1"}, PartitionMatchedByStrategyRef: true},
			SegmentationEnabled: true},
			`{"op":"orderSubscription","id":3,"orderFilter":{"includeOverallPosition":false,"customerStrategyRefs":["betstrategy1"],"partitionMatchedByStrategyRef":true},"segmentationEnabled":true}`},
		{"authentication", Authentication{Op: OpAuthentication, ID: 1, AppKey: "app", Session: "tok"},
			`{"op":"authentication","id":1,"appKey":"app","session":"tok"}`},
		{"heartbeat", Heartbeat{Op: OpHeartbeat, ID: 4}, `{"op":"heartbeat","id":4}`},
	} {
		got, err := AppendRequest([]byte("x"), tc.req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if string(got) != "x"+tc.want+"\r\n" {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
		// What a client encodes, a server decodes to the same request.
		r, err := ParseRequest([]byte(tc.want))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.Op == "" || r.ID == 0 {
			t.Errorf("%s: parsed %+v", tc.name, r)
		}
	}
}

func TestParseRequest(t *testing.T) {
	// The specification's example with data fields, as printed.
	r, err := ParseRequest([]byte(`{"op":"marketSubscription","id":2,"marketFilter":{"marketIds":["1.120684740"]},"marketDataFilter":{"fields":["EX_BEST_OFFERS_DISP","EX_BEST_OFFERS","EX_ALL_OFFERS","EX_TRADED","EX_TRADED_VOL","EX_LTP","EX_MARKET_DEF","SP_TRADED","SP_PROJECTED"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Op != OpMarketSubscription || r.MarketFilter.MarketIDs[0] != "1.120684740" || len(r.MarketDataFilter.Fields) != 9 {
		t.Errorf("parsed %+v", r)
	}
	for _, bad := range []string{`{"id":1}`, `not json`, `{"op":1}`} {
		if _, err := ParseRequest([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestAuthenticationRedacted: printing an authentication request (in a log
// or an error) shows neither the app key nor the session.
func TestAuthenticationRedacted(t *testing.T) {
	a := Authentication{Op: OpAuthentication, ID: 1, AppKey: "APPKEY123", Session: "SESSION456"}
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%v %s %+v", a, a, a)} {
		if strings.Contains(s, "APPKEY123") || strings.Contains(s, "SESSION456") {
			t.Errorf("secret printed: %s", s)
		}
	}
}

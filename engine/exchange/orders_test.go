package exchange

import (
	"testing"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// TestOrderFilter: each orderFilter gets the order change it asks for,
// and every rendering decodes as Betfair's order stream.
func TestOrderFilter(t *testing.T) {
	uo := func(id, ref string) Tagged {
		return Tagged{Strategy: ref, JSON: []byte(`{"id":"` + id + `","p":2,"s":2,"side":"B","status":"E","pt":"L","ot":"L","pd":1,"sm":2,"avp":2,"sr":0,"rfs":"` + ref + `"}`)}
	}
	mo := &MarketOrders{ID: "1.2", Full: true, Runners: []RunnerOrders{
		{Selection: 7, Full: true, Orders: []Tagged{uo("1", "a"), uo("2", "b")},
			Overall: []byte(`"mb":[[2,4]]`),
			Matched: []Tagged{{"a", []byte(`{"mb":[[2,2]]}`)}, {"b", []byte(`{"mb":[[2,2]]}`)}}},
		{Selection: 8, Handicap: 0.5, Orders: []Tagged{uo("3", "b")}, Overall: []byte(`"mb":[[3,1]],"ml":[[4,1]]`),
			Matched: []Tagged{{"b", []byte(`{"mb":[[3,1]],"ml":[[4,1]]}`)}}},
	}}
	for _, tc := range []struct {
		name string
		f    OrderFilter
		want string
	}{
		{"default: every order, overall position", OrderFilter{},
			`{"fullImage":true,"id":"1.2","orc":[{"fullImage":true,"id":7,"uo":[` + string(uo("1", "a").JSON) + `,` + string(uo("2", "b").JSON) + `],"mb":[[2,4]]},` +
				`{"id":8,"hc":0.5,"uo":[` + string(uo("3", "b").JSON) + `],"mb":[[3,1]],"ml":[[4,1]]}]}`},
		{"one strategy, no overall position, its smc", OrderFilter{Strategies: []string{"a"}, NoOverall: true, ByStrategy: true},
			`{"fullImage":true,"id":"1.2","orc":[{"fullImage":true,"id":7,"uo":[` + string(uo("1", "a").JSON) + `],"smc":{"a":{"mb":[[2,2]]}}}]}`},
		{"one strategy keeps the overall position", OrderFilter{Strategies: []string{"a"}},
			`{"fullImage":true,"id":"1.2","orc":[{"fullImage":true,"id":7,"uo":[` + string(uo("1", "a").JSON) + `],"mb":[[2,4]]},{"id":8,"hc":0.5,"uo":[],"mb":[[3,1]],"ml":[[4,1]]}]}`},
		{"smc of every strategy", OrderFilter{NoOverall: true, ByStrategy: true},
			`{"fullImage":true,"id":"1.2","orc":[{"fullImage":true,"id":7,"uo":[` + string(uo("1", "a").JSON) + `,` + string(uo("2", "b").JSON) + `],"smc":{"a":{"mb":[[2,2]]},"b":{"mb":[[2,2]]}}},` +
				`{"id":8,"hc":0.5,"uo":[` + string(uo("3", "b").JSON) + `],"smc":{"b":{"mb":[[3,1]],"ml":[[4,1]]}}}]}`},
	} {
		got := string(mo.Append(nil, &tc.f))
		if got != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.name, got, tc.want)
		}
		var m esa.Message
		if err := esa.NewDecoder().Decode([]byte(`{"op":"ocm","id":1,"clk":"1","pt":1,"oc":[`+got+`]}`), &m); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if tc.f.ByStrategy && len(m.OC) == 1 && len(m.OC[0].ORC[0].SMC) == 0 {
			t.Errorf("%s: no smc decoded", tc.name)
		}
	}
}

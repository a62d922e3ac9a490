package strategies

import "testing"

// TestCheckParams: a parameter the strategy does not document is refused
// with the strategy's own parameters named; documented ones pass.
func TestCheckParams(t *testing.T) {
	for _, tc := range []struct {
		name   string
		info   Info
		params Params
		want   string
	}{
		{"known", PassiveBackInfo(), Params{"within": "60", "stake": "2"}, ""},
		{"none given", LowestLayerInfo(), Params{}, ""},
		{"unknown", PassiveBackInfo(), Params{"foo": "1"}, "strategy passive-back has no parameter foo; it has stake, within"},
		{"two unknown", LowestLayerInfo(), Params{"zz": "1", "max_prise": "2", "stake": "1"},
			"strategy lowest-layer has no parameter max_prise, zz; it has cancel_after, max_price, stake"},
		{"no parameters", Info{Name: "plain"}, Params{"x": "1"}, "strategy plain has no parameter x; it has no parameters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.info.CheckParams(tc.params)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

package engine

import (
	"strings"
	"testing"
)

func TestStrategyRef(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"lowest-layer", "lowest-layer"},
		{"passive-back", "passive-back"},
		{"exactly15chars_", "exactly15chars_"},
		// flumine's rule for names in the set: the first 15 characters,
		// so backtest results keep their references.
		{"favourite-before-the-off", "favourite-befor"},
		{"my strat", "my_strat"},
		{"", ""},
	} {
		if got := StrategyRef(tc.name); got != tc.want {
			t.Errorf("StrategyRef(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	// A long name with a character outside the set keeps 10 characters
	// and a hash, within 15 and the set.
	a, b := StrategyRef("back the fav at 1.5"), StrategyRef("back the fav at 2.5")
	if a == b || len(a) != MaxStrategyRef || CheckRef("ref", a, MaxStrategyRef) != nil || !strings.HasPrefix(a, "back_the_f~") {
		t.Errorf("long names: %q and %q", a, b)
	}
}

func TestStrategyRefsCollide(t *testing.T) {
	if _, err := StrategyRefs([]string{"favourite-before-a", "favourite-before-b"}); err == nil || !strings.Contains(err.Error(), "favourite-befor") {
		t.Errorf("colliding names: err %v", err)
	}
	refs, err := StrategyRefs([]string{"lowest-layer", "passive-back", "lowest-layer"})
	if err != nil || refs["lowest-layer"] != "lowest-layer" || len(refs) != 2 {
		t.Errorf("refs %v, err %v", refs, err)
	}
}

func TestCheckRef(t *testing.T) {
	for _, tc := range []struct {
		ref  string
		max  int
		want string // part of the error, "" for none
	}{
		{"lowest-layer-12", MaxOrderRef, ""},
		{"a:b-c.d_e+f*g;h~i", MaxOrderRef, ""},
		{"", MaxOrderRef, ""},
		{strings.Repeat("x", 32), MaxOrderRef, ""},
		{strings.Repeat("x", 33), MaxOrderRef, "33 characters"},
		{strings.Repeat("x", 16), MaxStrategyRef, "over Betfair's limit of 15"},
		{"with space", MaxOrderRef, `' ' at 4`},
		{"slash/", MaxOrderRef, `'/' at 5`},
		{"pound£", MaxOrderRef, "not allowed"},
	} {
		err := CheckRef("customerOrderRef", tc.ref, tc.max)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.ref, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: err %v, want %q", tc.ref, err, tc.want)
		}
	}
}

func TestOrderRefRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		strategy string
		id       int
	}{{"lowest-layer", 0}, {"passive-back", 4711}, {"a-b-c", 12}, {StrategyRef("favourite-before-the-off"), 1<<31 - 1}} {
		ref := OrderRef(tc.strategy, tc.id)
		if err := CheckRef("customerOrderRef", ref, MaxOrderRef); err != nil {
			t.Errorf("%q: %v", ref, err)
		}
		s, id, ok := ParseOrderRef(ref)
		if !ok || s != tc.strategy || id != tc.id {
			t.Errorf("ParseOrderRef(%q) = %q, %d, %v", ref, s, id, ok)
		}
	}
	for _, bad := range []string{"", "nodash", "-5", "x-", "x-+5", "x-5a", "x-٣"} {
		if _, _, ok := ParseOrderRef(bad); ok {
			t.Errorf("ParseOrderRef(%q) ok", bad)
		}
	}
}

func TestRequestRef(t *testing.T) {
	a, b := RequestRef("k3x9q2m1", 35), RequestRef("k3x9q2m1", 36)
	if a != "k3x9q2m1.z" || b != "k3x9q2m1.10" {
		t.Errorf("refs %q %q", a, b)
	}
	if err := CheckRef("customerRef", RequestRef(strings.Repeat("s", 16), ^uint64(0)), MaxRequestRef); err != nil {
		t.Error(err)
	}
}

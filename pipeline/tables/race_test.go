package tables

import "testing"

// The names are Betfair's, from the shared and bundled data (and the GB
// horse-racing tape in testdata).
func TestParseRaceName(t *testing.T) {
	for _, c := range []struct {
		name   string
		ok     bool
		number int32
		metres int32
		class  string
	}{
		{"R1 452m Gr6", true, 1, 452, "Gr6"},
		{"R10 520m S/E", true, 10, 520, "S/E"},
		{"R7 452m Heat", true, 7, 452, "Heat"},
		{"R11 295m C2", true, 11, 295, "C2"},
		{"OR 280m", true, 0, 280, "OR"},
		{"1m Hcap", true, 0, 1609, "Hcap"},
		{"2m4f Nov Hrd", true, 0, 4023, "Nov Hrd"},
		{"1m2f110y Hcap", true, 0, 2112, "Hcap"},
		{"7f Mdn Stks", true, 0, 1408, "Mdn Stks"},
		{"R3 1200m Mdn", true, 3, 1200, "Mdn"},
		{"To Be Placed", false, 0, 0, ""},
		{"17:10TO BE PLACED", false, 0, 0, ""},
		{"", false, 0, 0, ""},
		{"R1 Gr6", false, 0, 0, ""},
		{"Reverse FC", false, 0, 0, ""},
		{"R100 452m", false, 0, 0, ""},
		{"99m Sprint", false, 0, 0, ""}, // 99 miles is not a race, 99 metres neither
	} {
		f, ok := parseRaceName(c.name)
		if ok != c.ok || f.number != c.number || f.distance != c.metres || f.class != c.class {
			t.Errorf("%q: got %v %+v, want %v {%d %d %q}", c.name, ok, f, c.ok, c.number, c.metres, c.class)
		}
	}
}

func TestParseRunnerName(t *testing.T) {
	for _, c := range []struct {
		name   string
		number int32
		clean  string
	}{
		{"1. Gotham Prince", 1, "Gotham Prince"},
		{"24. Dacxi Kaboom", 24, "Dacxi Kaboom"},
		{"3. St. Andrews", 3, "St. Andrews"},
		{"Star Of Bengal", 0, "Star Of Bengal"},
		{"Mr. Magoo", 0, "Mr. Magoo"},
		{"1.", 0, "1."},
		{"0. Zero", 0, "0. Zero"},
		{"123. Too Many", 0, "123. Too Many"},
	} {
		n, clean := parseRunnerName(c.name)
		if n != c.number || clean != c.clean {
			t.Errorf("%q: got %d %q, want %d %q", c.name, n, clean, c.number, c.clean)
		}
	}
}

package esa

import "testing"

func TestValidIDs(t *testing.T) {
	for _, tc := range []struct {
		id            string
		market, numer bool
	}{
		{"1.197931750", true, false},
		{"1.2", true, false},
		{"31389771", false, true},
		{"4339", false, true},
		{"", false, false},
		{".1", false, false},
		{"1.", false, false},
		{"1..2", false, false},
		{"1.2.3", false, false},
		{"../../../../home/user/.docker/config", false, false},
		{"1.2/../x", false, false},
		{"1.2\x00", false, false},
		{"-1", false, false},
		{"1.1234567890123456789012345678901", false, false},
	} {
		if got := ValidMarketID(tc.id); got != tc.market {
			t.Errorf("ValidMarketID(%q) = %v", tc.id, got)
		}
		if got := ValidMarketID([]byte(tc.id)); got != tc.market {
			t.Errorf("ValidMarketID([]byte(%q)) = %v", tc.id, got)
		}
		if got := ValidNumericID(tc.id); got != tc.numer {
			t.Errorf("ValidNumericID(%q) = %v", tc.id, got)
		}
	}
}

package esa

// This test stays inside the package: it drives the Decoder's number
// scanner directly, which no line-level test can aim at every path of.

import (
	"math"
	"strconv"
	"testing"
)

// TestFloatMatchesParseFloat checks the fast number path against
// strconv.ParseFloat bit for bit, on prices and sizes like Betfair's and on
// the edges of the fast path.
func TestFloatMatchesParseFloat(t *testing.T) {
	nums := []string{"0", "-0", "0.0", "1.01", "1.02", "1000", "2.66", "93.37", "0.01", "13002",
		"3.9161586776799058", "9007199254740992", "9007199254740993", "900719925474099.3",
		"0.1", "0.3", "1e3", "1E-7", "-1.5e+300", "123456789012345678901234567890",
		"0.0000000000000000000001", "0.00000000000000000000001", "4.9e-324", "1.7976931348623157e308",
		"2.2250738585072011e-308", "99999999999999999999", "1.0000000000000002", "5e-324"}
	for p := 101; p <= 100000; p += 37 {
		nums = append(nums, strconv.FormatFloat(float64(p)/100, 'f', -1, 64))
		nums = append(nums, strconv.Itoa(p)+"."+strconv.Itoa(p%997))
		nums = append(nums, "-"+strconv.Itoa(p%1000)+".0"+strconv.Itoa(p%97))
		nums = append(nums, strconv.Itoa(p*1000))
	}
	d := NewDecoder()
	for _, s := range nums {
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		// Short input takes the byte-at-a-time path, padded input the
		// eight-bytes-at-a-time one.
		for _, tail := range []string{",", `],"id":12345678}`} {
			d.b, d.i = []byte(s+tail), 0
			got, err := d.float()
			if err != nil {
				t.Errorf("%s: %v", s, err)
				continue
			}
			if math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("%s%s: got %v (%x), want %v (%x)", s, tail, got, math.Float64bits(got), want, math.Float64bits(want))
			}
			if d.i != len(s) {
				t.Errorf("%s%s: stopped at %d, want %d", s, tail, d.i, len(s))
			}
		}
	}
}

package book

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestAppendFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{3, "3"},
		{-2, "-2"},
		{1.5, "1.5"},
		{1.05, "1.05"},
		{-0.5, "-0.5"},
		{-0.05, "-0.05"},
		{364.45, "364.45"},
		{1000.1, "1000.1"},
		{math.Nextafter(0.3, 1), "0.30000000000000004"},
		{1e-7, "0.0000001"},
		{math.NaN(), "null"},
		{math.Inf(1), "null"},
	}
	for _, tt := range tests {
		if got := string(AppendFloat(nil, tt.in)); got != tt.want {
			t.Errorf("appendFloat(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
	// Whatever the path, the text must read back as the same float64.
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200000; i++ {
		var v float64
		switch i % 3 {
		case 0:
			v = float64(r.IntN(10000000)) / 100 // two-decimal values
		case 1:
			v = r.Float64() * 1000
		default:
			v = float64(r.IntN(1000))/100 + float64(r.IntN(1000))/100 // sums
		}
		if i%7 == 0 {
			v = -v
		}
		s := AppendFloat(nil, v)
		got, err := strconv.ParseFloat(string(s), 64)
		if err != nil || got != v {
			t.Fatalf("appendFloat(%v) = %s, reads back as %v (%v)", v, s, got, err)
		}
	}
}

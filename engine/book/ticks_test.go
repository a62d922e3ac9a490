package book

import (
	"math"
	"testing"
)

func TestPriceTable(t *testing.T) {
	if got := PriceAt(0); got != 1.01 {
		t.Errorf("PriceAt(0) = %v, want 1.01", got)
	}
	if got := PriceAt(NumTicks - 1); got != 1000 {
		t.Errorf("PriceAt(last) = %v, want 1000", got)
	}
	for i := 1; i < NumTicks; i++ {
		if PriceAt(i) <= PriceAt(i-1) {
			t.Fatalf("ladder not increasing at %d: %v <= %v", i, PriceAt(i), PriceAt(i-1))
		}
	}
}

func TestTick(t *testing.T) {
	tests := []struct {
		price float64
		want  int
		ok    bool
	}{
		{1.01, 0, true},
		{1.02, 1, true},
		{1.99, 98, true},
		{2, 99, true},
		{2.02, 100, true},
		{2.98, 148, true},
		{3, 149, true},
		{3.05, 150, true},
		{4, 169, true},
		{4.1, 170, true},
		{6, 189, true},
		{6.2, 190, true},
		{10, 209, true},
		{10.5, 210, true},
		{20, 229, true},
		{21, 230, true},
		{30, 239, true},
		{32, 240, true},
		{50, 249, true},
		{55, 250, true},
		{100, 259, true},
		{110, 260, true},
		{990, 348, true},
		{1000, 349, true},
		{1.1000000000000001, 9, true},
		{1.001, 0, false},
		{1, 0, false},
		{1000.5, 0, false},
		{2.01, 0, false}, // off tick above 2
		{3.02, 0, false},
		{4.15, 0, false},
		{25.5, 0, false},
		{31, 0, false},
		{105, 0, false},
	}
	for _, tt := range tests {
		got, ok := Tick(tt.price)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Tick(%v) = %d, %v; want %d, %v", tt.price, got, ok, tt.want, tt.ok)
		}
		if ok && PriceAt(got) != tt.price && tt.price != 1.1000000000000001 {
			t.Errorf("PriceAt(Tick(%v)) = %v", tt.price, PriceAt(got))
		}
	}
}

func TestTicksBetweenAndAdd(t *testing.T) {
	between := []struct {
		a, b float64
		want int
		ok   bool
	}{
		{1.01, 1000, 349, true},
		{1000, 1.01, -349, true},
		{1.99, 2.02, 2, true},
		{2, 2, 0, true},
		{2, 2.01, 0, false},
		{0.5, 2, 0, false},
	}
	for _, tt := range between {
		got, ok := TicksBetween(tt.a, tt.b)
		if got != tt.want || ok != tt.ok {
			t.Errorf("TicksBetween(%v, %v) = %d, %v; want %d, %v", tt.a, tt.b, got, ok, tt.want, tt.ok)
		}
	}
	add := []struct {
		price float64
		n     int
		want  float64
		ok    bool
	}{
		{1.99, 1, 2, true},
		{2, 1, 2.02, true},
		{2, -1, 1.99, true},
		{3, -1, 2.98, true},
		{4, 1, 4.1, true},
		{1.01, -5, 1.01, true}, // clamped
		{990, 5, 1000, true},   // clamped
		{2.01, 1, 0, false},
	}
	for _, tt := range add {
		got, ok := AddTicks(tt.price, tt.n)
		if got != tt.want || ok != tt.ok {
			t.Errorf("AddTicks(%v, %d) = %v, %v; want %v, %v", tt.price, tt.n, got, ok, tt.want, tt.ok)
		}
		if got2, ok2 := SubTicks(tt.price, -tt.n); got2 != got || ok2 != ok {
			t.Errorf("SubTicks(%v, %d) = %v, %v; want %v, %v", tt.price, -tt.n, got2, ok2, got, ok)
		}
	}
}

// tickBySearch is the plain definition of Tick: a binary search of the
// price table, rounding each entry to hundredths.
func tickBySearch(price float64) (int, bool) {
	if !(price >= MinPrice-0.005 && price <= MaxPrice+0.005) {
		return 0, false
	}
	c := math.Round(price * 100)
	lo, hi := 0, NumTicks
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if math.Round(priceTable[mid]*100) < c {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < NumTicks && math.Round(priceTable[lo]*100) == c {
		return lo, true
	}
	return 0, false
}

// TestTickAgreesWithSearch checks Tick's table of hundredths against the
// search on every hundredth from 0 to 1001 and on prices a little off each.
func TestTickAgreesWithSearch(t *testing.T) {
	for c := 0; c <= 100100; c++ {
		for _, d := range []float64{0, 0.004, -0.004, 0.006, 0.5} {
			p := (float64(c) + d) / 100
			gi, gok := Tick(p)
			wi, wok := tickBySearch(p)
			if gi != wi || gok != wok {
				t.Fatalf("price %v: Tick %d %v, search %d %v", p, gi, gok, wi, wok)
			}
		}
	}
	if i, ok := Tick(1000); !ok || i != NumTicks-1 {
		t.Fatalf("1000: %d %v", i, ok)
	}
}

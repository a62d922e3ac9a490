package bzip2

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
)

func TestConcurrentRoundTrip(t *testing.T) {
	ns := []int{2, 3, 8}
	if raceEnabled {
		ns = []int{3}
	}
	for _, in := range testInputs {
		for _, level := range []int{1, 9} {
			for _, n := range ns {
				t.Run(fmt.Sprintf("%s/-%d/n=%d", in.name, level, n), func(t *testing.T) {
					t.Parallel()
					want := inputData(in)
					c := compressed(t, in.name, want, level)
					got, err := io.ReadAll(NewReaderConcurrency(bytes.NewReader(c), n))
					if err != nil {
						t.Fatalf("decode: %v", err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("decoded %d bytes, want %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
					}
				})
			}
		}
	}
}

// concurrentSamples: multi-block and multi-stream inputs; small ones for
// the tests that decode them many times.
func concurrentSamples(t *testing.T, small bool) map[string][]byte {
	mb := input("multi-block mixed")
	// Text, random bytes and runs: 5 blocks at -1.
	mix := append(append(append([]byte(nil), mb[:200000]...), mb[700000:800000]...), mb[1100000:1250000]...)
	s := map[string][]byte{
		"multi-block -1": compressed(t, "mix 450k", mix, 1),
	}
	var cat []byte
	for i, p := range [][]byte{mix[:250000], nil, mix[250000:260000], mix[:110000]} {
		cat = append(cat, compressed(t, fmt.Sprint("concat", i, len(p)), p, 1+i%2)...)
	}
	s["concatenated"] = cat
	if !small {
		s["multi-block -9"] = compressed(t, "multi-block mixed", mb, 9)
	}
	return s
}

func TestConcurrentMatchesSequential(t *testing.T) {
	for name, c := range concurrentSamples(t, false) {
		want, err := decodeAll(bytes.NewReader(c))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			for _, n := range []int{2, 4} {
				for rname, r := range map[string]io.Reader{
					"bytes":    bytes.NewReader(c),
					"one byte": iotest.OneByteReader(bytes.NewReader(c)),
					"data+EOF": iotest.DataErrReader(bytes.NewReader(c)),
				} {
					if raceEnabled && rname == "one byte" && len(c) > 500000 {
						continue
					}
					got, err := io.ReadAll(NewReaderConcurrency(r, n))
					if err != nil || !bytes.Equal(got, want) {
						t.Errorf("n=%d %s: %v, %d bytes, want %d", n, rname, err, len(got), len(want))
					}
				}
			}
		})
	}
}

// TestConcurrentErrors damages and cuts multi-block inputs: the concurrent
// reader must fail like the sequential one.
func TestConcurrentErrors(t *testing.T) {
	for name, c := range concurrentSamples(t, true) {
		t.Run(name, func(t *testing.T) {
			nbits := len(c) * 8
			bad := make([]byte, len(c))
			flips, cuts := 25, 20
			if raceEnabled {
				flips, cuts = 6, 7
			}
			for bit := 5; bit < nbits; bit += max(1, nbits/flips) {
				copy(bad, c)
				bad[bit/8] ^= 0x80 >> (bit % 8)
				want, wantErr := decodeAll(bytes.NewReader(bad))
				got, err := io.ReadAll(NewReaderConcurrency(bytes.NewReader(bad), 3))
				if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
					t.Errorf("bit %d: err %v, sequential %v", bit, err, wantErr)
				}
				if err == nil && !bytes.Equal(got, want) {
					t.Errorf("bit %d: output differs", bit)
				}
			}
			for k := 0; k < cuts; k++ {
				cut := len(c) * k / cuts
				_, err := io.ReadAll(NewReaderConcurrency(bytes.NewReader(c[:cut]), 3))
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("cut at %d: err = %v, want io.ErrUnexpectedEOF", cut, err)
				}
			}
			boom := errors.New("boom")
			for _, cut := range []int{0, 10, len(c) / 3, len(c) - 1, len(c)} {
				r := io.MultiReader(bytes.NewReader(c[:cut]), iotest.ErrReader(boom))
				_, err := io.ReadAll(NewReaderConcurrency(r, 3))
				if !errors.Is(err, boom) {
					t.Errorf("error after %d bytes: err = %v, want boom", cut, err)
				}
			}
		})
	}
}

// TestConcurrentFalseMagic plants a block magic number inside a block's
// data, as chance may: the block found there fails to verify and decoding
// goes on sequentially with the right output.
func TestConcurrentFalseMagic(t *testing.T) {
	c := compressed(t, "multi-block mixed", input("multi-block mixed"), 1)
	want, _ := decodeAll(bytes.NewReader(c))
	// Find the second block's magic, then plant a fake one (at an odd bit
	// alignment) in the middle of the first block. The first block is
	// then damaged, so the sequential decoder reports its CRC error; the
	// concurrent one must report the same.
	p := &parallel{r: bytes.NewReader(c)}
	first := p.findMagic(0, 1<<40)
	second := p.findMagic(first+1, 1<<40)
	if first != 32 || second < 0 {
		t.Fatalf("magics at %d, %d", first, second)
	}
	bad := append([]byte(nil), c...)
	at := (first + second) / 2
	at = at - at%8 + 3
	for i := 0; i < 48; i++ {
		bit := at + int64(i)
		if blockMagic>>(47-i)&1 != 0 {
			bad[bit/8] |= 0x80 >> (bit % 8)
		} else {
			bad[bit/8] &^= 0x80 >> (bit % 8)
		}
	}
	q := &parallel{r: bytes.NewReader(bad)}
	if got := q.findMagic(first+1, 1<<40); got != at {
		t.Fatalf("planted magic found at %d, want %d", got, at)
	}
	_, wantErr := decodeAll(bytes.NewReader(bad))
	_, err := io.ReadAll(NewReaderConcurrency(bytes.NewReader(bad), 4))
	if wantErr == nil || err == nil || err.Error() != wantErr.Error() {
		t.Fatalf("err %v, sequential %v", err, wantErr)
	}
	// Undamaged input goes through the concurrent path.
	got, err := io.ReadAll(NewReaderConcurrency(bytes.NewReader(c), 4))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%v", err)
	}
}

func TestConcurrentReset(t *testing.T) {
	a, b := input("multi-block text"), input("text")
	ca, cb := compressed(t, "multi-block text", a, 1), compressed(t, "text", b, 1)
	z := NewReaderConcurrency(bytes.NewReader(ca), 3)
	if _, err := io.ReadAll(io.LimitReader(z, 150000)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ comp, want []byte }{{cb, b}, {ca, a}} {
		z.Reset(bytes.NewReader(c.comp))
		got, err := io.ReadAll(z)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Fatalf("after Reset: %v", err)
		}
	}
}

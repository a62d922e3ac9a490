package bzip2

import (
	"archive/tar"
	"bytes"
	stdbzip2 "compress/bzip2"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/tapedeck/tapedeck/internal/testenv"
)

// historicTar is Betfair's PRO greyhound archive in the shared data's
// data/historic, beside its single .bz2 files.
const historicTar = "pro-greyhounds-2022-03-01.tar"

// historicDir is the shared data's directory of Betfair's historic files; a
// test that needs it is skipped without it (failed under CI).
func historicDir(tb testing.TB) string {
	tb.Helper()
	return filepath.Dir(testenv.Shared(tb, "data/historic/"+historicTar))
}

// compress runs the bzip2 command at level (1..9) over data.
func compress(tb testing.TB, data []byte, level int) []byte {
	tb.Helper()
	path, err := exec.LookPath("bzip2")
	if err != nil {
		tb.Skip("bzip2 command not found: skipping the round-trip test")
	}
	cmd := exec.Command(path, fmt.Sprintf("-%d", level), "-c")
	cmd.Stdin = bytes.NewReader(data)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("bzip2 -%d: %v: %s", level, err, stderr.String())
	}
	return out.Bytes()
}

// compressCache keeps compressed test inputs: several tests use them.
var compressCache sync.Map

func compressed(tb testing.TB, name string, data []byte, level int) []byte {
	key := fmt.Sprintf("%s/%d", name, level)
	if v, ok := compressCache.Load(key); ok {
		return v.([]byte)
	}
	c := compress(tb, data, level)
	compressCache.Store(key, c)
	return c
}

type testInput struct {
	name string
	data func() []byte
}

func repeatByte(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

// jsonLines imitates Betfair's stream files.
func jsonLines(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, `{"op":"mcm","clk":"%d","pt":%d,"mc":[{"id":"1.%d","rc":[{"atb":[[%.2f,%.2f]],"id":%d}]}]}`+"\n",
			r.IntN(1e9), 1646000000000+r.IntN(1e7), 195395400+r.IntN(40), 1+r.Float64()*20, r.Float64()*500, 40000000+r.IntN(1000))
	}
	return b.Bytes()[:n]
}

func randomBytes(n int, seed uint64, alphabet int) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.IntN(alphabet))
	}
	return p
}

// mixedRuns has runs of random bytes with lengths around the RLE1 limits.
func mixedRuns(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	lens := []int{1, 2, 3, 4, 5, 6, 250, 251, 252, 253, 254, 255, 256, 257, 258, 259, 260, 261, 262, 263, 264, 515, 1000}
	var p []byte
	for len(p) < n {
		p = append(p, repeatByte(byte(r.IntN(4)), lens[r.IntN(len(lens))])...)
	}
	return p[:n]
}

var testInputs = []testInput{
	{"empty", func() []byte { return nil }},
	{"one byte", func() []byte { return []byte{'x'} }},
	{"zero byte", func() []byte { return []byte{0} }},
	{"run of 3", func() []byte { return repeatByte('a', 3) }},
	{"run of 4", func() []byte { return repeatByte('a', 4) }},
	{"run of 5", func() []byte { return repeatByte('a', 5) }},
	{"run of 8", func() []byte { return repeatByte('a', 8) }},
	{"run of 255", func() []byte { return repeatByte('a', 255) }},
	{"run of 259", func() []byte { return repeatByte('a', 259) }},
	{"run of 260", func() []byte { return repeatByte('a', 260) }},
	{"run of 263", func() []byte { return repeatByte('a', 263) }},
	{"run of 264", func() []byte { return repeatByte('a', 264) }},
	{"run of 100000", func() []byte { return repeatByte(0xff, 100000) }},
	{"runs then text", func() []byte { return append(repeatByte('z', 4), "zz4zzzz\x00zzzzz"...) }},
	{"all bytes", func() []byte {
		p := make([]byte, 256*5)
		for i := range p {
			p[i] = byte(i)
		}
		return p
	}},
	{"mixed runs", func() []byte { return mixedRuns(300000, 1) }},
	{"random", func() []byte { return randomBytes(100000, 1, 256) }},
	{"small alphabet", func() []byte { return randomBytes(200000, 2, 3) }},
	{"text", func() []byte { return jsonLines(300000, 1) }},
	// Periodic data makes the BWT vector split into several cycles.
	{"periodic", func() []byte { return bytes.Repeat([]byte("abcdefghij"), 120000) }},
	{"multi-block text", func() []byte { return jsonLines(1500000, 2) }},
	{"multi-block mixed", func() []byte {
		var p []byte
		p = append(p, jsonLines(700000, 3)...)
		p = append(p, randomBytes(400000, 3, 256)...)
		p = append(p, mixedRuns(500000, 3)...)
		p = append(p, randomBytes(300000, 4, 20)...)
		return p
	}},
}

var inputCache sync.Map

func inputData(in testInput) []byte {
	if v, ok := inputCache.Load(in.name); ok {
		return v.([]byte)
	}
	p := in.data()
	inputCache.Store(in.name, p)
	return p
}

// input returns the data of the named test input.
func input(name string) []byte {
	for _, in := range testInputs {
		if in.name == name {
			return inputData(in)
		}
	}
	panic("no test input " + name)
}

func decodeAll(r io.Reader) ([]byte, error) {
	return io.ReadAll(NewReader(r))
}

func TestRoundTrip(t *testing.T) {
	for _, in := range testInputs {
		for _, level := range []int{1, 9} {
			t.Run(fmt.Sprintf("%s/-%d", in.name, level), func(t *testing.T) {
				t.Parallel()
				want := inputData(in)
				c := compressed(t, in.name, want, level)
				got, err := decodeAll(bytes.NewReader(c))
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

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestReadSizes reads through awkward readers and with small buffers.
func TestReadSizes(t *testing.T) {
	for _, name := range []string{"mixed runs", "text", "run of 100000"} {
		want := input(name)
		c := compressed(t, name, want, 9)
		readers := map[string]func() io.Reader{
			"one byte":   func() io.Reader { return iotest.OneByteReader(bytes.NewReader(c)) },
			"half":       func() io.Reader { return iotest.HalfReader(bytes.NewReader(c)) },
			"data+EOF":   func() io.Reader { return iotest.DataErrReader(bytes.NewReader(c)) },
			"bytes.Buff": func() io.Reader { return bytes.NewBuffer(c) },
		}
		for rname, mk := range readers {
			for _, bufSize := range []int{1, 3, 255, 4096, 1 << 20} {
				t.Run(fmt.Sprintf("%s/%s/%d", name, rname, bufSize), func(t *testing.T) {
					if bufSize < 255 && len(want) > 100000 && (testing.Short() || raceEnabled) {
						t.Skip("slow in -short or -race mode")
					}
					z := NewReader(mk())
					buf := make([]byte, bufSize)
					var got []byte
					for {
						n, err := z.Read(buf)
						got = append(got, buf[:n]...)
						if err == io.EOF {
							break
						}
						if err != nil {
							t.Fatal(err)
						}
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("decoded %d bytes, want %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
					}
				})
			}
		}
	}
}

func TestConcatenated(t *testing.T) {
	a := jsonLines(50000, 7)
	b := randomBytes(3000, 7, 256)
	var all, want []byte
	for i, p := range [][]byte{a, nil, b, a} {
		all = append(all, compressed(t, fmt.Sprint("concat", i), p, 1+4*(i%2))...)
		want = append(want, p...)
	}
	got, err := decodeAll(bytes.NewReader(all))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("decoded %d bytes, want %d", len(got), len(want))
	}
	// Matches compress/bzip2 on trailing junk: an error.
	for _, junk := range []string{"B", "BZ", "BZh", "BZh9", "BZh0", "xx", "\x00"} {
		_, err := decodeAll(bytes.NewReader(append(append([]byte{}, all...), junk...)))
		if err == nil {
			t.Errorf("trailing %q: no error", junk)
		}
		_, stdErr := io.ReadAll(stdbzip2.NewReader(bytes.NewReader(append(append([]byte{}, all...), junk...))))
		if stdErr == nil {
			t.Errorf("trailing %q: compress/bzip2 gave no error either", junk)
		}
	}
}

func TestReset(t *testing.T) {
	a, b := jsonLines(200000, 8), randomBytes(5000, 8, 256)
	ca, cb := compressed(t, "reset a", a, 9), compressed(t, "reset b", b, 9)
	z := NewReader(bytes.NewReader(ca))
	got, err := io.ReadAll(io.LimitReader(z, 1000)) // abandon mid-stream
	if err != nil || !bytes.Equal(got, a[:1000]) {
		t.Fatalf("first read: %v", err)
	}
	for _, c := range []struct{ comp, want []byte }{{cb, b}, {ca, a}, {cb, b}} {
		z.Reset(bytes.NewReader(c.comp))
		got, err := io.ReadAll(z)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Fatalf("after Reset: %v (%d bytes, want %d)", err, len(got), len(c.want))
		}
	}
}

// TestTraversals checks the multi-chain inverse BWT against the plain one
// on every block of some inputs, including periodic ones where it must give
// up.
func TestTraversals(t *testing.T) {
	for _, name := range []string{"text", "periodic", "multi-block mixed", "small alphabet"} {
		for _, level := range []int{1, 9} {
			c := compressed(t, name, input(name), level)
			var br bitReader
			br.init(bytes.NewReader(c))
			br.read(32)
			d := new(blockDecoder)
			multi, fallback := 0, 0
			for uint64(br.read(24))<<24|uint64(br.read(24)) == blockMagic {
				n, _, err := d.decodeEntropy(&br, level*100000)
				if err != nil {
					t.Fatal(err)
				}
				d.ensure(n)
				d.buildTT(n)
				d.singleChain(n, d.origPtr)
				want := append([]byte(nil), d.out[:n]...)
				clear(d.out)
				if d.nstarts == 0 {
					continue
				}
				if d.multiChain(n, d.origPtr) {
					multi++
					if !bytes.Equal(d.out[:n], want) {
						t.Fatalf("%s -%d: multi-chain output differs at %d", name, level, firstDiff(d.out[:n], want))
					}
				} else {
					fallback++
				}
				// The flags must be gone.
				for i, x := range d.tt[:n] {
					if x&flag != 0 {
						t.Fatalf("tt[%d] still flagged", i)
					}
				}
			}
			t.Logf("%s -%d: %d blocks multi-chain, %d fell back", name, level, multi, fallback)
			if fallback > 0 {
				t.Errorf("%s: multi-chain gave up on %d blocks", name, fallback)
			}
		}
	}
}

// bwt returns the L column of u^k's rotations sorted with ties broken by
// position, and the row of rotation 0. For k > 1 the BWT vector then has k
// cycles (u must be primitive: no rotation of it equals another).
func bwt(u []byte, k int) (l []byte, origPtr int) {
	p := len(u)
	rot := make([]int, p)
	for i := range rot {
		rot[i] = i
	}
	slices.SortFunc(rot, func(a, b int) int {
		for j := 0; j < p; j++ {
			ca, cb := u[(a+j)%p], u[(b+j)%p]
			if ca != cb {
				return int(ca) - int(cb)
			}
		}
		panic("u is not primitive")
	})
	// Rotation i of u^k equals rotations i+p, i+2p, ...: each sorted row
	// of u becomes k equal rows with the same last byte.
	for r, i := range rot {
		for range k {
			l = append(l, u[(i+p-1)%p])
		}
		if i == 0 {
			origPtr = r * k
		}
	}
	return l, origPtr
}

// setL loads an L column into d as decodeEntropy would.
func (d *blockDecoder) setL(l []byte) {
	d.ensure(len(l))
	d.runs = make([]uint32, len(l)+1)
	clear(d.counts[:])
	d.nruns = 0
	for i := 0; i < len(l); {
		j := i
		for j < len(l) && l[j] == l[i] {
			j++
		}
		d.runs[d.nruns] = uint32(j-i)<<8 | uint32(l[i])
		d.nruns++
		d.counts[l[i]] += uint32(j - i)
		i = j
	}
}

// TestMultiChainFallback gives the traversal BWT vectors with several
// cycles: multiChain must give up and the plain traversal must still
// produce the periodic text, as libbzip2 does.
func TestMultiChainFallback(t *testing.T) {
	u := randomBytes(40000, 11, 256)
	for _, c := range []struct {
		name string
		u    []byte
		k    int
	}{
		{"ab", []byte("ab"), 40000},
		{"u^2", u, 2},
		{"u^3", u[:30000], 3},
		{"aab^k", []byte("aab"), 30000},
	} {
		l, origPtr := bwt(c.u, c.k)
		text := bytes.Repeat(c.u, c.k)
		d := new(blockDecoder)
		d.setL(l)
		n := len(l)
		d.buildTT(n)
		if d.nstarts == 0 {
			t.Fatalf("%s: block too small for the multi-chain traversal", c.name)
		}
		if d.multiChain(n, origPtr) {
			t.Errorf("%s: multiChain succeeded on a BWT vector with several cycles", c.name)
		}
		for i, x := range d.tt[:n] {
			if x&flag != 0 {
				t.Fatalf("%s: tt[%d] still flagged", c.name, i)
			}
		}
		clear(d.out)
		d.traverse(n, origPtr)
		if !bytes.Equal(d.out[:n], text) {
			t.Errorf("%s: traversal output differs at %d", c.name, firstDiff(d.out[:n], text))
		}
	}
	// A primitive text through the same path succeeds.
	u = randomBytes(70000, 12, 256)
	l, origPtr := bwt(u, 1)
	d := new(blockDecoder)
	d.setL(l)
	d.buildTT(len(l))
	if !d.multiChain(len(l), origPtr) || !bytes.Equal(d.out[:len(l)], u) {
		t.Errorf("primitive text: multiChain failed or differs")
	}
}

// historicFiles returns the .bz2 files in the shared data and the members
// of the tar, by name.
func historicFiles(tb testing.TB) (names []string, data [][]byte) {
	dir := historicDir(tb)
	paths, _ := filepath.Glob(filepath.Join(dir, "*.bz2"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		names = append(names, filepath.Base(p))
		data = append(data, b)
	}
	members := tarMembers(tb, filepath.Join(dir, historicTar))
	for _, m := range members {
		names = append(names, historicTar+":"+m.name)
		data = append(data, m.data)
	}
	return names, data
}

type member struct {
	name string
	data []byte
}

var tarOnce struct {
	sync.Once
	members []member
	err     error
}

func tarMembers(tb testing.TB, path string) []member {
	tarOnce.Do(func() {
		f, err := os.Open(path)
		if err != nil {
			tarOnce.err = err
			return
		}
		defer f.Close()
		tr := tar.NewReader(f)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				tarOnce.err = err
				return
			}
			if !strings.HasSuffix(h.Name, ".bz2") {
				continue
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				tarOnce.err = err
				return
			}
			tarOnce.members = append(tarOnce.members, member{h.Name, b})
		}
	})
	if tarOnce.err != nil {
		tb.Fatal(tarOnce.err)
	}
	return tarOnce.members
}

// TestMatchesStdlib decodes Betfair's historic files with both decoders.
func TestMatchesStdlib(t *testing.T) {
	names, data := historicFiles(t)
	if len(data) < 3 {
		t.Fatalf("found only %d bz2 files", len(data))
	}
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			if (testing.Short() || raceEnabled) && strings.Contains(name, ":") && i%4 != 0 {
				t.Skip("-short or -race: every fourth tar member only")
			}
			t.Parallel()
			want, err := io.ReadAll(stdbzip2.NewReader(bytes.NewReader(data[i])))
			if err != nil {
				t.Fatalf("compress/bzip2: %v", err)
			}
			got, err := decodeAll(bytes.NewReader(data[i]))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("decoded %d bytes, compress/bzip2 %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
			}
		})
	}
}

// corruptSamples are compressed inputs to damage: generated ones and, when
// present, a real Betfair file.
func corruptSamples(t *testing.T) map[string][]byte {
	s := map[string][]byte{
		"text -1":       compressed(t, "text 120k", input("text")[:120000], 1),
		"mixed runs -9": compressed(t, "mixed runs", input("mixed runs"), 9),
		"run of 259":    compressed(t, "run of 259", input("run of 259"), 9),
		"one byte":      compressed(t, "one byte", input("one byte"), 9),
	}
	if d := testenv.SharedDir(t); d != "" {
		if b, err := os.ReadFile(filepath.Join(d, "data", "historic", "1.164917629.bz2")); err == nil {
			s["historic 1.164917629"] = b
		}
	}
	return s
}

func checkDecodeErr(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("%s: error %v does not match ErrCorrupt", what, err)
	}
}

// TestCorrupt flips bits all over compressed files: the result must be an
// error or the original data (the padding bits at the very end are unused),
// never different data, a panic or a hang.
func TestCorrupt(t *testing.T) {
	for name, c := range corruptSamples(t) {
		want, err := decodeAll(bytes.NewReader(c))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			nbits := len(c) * 8
			step := max(1, nbits/400)
			if testing.Short() || raceEnabled {
				step = max(1, nbits/60)
			}
			bad := make([]byte, len(c))
			errs := 0
			for bit := 0; bit < nbits; bit += step {
				copy(bad, c)
				bad[bit/8] ^= 0x80 >> (bit % 8)
				got, err := decodeAll(bytes.NewReader(bad))
				checkDecodeErr(t, fmt.Sprintf("bit %d", bit), err)
				if err != nil {
					errs++
				} else if !bytes.Equal(got, want) {
					t.Fatalf("bit %d flipped: no error but different output", bit)
				}
			}
			if errs == 0 {
				t.Fatal("no flipped bit was detected")
			}
		})
	}
}

// TestTruncated cuts files at every 1/20th: each must fail with
// io.ErrUnexpectedEOF.
func TestTruncated(t *testing.T) {
	samples := corruptSamples(t)
	samples["multi-block -1"] = compressed(t, "multi-block text 350k", input("multi-block text")[:350000], 1)
	for name, c := range samples {
		t.Run(name, func(t *testing.T) {
			for k := 0; k < 20; k++ {
				cut := len(c) * k / 20
				_, err := decodeAll(bytes.NewReader(c[:cut]))
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("cut at %d of %d: err = %v, want io.ErrUnexpectedEOF", cut, len(c), err)
				}
				checkDecodeErr(t, fmt.Sprintf("cut at %d", cut), err)
			}
			// Every cut in the last bytes, too.
			for cut := max(0, len(c)-12); cut < len(c); cut++ {
				_, err := decodeAll(bytes.NewReader(c[:cut]))
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("cut at %d of %d: err = %v, want io.ErrUnexpectedEOF", cut, len(c), err)
				}
			}
		})
	}
}

// TestReadError passes the source's error through.
func TestReadError(t *testing.T) {
	c := compressed(t, "text", input("text"), 1)
	boom := errors.New("boom")
	for _, cut := range []int{0, 3, 100, len(c) / 2, len(c) - 1} {
		r := io.MultiReader(bytes.NewReader(c[:cut]), iotest.ErrReader(boom))
		_, err := decodeAll(r)
		if !errors.Is(err, boom) {
			t.Errorf("cut at %d: err = %v, want boom", cut, err)
		}
	}
	// An error after the whole stream is still reported (as
	// compress/bzip2 does), since there might be another stream.
	_, err := decodeAll(io.MultiReader(bytes.NewReader(c), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) {
		t.Errorf("error after the stream: err = %v, want boom", err)
	}
}

// TestHeaderErrors checks hand-made broken headers.
func TestHeaderErrors(t *testing.T) {
	good := compressed(t, "one byte", []byte{'x'}, 9)
	for _, c := range []struct {
		name string
		data []byte
		eof  bool
	}{
		{"empty", nil, true},
		{"B", []byte("B"), true},
		{"BZh", []byte("BZh"), true},
		{"BZh9", []byte("BZh9"), true},
		{"bad magic", []byte("BZx9"), false},
		{"level 0", []byte("BZh0"), false},
		{"gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}, false},
		{"bad block magic", append([]byte("BZh9"), 0x31, 0x41, 0x59, 0x26, 0x53, 0x58, 0, 0, 0, 0), false},
		{"level mismatch ok", append([]byte("BZh1"), good[4:]...), false},
	} {
		_, err := decodeAll(bytes.NewReader(c.data))
		if c.name == "level mismatch ok" {
			// A one-byte block fits any level.
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		checkDecodeErr(t, c.name, err)
		if c.eof != errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: err = %v; want unexpected EOF = %v", c.name, err, c.eof)
		}
	}
	// An empty stream (header and end-of-stream marker only).
	empty := compressed(t, "empty", nil, 9)
	got, err := decodeAll(bytes.NewReader(empty))
	if err != nil || len(got) != 0 {
		t.Errorf("empty stream: %q, %v", got, err)
	}
}

// TestChecksumErrors damages the stored CRCs.
func TestChecksumErrors(t *testing.T) {
	c := compressed(t, "text 120k", input("text")[:120000], 9)
	// The first block's CRC follows "BZh9" and the 6-byte block magic;
	// the stream CRC ends at most 7 bits before the last byte's end.
	for _, at := range []int{10*8 + 5, len(c)*8 - 7 - 3} {
		bad := append([]byte(nil), c...)
		bad[at/8] ^= 0x80 >> (at % 8)
		_, err := decodeAll(bytes.NewReader(bad))
		if !errors.Is(err, ErrChecksum) || !errors.Is(err, ErrCorrupt) {
			t.Errorf("bit %d flipped: err = %v, want ErrChecksum", at, err)
		}
	}
}

func TestCRC(t *testing.T) {
	ref := func(p []byte) uint32 {
		crc := uint32(0xFFFFFFFF)
		for _, b := range p {
			crc ^= uint32(b) << 24
			for range 8 {
				if crc&0x80000000 != 0 {
					crc = crc<<1 ^ 0x04C11DB7
				} else {
					crc <<= 1
				}
			}
		}
		return ^crc
	}
	p := randomBytes(1000, 9, 256)
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 100, 1000} {
		if got, want := ^crcUpdate(0xFFFFFFFF, p[:n]), ref(p[:n]); got != want {
			t.Errorf("crc of %d bytes = %08x, want %08x", n, got, want)
		}
	}
	// "123456789" is the standard check value of CRC-32/BZIP2.
	if got := ^crcUpdate(0xFFFFFFFF, []byte("123456789")); got != 0xFC891918 {
		t.Errorf("check value %08x, want fc891918", got)
	}
}

package shard

import "testing"

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Shard
		ok   bool
	}{
		{"", All, true},
		{"0/1", Shard{0, 1}, true},
		{"2/3", Shard{2, 3}, true},
		{"3/3", Shard{}, false},
		{"1/0", Shard{}, false},
		{"-1/3", Shard{}, false},
		{"1", Shard{}, false},
		{"a/b", Shard{}, false},
	} {
		got, err := Parse(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("Parse(%q) = %v, %v; want %v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

// TestOfIsStable pins the hash: shards written by one version must be
// picked the same way by the next, or a rerun of one shard would redo
// another's tapes.
func TestOfIsStable(t *testing.T) {
	for _, c := range []struct {
		name string
		n    uint32
		want uint32
	}{
		// FNV-1a 32 of "" is 0x811c9dc5 = 2166136261.
		{"", 1000, 261},
		{"a", 1 << 31, 0xe40c292c % (1 << 31)},
	} {
		if got := Of(c.name, c.n); got != c.want {
			t.Errorf("Of(%q, %d) = %d, want %d", c.name, c.n, got, c.want)
		}
	}
	for _, name := range []string{"x.tar:1.1", "x.tar:1.2", "x.tar:1.3", "x.tar:1.4", "x.tar:1.5", "x.tar:1.6"} {
		k := Of(name, 3)
		if !(Shard{k, 3}).Keeps(name) || (Shard{(k + 1) % 3, 3}).Keeps(name) {
			t.Errorf("%s: exactly shard %d/3 keeps it", name, k)
		}
	}
	if !All.Keeps("anything") {
		t.Error("All keeps everything")
	}
}

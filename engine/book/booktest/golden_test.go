package booktest

import "testing"

// TestCanonical: the canonical form drops only what carries no value.
func TestCanonical(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"a": 5.0, "b": [1.50, -2.000, 1.0e5]}`, `{"a":5,"b":[1.50,-2,1.0e5]}`},
		{`{"s": "x: 5.0, y", "t": "q\" 1.0"}`, `{"s":"x: 5.0, y","t":"q\" 1.0"}`},
		{`{"n": null, "f": false, "v": 10}`, `{"n":null,"f":false,"v":10}`},
	} {
		if got := Canonical(nil, []byte(c.in)); string(got) != c.want {
			t.Errorf("Canonical(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

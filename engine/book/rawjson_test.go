package book

import "testing"

func TestAppendCompact(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":1}`, `{"a":1}`},
		{"{\n  \"a\": [1, 2],\n\t\"b\": \"x y\\\" z\"\r\n}", `{"a":[1,2],"b":"x y\" z"}`},
		{"[\n\"  \"\n]", `["  "]`},
	}
	for _, tt := range tests {
		if got := string(appendCompact(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("appendCompact(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestEachMember(t *testing.T) {
	in := "{ \"betDelay\" : 0, \"runners\":[{\"id\":1,\"status\":\"A}\"}],\n \"name\":\"a\\\"b\", \"priceLadderDefinition\":{\"type\":\"CLASSIC\"}, \"inPlay\":true}"
	want := [][2]string{
		{"betDelay", "0"},
		{"runners", `[{"id":1,"status":"A}"}]`},
		{"name", `"a\"b"`},
		{"priceLadderDefinition", `{"type":"CLASSIC"}`},
		{"inPlay", "true"},
	}
	var got [][2]string
	eachMember([]byte(in), func(k, v []byte) { got = append(got, [2]string{string(k), string(v)}) })
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("member %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

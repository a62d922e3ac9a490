package tape

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMatchParts(t *testing.T) {
	tests := []struct {
		pat, name string
		want      bool
	}{
		{"**/*.zst", "a.zst", true},
		{"**/*.zst", "7/2026/11/28/35012345/1.250123456.jsonl.zst", true},
		{"**/*.zst", "7/2026/1.json", false},
		{"**", "a/b/c", true},
		{"7/**/1.*", "7/1.2", true},
		{"7/**/1.*", "4339/2026/1.2", false},
		{"**/2026/**/*.zst", "7/2026/11/1.2.zst", true},
		{"**/2026/**/*.zst", "7/2025/11/1.2.zst", false},
		{"*/*.zst", "7/a/b.zst", false},
		{"a/**/**/b", "a/b", true},
	}
	for _, tc := range tests {
		got := matchParts(strings.Split(tc.pat, "/"), strings.Split(tc.name, "/"))
		if got != tc.want {
			t.Errorf("matchParts(%q, %q) = %v, want %v", tc.pat, tc.name, got, tc.want)
		}
	}
}

// TestGlobStar lists the recorder's layout (tapes/<event type>/<yyyy>/<mm>/
// <dd>/<event>/<market>.jsonl.zst, catalogues beside) with the pattern
// convert stats --help shows (issue 14 item 8).
func TestGlobStar(t *testing.T) {
	data := []byte(`{"op":"mcm","pt":1,"mc":[]}` + "\n")
	root := t.TempDir()
	for _, n := range []string{
		"tapes/7/2026/11/28/35012345/1.250123456.jsonl.zst",
		"tapes/7/2026/11/28/35012345/1.250123456.json",
		"tapes/4339/2026/11/28/35012399/1.250123999.jsonl.zst",
		"tapes/orders/2026/11/28/1.250123456.orders.jsonl.zst",
		"tapes/top.zst",
		"tapes/.partial/1.9.zst",
		"tapes/7/notes.txt",
	} {
		writeFile(t, root, n, data)
	}
	tapes := filepath.Join(root, "tapes")
	tests := []struct {
		pattern string
		want    []string // relative to tapes/, in walk order
	}{
		{"**/*.zst", []string{
			"4339/2026/11/28/35012399/1.250123999.jsonl.zst",
			"7/2026/11/28/35012345/1.250123456.jsonl.zst",
			"orders/2026/11/28/1.250123456.orders.jsonl.zst",
			"top.zst"}},
		{"7/**/*.jsonl.zst", []string{"7/2026/11/28/35012345/1.250123456.jsonl.zst"}},
		{"*/2026/**/1.*.jsonl.zst", []string{
			"4339/2026/11/28/35012399/1.250123999.jsonl.zst",
			"7/2026/11/28/35012345/1.250123456.jsonl.zst",
			"orders/2026/11/28/1.250123456.orders.jsonl.zst"}},
		{"**", []string{
			"4339/2026/11/28/35012399/1.250123999.jsonl.zst",
			"7/2026/11/28/35012345/1.250123456.jsonl.zst",
			"7/notes.txt",
			"orders/2026/11/28/1.250123456.orders.jsonl.zst",
			"top.zst"}},
	}
	for _, tc := range tests {
		var got []string
		err := (&Walker{}).Walk(context.Background(), []string{filepath.Join(tapes, tc.pattern)}, func(_ context.Context, tp *Tape) error {
			rel, _ := filepath.Rel(tapes, tp.Path)
			got = append(got, filepath.ToSlash(rel))
			return nil
		})
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, %v; want %q", tc.pattern, got, err, tc.want)
		}
	}
	for _, bad := range []string{"nothing/**/*.zst", "**/*.bz2", "[/**"} {
		var problems []error
		w := &Walker{OnError: func(err error) error { problems = append(problems, err); return nil }}
		if err := w.Walk(context.Background(), []string{filepath.Join(tapes, bad)}, func(context.Context, *Tape) error {
			t.Errorf("%s: a tape was listed", bad)
			return nil
		}); err != nil || len(problems) != 1 {
			t.Errorf("%s: error %v, problems %v; want one problem", bad, err, problems)
		}
	}
}

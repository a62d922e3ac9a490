package interop

import (
	"strings"
	"testing"
)

func TestExampleQueries(t *testing.T) {
	for _, tc := range []struct {
		name   string
		readme string
		titles []string
		err    string
	}{
		{"two", "x\n### Example queries\n\n#### A\n\n```sql\nSELECT 1;\n```\n#### B\n```sql\nSELECT\n 2;\n```\n```python\nno\n```\n### next\n```sql\nSELECT 3;\n```\n",
			[]string{"A", "B"}, ""},
		{"ends at ##", "\n### Example queries\n#### A\n```sql\nSELECT 1;\n```\n## Other\n```sql\nSELECT 3;\n```\n", []string{"A"}, ""},
		{"no section", "# x\n", nil, "no \"### Example queries\" section"},
		{"empty", "\n### Example queries\ntext\n", nil, "no ```sql blocks"},
		{"unterminated", "\n### Example queries\n#### A\n```sql\nSELECT 1;\n", nil, "unterminated sql block under \"A\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ExampleQueries(tc.readme)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, e := range got {
				titles = append(titles, e.Title)
			}
			if strings.Join(titles, ",") != strings.Join(tc.titles, ",") {
				t.Fatalf("titles %q, want %q", titles, tc.titles)
			}
		})
	}
}

func TestRewrite(t *testing.T) {
	q := "FROM read_parquet('dataset/runners/**/*.parquet') JOIN 'dataset/x' WHERE a = 'dataset'"
	want := "FROM read_parquet('/tmp/d/runners/**/*.parquet') JOIN '/tmp/d/x' WHERE a = 'dataset'"
	if got := Rewrite(q, "/tmp/d/"); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

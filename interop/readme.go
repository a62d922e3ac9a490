package interop

import (
	"fmt"
	"strings"
)

// Example is one of the README's example queries: its #### heading and its
// DuckDB SQL, with paths written 'dataset/...'.
type Example struct {
	Title string
	SQL   string
}

// ExampleSection is the README heading whose ```sql blocks are the example
// queries.
const ExampleSection = "### Example queries"

// ExampleQueries returns the ```sql blocks of readme's example-queries
// section, each with the #### heading above it, in order. The interop tests
// run exactly these, so the README cannot drift from what is tested.
func ExampleQueries(readme string) ([]Example, error) {
	i := strings.Index(readme, "\n"+ExampleSection+"\n")
	if i < 0 {
		return nil, fmt.Errorf("interop: README has no %q section", ExampleSection)
	}
	sec := readme[i+1+len(ExampleSection):]
	// The section ends at the next heading of its level or above.
	for _, h := range []string{"\n### ", "\n## "} {
		if j := strings.Index(sec, h); j >= 0 {
			sec = sec[:j]
		}
	}
	var out []Example
	title := ""
	lines := strings.Split(sec, "\n")
	for n := 0; n < len(lines); n++ {
		l := lines[n]
		switch {
		case strings.HasPrefix(l, "#### "):
			title = strings.TrimPrefix(l, "#### ")
		case l == "```sql":
			var b strings.Builder
			for n++; n < len(lines) && lines[n] != "```"; n++ {
				b.WriteString(lines[n])
				b.WriteByte('\n')
			}
			if n == len(lines) {
				return nil, fmt.Errorf("interop: README %s: unterminated sql block under %q", ExampleSection, title)
			}
			out = append(out, Example{Title: title, SQL: b.String()})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("interop: README %s holds no ```sql blocks", ExampleSection)
	}
	return out, nil
}

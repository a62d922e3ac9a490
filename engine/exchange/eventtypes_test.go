package exchange

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/tapedeck/tapedeck/internal/testenv"
)

// TestEventTypeNames: the table names every event type of Betfair's own
// navigation menu as the menu does, and no other.
func TestEventTypeNames(t *testing.T) {
	path := testenv.Shared(t, "data/api/navigation_menu.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var menu struct {
		Children []struct{ Type, ID, Name string }
	}
	if err := json.Unmarshal(b, &menu); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	n := 0
	for _, c := range menu.Children {
		if c.Type != "EVENT_TYPE" {
			continue
		}
		n++
		if got := eventTypeName(c.ID); got != c.Name {
			t.Errorf("eventTypeName(%q) = %q, the menu says %q", c.ID, got, c.Name)
		}
	}
	if n == 0 {
		t.Fatalf("%s: no EVENT_TYPE nodes", path)
	}
	for _, id := range []string{"", "0", "99999999"} {
		if got := eventTypeName(id); got != "" {
			t.Errorf("eventTypeName(%q) = %q, want \"\"", id, got)
		}
	}
}

package parquet

import (
	"fmt"
	"strings"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// partitionValue returns an event type id as it may appear in a partition
// folder's name. Betfair's are digits and pass unchanged; anything else
// comes from a damaged or hostile tape, and is percent-encoded byte by byte
// (as Hive escapes partition values) outside letters, digits, '_' and '-',
// so that "../.." names no folder but its own under the table.
func partitionValue(v string) string {
	if v == "" || esa.ValidNumericID(v) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

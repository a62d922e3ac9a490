package store_test

import (
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/store"
)

// The CRC32C check value from the CRC catalogue, in S3's encoding.
func TestBase64CRC32C(t *testing.T) {
	d, err := store.DigestOf(strings.NewReader("123456789"))
	if err != nil {
		t.Fatal(err)
	}
	if d.CRC32C != 0xE3069283 || d.Size != 9 {
		t.Errorf("DigestOf(123456789) = %#x, %d; want 0xe3069283, 9", d.CRC32C, d.Size)
	}
	if got := store.Base64CRC32C(d.CRC32C); got != "4waSgw==" {
		t.Errorf("Base64CRC32C = %s, want 4waSgw==", got)
	}
}

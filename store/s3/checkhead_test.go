package s3

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/tapedeck/tapedeck/store"
)

// checkHead against the forms of HeadObject answer servers give.
func TestCheckHead(t *testing.T) {
	want := store.Digest{Size: 10, CRC32C: 0xE3069283} // CRC32C("123456789") as a stand-in value
	full := store.Base64CRC32C(want.CRC32C)
	parts := []uint32{1, 2}
	comp := compositeCRC(parts) // "<base64>-2"
	compBase := comp[:len(comp)-2]
	cases := []struct {
		name     string
		size     int64
		sum      string
		typ      types.ChecksumType
		partSums []uint32
		ok       bool
	}{
		{"whole", 10, full, types.ChecksumTypeFullObject, nil, true},
		{"whole, type unset", 10, full, "", nil, true},
		{"short", 9, full, types.ChecksumTypeFullObject, nil, false},
		{"other content", 10, "AAAAAA==", types.ChecksumTypeFullObject, nil, false},
		{"no checksum stored", 10, "", "", nil, true},
		{"no checksum stored, short", 11, "", "", nil, false},
		{"composite matches parts", 10, comp, types.ChecksumTypeComposite, parts, true},
		{"composite without -N", 10, compBase, types.ChecksumTypeComposite, parts, true},
		{"composite without -N or type", 10, compBase, "", parts, true},
		{"composite of other parts", 10, comp, types.ChecksumTypeComposite, []uint32{2, 1}, false},
		{"composite, parts unknown", 10, comp, "", nil, true},
		{"composite, parts unknown, short", 9, comp, "", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := &awss3.HeadObjectOutput{ContentLength: aws.Int64(c.size), ChecksumType: c.typ}
			if c.sum != "" {
				h.ChecksumCRC32C = aws.String(c.sum)
			}
			err := checkHead(h, want, c.partSums)
			if c.ok && err != nil {
				t.Errorf("checkHead: %v", err)
			}
			if !c.ok && !errors.Is(err, store.ErrIncomplete) {
				t.Errorf("checkHead = %v, want ErrIncomplete", err)
			}
		})
	}
}

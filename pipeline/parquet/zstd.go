package parquet

import (
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/format"
)

// zstdCodec is the dataset's compression: ZSTD at its fastest level
// (conversion speed matters more than the last few per cent of size),
// with one encoder and decoder per Writer rather than parquet-go's pooled
// ones with 8 MiB windows: parquet compresses a page at a time, and a
// window beyond the largest page only costs memory (about 4 MiB of
// history for every encoder).
type zstdCodec struct {
	mu  sync.Mutex
	enc *zstd.Encoder
	dec *zstd.Decoder
}

// zstdWindow covers parquet-go's default page buffer (256 KiB) and then
// some, since a page may run past it by a row.
const zstdWindow = 1 << 20

func (c *zstdCodec) String() string { return "ZSTD" }

func (c *zstdCodec) CompressionCodec() format.CompressionCodec { return format.Zstd }

// Encode appends the compressed src to dst[:0].
func (c *zstdCodec) Encode(dst, src []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.enc == nil {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(zstdWindow), zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
		if err != nil {
			return dst[:0], fmt.Errorf("zstd encoder: %w", err)
		}
		c.enc = enc
	}
	return c.enc.EncodeAll(src, dst[:0]), nil
}

// Decode appends the decompressed src to dst[:0].
func (c *zstdCodec) Decode(dst, src []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dec == nil {
		dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return dst[:0], fmt.Errorf("zstd decoder: %w", err)
		}
		c.dec = dec
	}
	return c.dec.DecodeAll(src, dst[:0])
}

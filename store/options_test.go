package store_test

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/spf13/pflag"

	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/storetest"
)

func TestAddFlags(t *testing.T) {
	cases := []struct {
		args []string
		want store.S3Options
	}{
		{nil, store.S3Options{}},
		{
			[]string{"--s3-endpoint", "http://127.0.0.1:9000", "--s3-path-style", "--s3-region", "eu-west-1", "--s3-max-attempts", "7", "--s3-part-size", "16777216", "--s3-concurrency", "3"},
			store.S3Options{Endpoint: "http://127.0.0.1:9000", PathStyle: true, Region: "eu-west-1", MaxAttempts: 7, PartSize: 16 << 20, Concurrency: 3},
		},
	}
	for _, c := range cases {
		var o store.S3Options
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		o.AddFlags(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if o != c.want {
			t.Errorf("%q: got %+v, want %+v", c.args, o, c.want)
		}
	}
}

func TestNewS3RejectsSmallParts(t *testing.T) {
	if _, err := store.NewS3(t.Context(), "b", store.S3Options{PartSize: store.MinPartSize - 1}); err == nil {
		t.Error("a part size below S3's minimum was accepted")
	}
}

// Committed files are readable by others, like os.Create's, not 0600 like
// the temporary file they started as.
func TestDirFileMode(t *testing.T) {
	d, err := store.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	put(t, d, "m/1.1.zst", []byte("x"))
	info, err := os.Stat(filepath.Join(d.URL(), "m", "1.1.zst"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", info.Mode().Perm())
	}
}

// A server that stores a composite checksum (CRC32C of the part CRC32Cs,
// "-N") for a multipart object agrees with CompositeCRC, and Verify falls back
// to the size for such an object.
func TestS3CompositeChecksum(t *testing.T) {
	s := storetest.S3(t)
	ctx, c, bucket, key := t.Context(), s.Client(), aws.String(s.Bucket()), aws.String("composite/1.1.zst")
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: bucket, Key: key,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
		ChecksumType:      types.ChecksumTypeComposite,
	})
	if err != nil {
		t.Fatal(err)
	}
	data := payload(store.MinPartSize + 3000)
	chunks := [][]byte{data[:store.MinPartSize], data[store.MinPartSize:]}
	var sums []uint32
	var parts []types.CompletedPart
	for i, chunk := range chunks {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: bucket, Key: key, UploadId: up.UploadId,
			PartNumber:        aws.Int32(int32(i + 1)),
			Body:              bytes.NewReader(chunk),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
		})
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, crc32.Checksum(chunk, crc32.MakeTable(crc32.Castagnoli)))
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1)), ChecksumCRC32C: out.ChecksumCRC32C})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: bucket, Key: key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		t.Fatal(err)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(h.ChecksumCRC32C), store.CompositeCRC(sums); got != want {
		t.Errorf("server's composite CRC32C %q, CompositeCRC %q (type %q)", got, want, h.ChecksumType)
	}
	d := store.Digest{Size: int64(len(data)), CRC32C: crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))}
	if err := s.Verify(ctx, *key, d); err != nil {
		t.Errorf("Verify of a composite-checksum object: %v", err)
	}
	d.Size++
	if err := s.Verify(ctx, *key, d); err == nil {
		t.Error("Verify missed a size mismatch on a composite-checksum object")
	}
}

// Parts uploaded several at a time still land in order, whatever order they
// finish in.
func TestS3Concurrency(t *testing.T) {
	data := payload(5*store.MinPartSize + 777)
	for _, conc := range []int{1, 4} {
		t.Run(fmt.Sprint(conc), func(t *testing.T) {
			s := storetest.S3With(t, store.S3Options{PartSize: store.MinPartSize, Concurrency: conc})
			put(t, s, "c/1.1.zst", data)
			if got := read(t, s, "c/1.1.zst"); !bytes.Equal(got, data) {
				t.Errorf("read back %d bytes differing from the %d written", len(got), len(data))
			}
		})
	}
}

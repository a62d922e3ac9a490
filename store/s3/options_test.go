package s3_test

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/spf13/pflag"

	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/s3"
	"github.com/tapedeck/tapedeck/store/storetest"
)

func TestAddFlags(t *testing.T) {
	cases := []struct {
		args []string
		want s3.Options
	}{
		{nil, s3.Options{}},
		{
			[]string{"--s3-endpoint", "http://127.0.0.1:9000", "--s3-path-style", "--s3-region", "eu-west-1", "--s3-max-attempts", "7", "--s3-part-size", "16777216", "--s3-concurrency", "3"},
			s3.Options{Endpoint: "http://127.0.0.1:9000", PathStyle: true, Region: "eu-west-1", MaxAttempts: 7, PartSize: 16 << 20, Concurrency: 3},
		},
	}
	for _, c := range cases {
		var o s3.Options
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
	if _, err := s3.New(t.Context(), "b", s3.Options{PartSize: s3.MinPartSize - 1}); err == nil {
		t.Error("a part size below S3's minimum was accepted")
	}
}

// A server that stores a composite checksum (CRC32C of the part CRC32Cs,
// "-N") for a multipart object agrees with CompositeCRC, and Verify falls back
// to the size for such an object.
func TestS3CompositeChecksum(t *testing.T) {
	s := storetest.S3(t)
	ctx, c, bucket, key := t.Context(), s.Client(), aws.String(s.Bucket()), aws.String("composite/1.1.zst")
	up, err := c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket: bucket, Key: key,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
		ChecksumType:      types.ChecksumTypeComposite,
	})
	if err != nil {
		t.Fatal(err)
	}
	data := storetest.Payload(s3.MinPartSize + 3000)
	chunks := [][]byte{data[:s3.MinPartSize], data[s3.MinPartSize:]}
	var sums []uint32
	var parts []types.CompletedPart
	for i, chunk := range chunks {
		out, err := c.UploadPart(ctx, &awss3.UploadPartInput{
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
	if _, err := c.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: bucket, Key: key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		t.Fatal(err)
	}
	h, err := c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: bucket, Key: key, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(h.ChecksumCRC32C), s3.CompositeCRC(sums); got != want {
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
	data := storetest.Payload(5*s3.MinPartSize + 777)
	for _, conc := range []int{1, 4} {
		t.Run(fmt.Sprint(conc), func(t *testing.T) {
			s := storetest.S3With(t, s3.Options{PartSize: s3.MinPartSize, Concurrency: conc})
			storetest.Put(t, s, "c/1.1.zst", data)
			if got := storetest.Read(t, s, "c/1.1.zst"); !bytes.Equal(got, data) {
				t.Errorf("read back %d bytes differing from the %d written", len(got), len(data))
			}
		})
	}
}

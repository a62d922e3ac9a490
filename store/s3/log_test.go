package s3_test

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/tapedeck/tapedeck/store/s3"
	"github.com/tapedeck/tapedeck/store/storetest"
)

// Reading objects prints nothing of the SDK's own to stderr: its lines go
// through the store's slog logger. An object this package wrote has a
// whole-object CRC32C, which the SDK checks as it reads, silently; one with a
// composite checksum (multipart, written by another tool) it cannot check,
// which it says as a warning (and a response with no checksum at all, as a
// debug line).
func TestSDKLogsGoThroughSlog(t *testing.T) {
	direct := storetest.S3(t)
	composite := putComposite(t, direct, "log/composite.zst")
	whole := storetest.Payload(s3.MinPartSize + 10)
	storetest.Put(t, direct, "log/whole.zst", whole)

	// The SDK's default logger would have captured os.Stderr when the
	// store loaded its configuration, so swap it before making the store.
	stderr, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = stderr
	t.Cleanup(func() { os.Stderr = saved })
	var logs bytes.Buffer
	opt := storetest.Options(t)
	opt.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := s3.New(t.Context(), direct.Bucket(), opt)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string][]byte{"log/composite.zst": composite, "log/whole.zst": whole} {
		if got := storetest.Read(t, s, key); !bytes.Equal(got, want) {
			t.Errorf("%s: read %d bytes, want the %d written", key, len(got), len(want))
		}
	}
	os.Stderr = saved

	printed, err := os.ReadFile(stderr.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(printed) != 0 {
		t.Errorf("the SDK wrote to stderr:\n%s", printed)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if line != "" && !strings.Contains(line, "from=aws-sdk") {
			t.Errorf("a line not from the SDK: %s", line)
		}
	}
	if !strings.Contains(logs.String(), "level=WARN msg=\"Skipped validation of multipart checksum.\"") {
		t.Errorf("the composite object's skipped validation did not reach slog as a warning; logged: %q", logs.String())
	}
}

// putComposite writes a two-part object with a composite CRC32C, as other
// S3 tools do, and returns its content.
func putComposite(t *testing.T, s *s3.Store, k string) []byte {
	t.Helper()
	ctx, c, bucket, key := t.Context(), s.Client(), aws.String(s.Bucket()), aws.String(k)
	up, err := c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket: bucket, Key: key,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
		ChecksumType:      types.ChecksumTypeComposite,
	})
	if err != nil {
		t.Fatal(err)
	}
	data := storetest.Payload(s3.MinPartSize + 3000)
	var parts []types.CompletedPart
	for i, chunk := range [][]byte{data[:s3.MinPartSize], data[s3.MinPartSize:]} {
		out, err := c.UploadPart(ctx, &awss3.UploadPartInput{
			Bucket: bucket, Key: key, UploadId: up.UploadId,
			PartNumber:        aws.Int32(int32(i + 1)),
			Body:              bytes.NewReader(chunk),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
		})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1)), ChecksumCRC32C: out.ChecksumCRC32C})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: bucket, Key: key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		t.Fatal(err)
	}
	return data
}

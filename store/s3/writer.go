package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/tapedeck/tapedeck/store"
)

// Create returns a Writer for key. No request is made until a part is full or
// the Writer is closed. The Writer is not safe for concurrent use.
func (s *Store) Create(ctx context.Context, key string) (store.Writer, error) {
	if err := store.CheckKey(key); err != nil {
		return nil, s.fail("create", key, err)
	}
	return &s3Writer{
		ctx:   ctx,
		s:     s,
		key:   key,
		buf:   make([]byte, 0, min(s.partSize, 64<<10)),
		full:  crc32.New(castagnoli),
		slots: make(chan struct{}, s.concurrency),
	}, nil
}

// s3Writer writes one object of an S3 store. The caller's goroutine fills
// buf; each full part is handed to a goroutine that uploads it, at most
// cap(slots) at a time.
type s3Writer struct {
	ctx      context.Context
	s        *Store
	key      string
	buf      []byte // the part being filled; grows to partSize
	uploadID string // "" until the first part is sent, and again once completed or aborted
	next     int32  // part numbers handed out so far
	full     hash.Hash32
	n        int64
	done     bool  // closed or aborted
	err      error // first failure; the upload has been aborted

	slots chan struct{} // one token per part upload in flight
	wg    sync.WaitGroup

	mu       sync.Mutex // guards what the part goroutines write:
	parts    []types.CompletedPart
	partSums []uint32 // raw CRC32C of each part, by part number - 1
	free     [][]byte // part buffers whose upload is done, for reuse
	partErr  error    // the first part upload failure
}

// Write buffers p, handing each full part to an uploader.
func (w *s3Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, w.s.fail("write", w.key, errors.New("writer already closed"))
	}
	if w.err != nil {
		return 0, w.err
	}
	written := 0
	for len(p) > 0 {
		// Send a full buffer only when more data arrives, so an object of
		// exactly one part still goes as a single PutObject at Close.
		if int64(len(w.buf)) == w.s.partSize {
			if err := w.sendPart(); err != nil {
				return written, err
			}
		}
		room := int(w.s.partSize) - len(w.buf)
		chunk := p[:min(room, len(p))]
		w.buf = append(w.buf, chunk...)
		w.full.Write(chunk)
		w.n += int64(len(chunk))
		written += len(chunk)
		p = p[len(chunk):]
	}
	return written, nil
}

// Digest is the size and CRC32C of what was written.
func (w *s3Writer) Digest() store.Digest { return store.Digest{Size: w.n, CRC32C: w.full.Sum32()} }

// sendPart starts uploading the buffer as the next part, first starting the
// multipart upload if this is the first part. It waits while cap(slots)
// parts are already on the wire, and reports an earlier part's failure.
func (w *s3Writer) sendPart() error {
	if w.uploadID == "" {
		out, err := w.s.client.CreateMultipartUpload(w.ctx, &awss3.CreateMultipartUploadInput{
			Bucket: aws.String(w.s.bucket),
			Key:    aws.String(w.key),
			// A whole-object CRC32C lets Close and Verify compare the
			// stored object with the digest of the bytes written.
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
			ChecksumType:      types.ChecksumTypeFullObject,
		})
		if err != nil {
			return w.fail(w.s.fail("create multipart upload", w.key, err))
		}
		w.uploadID = aws.ToString(out.UploadId)
	}
	select {
	case w.slots <- struct{}{}:
	case <-w.ctx.Done():
		return w.fail(w.s.fail(fmt.Sprintf("upload part %d", w.next+1), w.key, w.ctx.Err()))
	}
	if err := w.partFailure(); err != nil {
		<-w.slots
		return w.fail(err)
	}
	w.next++
	num, body := w.next, w.buf
	w.buf = w.freeBuffer()
	w.wg.Add(1)
	go w.uploadPart(num, body)
	return nil
}

// uploadPart sends one part and records its ETag and checksum, or the
// failure. The other parts on the wire are left to finish rather than
// cancelled: a part the server is still writing when the upload is aborted
// can outlive the abort and leave the upload behind.
func (w *s3Writer) uploadPart(num int32, body []byte) {
	defer w.wg.Done()
	defer func() { <-w.slots }()
	sum := crc32.Checksum(body, castagnoli)
	out, err := w.s.client.UploadPart(w.ctx, &awss3.UploadPartInput{
		Bucket:         aws.String(w.s.bucket),
		Key:            aws.String(w.key),
		UploadId:       aws.String(w.uploadID),
		PartNumber:     aws.Int32(num),
		Body:           bytes.NewReader(body),
		ContentLength:  aws.Int64(int64(len(body))),
		ChecksumCRC32C: aws.String(store.Base64CRC32C(sum)),
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		if w.partErr == nil {
			w.partErr = w.s.fail(fmt.Sprintf("upload part %d", num), w.key, err)
		}
		return
	}
	for int(num) > len(w.parts) {
		w.parts = append(w.parts, types.CompletedPart{})
		w.partSums = append(w.partSums, 0)
	}
	w.parts[num-1] = types.CompletedPart{
		ETag:           out.ETag,
		PartNumber:     aws.Int32(num),
		ChecksumCRC32C: aws.String(store.Base64CRC32C(sum)),
	}
	w.partSums[num-1] = sum
	w.free = append(w.free, body[:0])
}

// partFailure is the first part upload's failure, if any yet.
func (w *s3Writer) partFailure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.partErr
}

// freeBuffer returns an empty buffer for the next part: one whose upload has
// finished, or a new one of a whole part (the object is known to be large).
func (w *s3Writer) freeBuffer() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.free); n > 0 {
		b := w.free[n-1]
		w.free = w.free[:n-1]
		return b
	}
	return make([]byte, 0, w.s.partSize)
}

// fail records err (which already names the object) as the Writer's failure,
// waits for the part uploads on the wire, and aborts the multipart upload so
// no parts linger.
func (w *s3Writer) fail(err error) error {
	w.err = err
	w.wg.Wait()
	if aerr := w.abortUpload(); aerr != nil {
		w.err = fmt.Errorf("%w (and aborting the upload failed: %v)", w.err, aerr)
	}
	w.buf, w.free = nil, nil
	return w.err
}

// abortUpload aborts the multipart upload, if one was started. It runs even
// when the Writer's context is cancelled, as cleanup; no part upload of this
// store.Writer may be in flight.
//
// S3 warns that a part still being written when the abort arrives can land
// afterwards and keep the upload (and its storage) alive; that happens when
// a cancelled context tore down part requests the server was still
// processing. So it checks with ListParts and aborts again, a few times.
func (w *s3Writer) abortUpload() error {
	if w.uploadID == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), cleanupTimeout)
	defer cancel()
	id := aws.String(w.uploadID)
	w.uploadID = ""
	const tries = 4
	for try := 1; ; try++ {
		_, err := w.s.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
			Bucket: aws.String(w.s.bucket), Key: aws.String(w.key), UploadId: id,
		})
		if err != nil && !isNoSuchUpload(err) {
			return err
		}
		_, err = w.s.client.ListParts(ctx, &awss3.ListPartsInput{
			Bucket: aws.String(w.s.bucket), Key: aws.String(w.key), UploadId: id, MaxParts: aws.Int32(1),
		})
		if err != nil {
			// NoSuchUpload is success; anything else (no permission to
			// list parts, say) means we cannot tell, and have done what
			// we can.
			return nil
		}
		if try == tries {
			return fmt.Errorf("upload %s still exists after %d aborts", *id, tries)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(try) * 100 * time.Millisecond):
		}
	}
}

// Close sends what is buffered (as one PutObject, or the last part and, once
// every part is in, CompleteMultipartUpload), then checks the stored
// object's size and CRC32C with HeadObject. It deletes the object again if
// that check fails.
func (w *s3Writer) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	if w.err != nil {
		return w.err
	}
	want := w.Digest()
	var etag string
	if w.uploadID == "" {
		out, err := w.s.client.PutObject(w.ctx, &awss3.PutObjectInput{
			Bucket:         aws.String(w.s.bucket),
			Key:            aws.String(w.key),
			Body:           bytes.NewReader(w.buf),
			ContentLength:  aws.Int64(int64(len(w.buf))),
			ChecksumCRC32C: aws.String(store.Base64CRC32C(want.CRC32C)),
		})
		if err != nil {
			return w.fail(w.s.fail("put", w.key, err))
		}
		etag = aws.ToString(out.ETag)
	} else {
		if len(w.buf) > 0 {
			if err := w.sendPart(); err != nil {
				return err
			}
		}
		w.wg.Wait()
		if err := w.partFailure(); err != nil {
			return w.fail(err)
		}
		out, err := w.s.client.CompleteMultipartUpload(w.ctx, &awss3.CompleteMultipartUploadInput{
			Bucket:          aws.String(w.s.bucket),
			Key:             aws.String(w.key),
			UploadId:        aws.String(w.uploadID),
			MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
			ChecksumCRC32C:  aws.String(store.Base64CRC32C(want.CRC32C)),
			ChecksumType:    types.ChecksumTypeFullObject,
			// The server refuses to complete if the parts add up to
			// anything else.
			MpuObjectSize: aws.Int64(want.Size),
		})
		if err != nil {
			return w.fail(w.s.fail("complete multipart upload", w.key, err))
		}
		w.uploadID = ""
		etag = aws.ToString(out.ETag)
	}
	w.buf, w.free = nil, nil

	h, err := w.s.head(w.ctx, w.key)
	if err != nil {
		return w.s.fail("verify", w.key, err)
	}
	if err := checkHead(h, want, w.partSums); err != nil {
		// Remove what we stored, but not an object another writer put
		// there since.
		if aws.ToString(h.ETag) == etag {
			w.s.Delete(context.WithoutCancel(w.ctx), w.key)
		}
		return w.s.fail("verify", w.key, err)
	}
	return nil
}

// Abort drops the buffer, waits for the parts on the wire and aborts the
// multipart upload, if any.
func (w *s3Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.wg.Wait()
	w.buf, w.free = nil, nil
	if err := w.abortUpload(); err != nil {
		return w.s.fail("abort multipart upload", w.key, err)
	}
	return nil
}

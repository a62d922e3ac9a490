package bzip2

import (
	"errors"
	"io"
)

// ErrCorrupt is matched (with errors.Is) by every error this package returns
// for input that is not valid bzip2 data: bad magic, bad Huffman tables,
// checksum mismatches and truncated streams.
var ErrCorrupt = errors.New("bzip2: corrupt input")

// ErrChecksum is matched (with errors.Is) by a block or stream CRC mismatch.
// It also matches ErrCorrupt.
var ErrChecksum = errors.New("bzip2: checksum mismatch")

// corruptError describes why the input is invalid; it matches ErrCorrupt.
type corruptError string

func (e corruptError) Error() string        { return "bzip2: corrupt input: " + string(e) }
func (e corruptError) Is(target error) bool { return target == ErrCorrupt }

type checksumError string

func (e checksumError) Error() string { return "bzip2: " + string(e) + " checksum mismatch" }
func (e checksumError) Is(target error) bool {
	return target == ErrCorrupt || target == ErrChecksum
}

// truncatedError is returned when the input ends in the middle of a stream.
// It matches both io.ErrUnexpectedEOF and ErrCorrupt.
type truncatedError struct{}

func (truncatedError) Error() string { return "bzip2: truncated input: " + io.ErrUnexpectedEOF.Error() }
func (truncatedError) Is(target error) bool {
	return target == io.ErrUnexpectedEOF || target == ErrCorrupt
}

var errTruncated error = truncatedError{}

package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/spf13/cobra"
)

// RequireInputs is a cobra Args check for commands that take INPUT...
func RequireInputs(_ *cobra.Command, args []string) error {
	if len(args) == 0 {
		return &UsageError{Err: errors.New("no INPUT given (a file, directory, glob, .tar or - for standard input)")}
	}
	return nil
}

// Output is where a command writes its result: standard output, or a file
// that appears under its name only when Close succeeds, so an interrupted
// run never leaves a half file that looks whole.
type Output struct {
	w     io.Writer
	enc   io.WriteCloser // compressor, if any
	file  *os.File       // temporary file, if writing to a path
	final string
}

// CreateOutput opens path for writing, compressing by its suffix (.zst or
// .gz); an empty path or "-" writes to stdout uncompressed.
func CreateOutput(path string, stdout io.Writer) (*Output, error) {
	if path == "" || path == "-" {
		return &Output{w: stdout}, nil
	}
	f, err := createTemp(path)
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", path, err)
	}
	o := &Output{w: f, file: f, final: path}
	switch {
	case strings.HasSuffix(path, ".zst"):
		enc, err := zstd.NewWriter(f)
		if err != nil {
			o.Abort()
			return nil, fmt.Errorf("output %s: %w", path, err)
		}
		o.enc, o.w = enc, enc
	case strings.HasSuffix(path, ".gz"):
		enc := gzip.NewWriter(f)
		o.enc, o.w = enc, enc
	}
	return o, nil
}

// createTemp creates a new hidden file beside path. Unlike os.CreateTemp,
// which always makes 0600 files, it asks for 0666 and lets the umask decide,
// so an output is as readable as any file the user's shell would create.
func createTemp(path string) (*os.File, error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	for range 100 {
		name := filepath.Join(dir, fmt.Sprintf(".%s.tmp-%d", base, rand.Uint32()))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("no free temporary name beside %s", path)
}

// Write writes p to the output.
func (o *Output) Write(p []byte) (int, error) { return o.w.Write(p) }

// Close finishes the compression, syncs the file and moves it to its name.
func (o *Output) Close() error {
	if o.file == nil {
		return nil
	}
	if o.enc != nil {
		if err := o.enc.Close(); err != nil {
			o.Abort()
			return fmt.Errorf("output %s: %w", o.final, err)
		}
	}
	if err := o.file.Sync(); err != nil {
		o.Abort()
		return fmt.Errorf("output %s: %w", o.final, err)
	}
	if err := o.file.Close(); err != nil {
		os.Remove(o.file.Name())
		return fmt.Errorf("output %s: %w", o.final, err)
	}
	if err := os.Rename(o.file.Name(), o.final); err != nil {
		os.Remove(o.file.Name())
		return fmt.Errorf("output %s: %w", o.final, err)
	}
	return nil
}

// Abort discards a file output; nothing appears under its name.
func (o *Output) Abort() {
	if o.file == nil {
		return
	}
	o.file.Close()
	os.Remove(o.file.Name())
}

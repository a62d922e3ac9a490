package cli

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestCreateOutputHonoursUmask: an output file gets 0666 less the umask,
// as a file made by the shell would, not os.CreateTemp's fixed 0600.
func TestCreateOutputHonoursUmask(t *testing.T) {
	for _, tc := range []struct {
		umask int
		want  os.FileMode
		name  string
	}{
		{0o022, 0o644, "books.jsonl"},
		{0o027, 0o640, "books.jsonl.zst"},
		{0o002, 0o664, "books.jsonl.gz"},
	} {
		old := syscall.Umask(tc.umask)
		path := filepath.Join(t.TempDir(), tc.name)
		o, err := CreateOutput(path, io.Discard)
		if err == nil {
			_, err = o.Write([]byte("{}\n"))
		}
		if err == nil {
			err = o.Close()
		}
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tc.want {
			t.Errorf("umask %03o: %s is %03o, want %03o", tc.umask, tc.name, got, tc.want)
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*")); len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
	}
}

package convert

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/store"
)

// tempFiles lists the files under dir whose name marks them temporary.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(d.Name(), ".tmp-") && d.Name() != store.LockName {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestBooksInterrupted: SIGINT during convert books -o removes the
// temporary file and leaves nothing under the output's name; exit 1.
func TestBooksInterrupted(t *testing.T) {
	tar := ""
	if d := testenv.SharedDir(t); d != "" {
		tar = filepath.Join(d, "data/historic/pro-greyhounds-2022-03-01.tar")
	}
	if _, err := os.Stat(tar); tar == "" || err != nil {
		t.Skip("the shared greyhound archive (../shared/data/historic) is not here")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "books.jsonl.zst")
	cmd := exec.Command(bin, "books", tar, "-o", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for deadline := time.Now().Add(60 * time.Second); len(tempFiles(t, dir)) == 0; time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("convert books finished (%v) before it was interrupted", err)
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no temporary output file appeared")
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := <-exited
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("exit: %v, want code 1; stderr:\n%s", err, stderr.String())
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s exists after the interrupt", out)
	}
}

// TestParquetRemovesLeftTemporaries: the temporary files a killed run left
// in a local dataset (SIGKILL gives it no chance to) are removed by the
// next run, unless another run is writing to the dataset at that moment.
func TestParquetRemovesLeftTemporaries(t *testing.T) {
	tape := testenv.Testdata(t, "tapes/1.197931750")
	for _, other := range []bool{false, true} {
		dest := t.TempDir()
		left := []string{
			filepath.Join(dest, "markets", "event_type_id=4339", "date=2022-04-19", ".tmp-2863311530"),
			filepath.Join(dest, "files", ".tmp-17"),
		}
		for _, p := range left {
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte("PAR1 half a part"), 0o644)
		}
		if other {
			// A run writing now holds the dataset's lock shared.
			f, err := os.OpenFile(filepath.Join(dest, store.LockName), os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
				t.Fatal(err)
			}
		}
		root := newRootCmd()
		root.SetArgs([]string{"parquet", tape, "-o", dest})
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		if err := root.Execute(); err != nil {
			t.Fatalf("convert parquet: %v", err)
		}
		got := tempFiles(t, dest)
		if other && len(got) != len(left) {
			t.Errorf("with another run writing, temporary files %v, want %v kept", got, left)
		}
		if !other && len(got) != 0 {
			t.Errorf("temporary files a killed run left are still there: %v", got)
		}
	}
}

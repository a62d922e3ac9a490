package main

import (
	"path/filepath"
	"testing"
)

// TestCallerPath: a relative dataset path given through `go -C interop run`
// is the caller's, found through $PWD; elsewhere paths are left alone.
func TestCallerPath(t *testing.T) {
	interopDir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Dir(interopDir)
	other := t.TempDir()
	for _, tc := range []struct {
		name, path, cwd, pwd, want string
	}{
		{"go -C interop from the repository", "demo/dataset", interopDir, repo, filepath.Join(repo, "demo/dataset")},
		{"go -C interop from elsewhere", "../x", interopDir, other, filepath.Join(other, "../x")},
		{"absolute path", "/data/set", interopDir, repo, "/data/set"},
		{"run from interop itself", "dataset", interopDir, interopDir, "dataset"},
		{"no PWD", "dataset", interopDir, "", "dataset"},
		{"relative PWD", "dataset", interopDir, "somewhere", "dataset"},
		{"PWD gone", "dataset", interopDir, filepath.Join(other, "missing"), "dataset"},
		{"not the interop module", "dataset", other, repo, "dataset"},
	} {
		if got := callerPath(tc.path, tc.cwd, tc.pwd); got != tc.want {
			t.Errorf("%s: callerPath(%q, %q, %q) = %q, want %q", tc.name, tc.path, tc.cwd, tc.pwd, got, tc.want)
		}
	}
}

package store_test

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/tapedeck/tapedeck/store"
)

// Writing a tape where a URL says, and reading it back. With
// "s3://bucket/tapes/" instead of a directory the code is the same.
func Example() {
	dir, _ := os.MkdirTemp("", "tapes")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, prefix, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	w, err := s.Create(ctx, prefix+"2026/11/28/1.234567890")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Fprintln(w, "the tape's lines")
	// Close returns only when the object is stored whole: now is the time
	// to delete a spool file.
	if err := w.Close(); err != nil {
		w.Abort()
		fmt.Println(err)
		return
	}
	objs, _ := s.List(ctx, prefix+"2026/11/")
	for _, o := range objs {
		fmt.Println(o.Key, o.Size)
	}
	r, _ := s.Open(ctx, objs[0].Key)
	defer r.Close()
	b, _ := io.ReadAll(r)
	fmt.Print(string(b))
	// Output:
	// 2026/11/28/1.234567890 17
	// the tape's lines
}

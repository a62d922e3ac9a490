package parquet

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	pq "github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/pipeline/tables"
	"github.com/tapedeck/tapedeck/store"
)

// ReadFiles reads every row of the files table under prefix: the inputs
// that earlier runs finished, each with the batch holding its rows.
func ReadFiles(ctx context.Context, s store.Store, prefix string) ([]tables.File, error) {
	objs, err := s.List(ctx, path.Join(prefix, TableFiles)+"/")
	if err != nil {
		return nil, err
	}
	var out []tables.File
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, ".parquet") {
			continue
		}
		rows, err := ReadAll[tables.File](ctx, s, o.Key)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// ReadAll reads every row of one Parquet object into T; for the files
// table and for tests.
func ReadAll[T any](ctx context.Context, s store.Store, key string) ([]T, error) {
	rc, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("parquet: %s: %w", key, err)
	}
	rows, err := pq.Read[T](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("parquet: %s: %w", key, err)
	}
	return rows, nil
}

// BatchOf returns the batch a dataset key belongs to ("part-<batch>.parquet"
// as its last element), or "" for other keys.
func BatchOf(key string) string {
	base := path.Base(key)
	if !strings.HasPrefix(base, "part-") || !strings.HasSuffix(base, ".parquet") {
		return ""
	}
	return strings.TrimSuffix(strings.TrimPrefix(base, "part-"), ".parquet")
}

// RemoveBatches deletes every dataset object under prefix whose batch
// drop reports true, files-table parts last so that a run interrupted
// here still sees the batch as done and the data as present. It returns
// how many objects it deleted.
func RemoveBatches(ctx context.Context, s store.Store, prefix string, drop func(batch string) bool) (int, error) {
	objs, err := s.List(ctx, folder(prefix))
	if err != nil {
		return 0, err
	}
	filesDir := path.Join(prefix, TableFiles) + "/"
	var data, files []string
	for _, o := range objs {
		b := BatchOf(o.Key)
		if b == "" || !drop(b) {
			continue
		}
		if strings.HasPrefix(o.Key, filesDir) {
			files = append(files, o.Key)
		} else {
			data = append(data, o.Key)
		}
	}
	n := 0
	for _, k := range append(data, files...) {
		if err := s.Delete(ctx, k); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// folder is prefix as a folder to list: Store.List matches a plain string
// prefix, and the dataset "ds" must not take in a sibling "ds2".
func folder(prefix string) string {
	if prefix == "" || strings.HasSuffix(prefix, "/") {
		return prefix
	}
	return prefix + "/"
}

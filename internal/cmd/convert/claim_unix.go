//go:build unix

package convert

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/tapedeck/tapedeck/store"
)

// claimDataset is called before a run writes into a dataset. In a local
// directory it removes the temporary files that killed runs left (a
// SIGKILL gives no chance to), but only when no other run is writing there
// (shards of one conversion may run side by side), and then holds a shared
// flock until release so that a run starting meanwhile leaves this one's
// files alone. Other stores need nothing: an S3 object appears whole or
// not at all.
func claimDataset(st store.Store, prefix string, log *slog.Logger) (release func(), err error) {
	return claim(st, prefix, log, false)
}

// claimAlone is claimDataset for a run that must have the dataset to
// itself (compact): it keeps the exclusive lock, and fails when another
// run holds the dataset.
func claimAlone(st store.Store, prefix string, log *slog.Logger) (release func(), err error) {
	return claim(st, prefix, log, true)
}

func claim(st store.Store, prefix string, log *slog.Logger, alone bool) (release func(), err error) {
	d, ok := st.(*store.Dir)
	if !ok {
		return func() {}, nil
	}
	dir := filepath.Join(d.URL(), filepath.FromSlash(prefix))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", dir, err)
	}
	p := filepath.Join(dir, store.LockName)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("dataset lock %s: %w", p, err)
	}
	fd := int(f.Fd())
	switch err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); {
	case err == nil:
		n, rerr := d.RemoveTemporary(prefix)
		if rerr != nil {
			f.Close()
			return nil, rerr
		}
		if n > 0 {
			log.Info("removed temporary files an interrupted run left", "files", n, "dir", dir)
		}
	case errors.Is(err, syscall.EWOULDBLOCK) && alone:
		f.Close()
		return nil, fmt.Errorf("dataset %s: another run is writing to it; try again when it has finished", dir)
	case errors.Is(err, syscall.EWOULDBLOCK):
		log.Debug("another run is writing to the dataset; its temporary files stay", "dir", dir)
	default:
		f.Close()
		return nil, fmt.Errorf("dataset lock %s: %w", p, err)
	}
	if alone {
		return func() { f.Close() }, nil
	}
	if err := syscall.Flock(fd, syscall.LOCK_SH); err != nil {
		f.Close()
		return nil, fmt.Errorf("dataset lock %s: %w", p, err)
	}
	return func() { f.Close() }, nil
}

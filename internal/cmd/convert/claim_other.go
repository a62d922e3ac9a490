//go:build !unix

package convert

import (
	"log/slog"

	"github.com/tapedeck/tapedeck/store"
)

// claimDataset does nothing where flock is unavailable: without a way to
// tell a live run's temporary files from a dead one's, none are removed.
func claimDataset(store.Store, string, *slog.Logger) (func(), error) { return func() {}, nil }

// claimAlone is claimDataset's counterpart for compact: nothing to lock
// with here, so the user must see that no other run writes meanwhile.
func claimAlone(store.Store, string, *slog.Logger) (func(), error) { return func() {}, nil }

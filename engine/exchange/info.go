package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// ReadInfo reads the Info file `trade serve --info` writes, waiting up to
// wait for it to appear, so that `trade serve … --info FILE &` followed at
// once by a client given FILE works. The exchange writes the file whole (a
// rename), so a file that exists but does not parse is an error at once.
// Every client of a local exchange (record run, trade paper) reads it here.
func ReadInfo(ctx context.Context, path string, wait time.Duration) (Info, error) {
	var info Info
	deadline := time.Now().Add(wait)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			if err := json.Unmarshal(b, &info); err != nil || info.Stream == "" || info.Identity == "" {
				return info, fmt.Errorf("%s: not the JSON trade serve --info writes", path)
			}
			return info, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || !time.Now().Before(deadline) {
			if errors.Is(err, fs.ErrNotExist) {
				err = fmt.Errorf("%w (waited %v for trade serve to write it)", err, wait)
			}
			return info, err
		}
		select {
		case <-ctx.Done():
			return info, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// CheckLoopback refuses endpoints (URLs or host:port) that leave this
// machine: an info file is easy to plant or leave stale, and whatever it
// names receives a login, so a local exchange must listen on loopback.
func CheckLoopback(endpoints ...string) error {
	for _, e := range endpoints {
		host := e
		if strings.Contains(e, "://") {
			u, err := url.Parse(e)
			if err != nil {
				return fmt.Errorf("endpoint %q: %w", e, err)
			}
			host = u.Host
		}
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !isLoopback(host) {
			return fmt.Errorf("endpoint %s is not on this machine; a local exchange must listen on loopback (127.0.0.1, ::1, localhost)", e)
		}
	}
	return nil
}

// isLoopback reports whether host (a name or an address, without port) is
// this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

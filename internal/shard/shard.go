// Package shard splits a run's tapes among N independent copies of a
// command (an AWS Batch array job, a Kubernetes Indexed Job): copy K keeps
// the tapes whose name hashes to K, so the N copies over the same inputs
// cover every tape exactly once. convert parquet and trade backtest share
// it, so one --shard K/N picks the same tapes in both.
package shard

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard is one part, K of N (K from 0). The zero value is not valid; All
// is the whole.
type Shard struct {
	K, N uint32
}

// All is the shard that keeps every tape.
var All = Shard{K: 0, N: 1}

// Parse reads "K/N" as given to --shard; "" is All.
func Parse(s string) (Shard, error) {
	if s == "" {
		return All, nil
	}
	a, b, ok := strings.Cut(s, "/")
	k, err1 := strconv.ParseUint(a, 10, 32)
	n, err2 := strconv.ParseUint(b, 10, 32)
	if !ok || err1 != nil || err2 != nil || n == 0 || k >= n {
		return Shard{}, fmt.Errorf("--shard %q: want K/N with 0 <= K < N", s)
	}
	return Shard{K: uint32(k), N: uint32(n)}, nil
}

// Of is the documented, stable shard of a tape name (PATH, or PATH:MEMBER
// for a tar member) among n: its FNV-1a 32-bit hash modulo n.
func Of(name string, n uint32) uint32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return h.Sum32() % n
}

// Keeps reports whether the tape named name belongs to s.
func (s Shard) Keeps(name string) bool { return s.N <= 1 || Of(name, s.N) == s.K }

// Tag names the shard in file and batch names: "s3of8".
func (s Shard) Tag() string { return fmt.Sprintf("s%dof%d", s.K, s.N) }

// String is the shard as --shard takes it: "3/8".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.K, s.N) }

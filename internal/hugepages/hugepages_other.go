//go:build !linux

package hugepages

func heap(int) int { return 0 }

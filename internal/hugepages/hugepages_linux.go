package hugepages

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"syscall"
)

// madvHugepage is MADV_HUGEPAGE, which the syscall package does not name.
const madvHugepage = 14

func heap(reserve int) int {
	if reserve > 0 {
		// A fresh span is known to be zero, so this maps address space
		// without writing to it; once collected, the heap reuses it.
		keep := make([]byte, reserve)
		runtime.KeepAlive(keep)
		runtime.GC()
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	s := bufio.NewScanner(f)
	for s.Scan() {
		start, end, ok := anonMapping(s.Bytes())
		// Only a mapping of at least 4 MiB is sure to hold a whole 2 MiB
		// page at a 2 MiB boundary, wherever it starts.
		if !ok || end-start < 4<<20 {
			continue
		}
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), madvHugepage); e == 0 {
			n++
		}
	}
	return n
}

// anonMapping reads one line of /proc/self/maps, "start-end perms offset
// dev inode [path]", and reports the bounds of a private, writable
// anonymous mapping. Such a mapping has no path, or, since Go 1.25 on
// kernels built with CONFIG_ANON_VMA_NAME, the name the runtime gives it
// ("[anon: Go: heap]"): without the second case the heap goes unmarked on
// those kernels.
func anonMapping(line []byte) (start, end uint64, ok bool) {
	fields := bytes.Fields(line)
	if len(fields) < 5 || string(fields[1]) != "rw-p" || string(fields[4]) != "0" {
		return 0, 0, false
	}
	if len(fields) > 5 && !bytes.HasPrefix(fields[5], []byte("[anon:")) {
		return 0, 0, false
	}
	lo, hi, found := bytes.Cut(fields[0], []byte("-"))
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseUint(string(lo), 16, 64)
	end, err2 := strconv.ParseUint(string(hi), 16, 64)
	if err1 != nil || err2 != nil || end < start {
		return 0, 0, false
	}
	return start, end, true
}

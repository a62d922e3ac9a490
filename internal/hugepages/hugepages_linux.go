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
		keep = nil
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
		// "start-end perms offset dev inode [path]": an anonymous mapping
		// has no path.
		fields := bytes.Fields(s.Bytes())
		if len(fields) != 5 || string(fields[1]) != "rw-p" {
			continue
		}
		lo, hi, ok := bytes.Cut(fields[0], []byte("-"))
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		// A mapping under 2 MiB cannot hold an aligned huge page.
		if err1 != nil || err2 != nil || end-start < 4<<20 {
			continue
		}
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), madvHugepage); e == 0 {
			n++
		}
	}
	return n
}

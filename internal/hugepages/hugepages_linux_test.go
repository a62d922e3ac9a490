package hugepages

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// After Heap, memory the program then allocates lies in a mapping the
// kernel has marked for huge pages (VmFlags "hg" in /proc/self/smaps).
func TestHeapMarksTheHeap(t *testing.T) {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(b), "[never]") {
		t.Skipf("transparent huge pages are not available here (%q, %v): nothing to mark", b, err)
	}
	if n := Heap(64 << 20); n == 0 {
		t.Fatal("Heap marked no mapping")
	}
	buf := make([]byte, 32<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	addr := uint64(uintptr(unsafe.Pointer(&buf[0])))
	flags, err := vmFlags(addr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("the mapping holding a fresh 32 MiB slice has VmFlags %q: not marked for huge pages", flags)
	}
}

// vmFlags returns the VmFlags line of the mapping holding addr.
func vmFlags(addr uint64) (string, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return "", err
	}
	defer f.Close()
	in := false
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		var lo, hi uint64
		if n, _ := fmt.Sscanf(line, "%x-%x ", &lo, &hi); n == 2 {
			in = lo <= addr && addr < hi
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmFlags:")), nil
		}
	}
	return "", fmt.Errorf("no mapping holds %#x", addr)
}

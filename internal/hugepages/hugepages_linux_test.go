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

// Lines as /proc/self/maps writes them: the first from a Go 1.26 program
// on this project's VM (a kernel without CONFIG_ANON_VMA_NAME), the named
// ones in the form the runtime's TestDecorateMappings expects.
func TestAnonMapping(t *testing.T) {
	for _, tc := range []struct {
		line       string
		start, end uint64
		ok         bool
	}{
		{"121d3000000-121d7400000 rw-p 00000000 00:00 0 ", 0x121d3000000, 0x121d7400000, true},
		{"c000000000-c004000000 rw-p 00000000 00:00 0                          [anon: Go: heap]", 0xc000000000, 0xc004000000, true},
		{"7f49ba700000-7f49bc800000 rw-p 00000000 00:00 0                      [anon: Go: page summary]", 0x7f49ba700000, 0x7f49bc800000, true},
		// Not anonymous, not writable or not private: left alone.
		{"0058e000-00599000 rw-p 0018e000 fe:00 10224809                           /tmp/perf4-maps/x", 0, 0, false},
		{"7ffe7b731000-7ffe7b752000 rw-p 00000000 00:00 0                          [stack]", 0, 0, false},
		{"121d0000000-121d3000000 ---p 00000000 00:00 0 ", 0, 0, false},
		{"7feba17cc000-7feba17d0000 r--p 00000000 00:00 0                          [vvar]", 0, 0, false},
		{"7f0000000000-7f0000400000 rw-s 00000000 00:01 1234                       /dev/zero (deleted)", 0, 0, false},
		{"", 0, 0, false},
	} {
		start, end, ok := anonMapping([]byte(tc.line))
		if ok != tc.ok || start != tc.start || end != tc.end {
			t.Errorf("anonMapping(%q) = %#x, %#x, %v; want %#x, %#x, %v", tc.line, start, end, ok, tc.start, tc.end, tc.ok)
		}
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

// Package hugepages asks the kernel to back the Go heap with transparent
// huge pages, for a command that touches a lot of fresh memory in a short
// run.
//
// Each 4 KiB page a process touches for the first time costs a page fault.
// On a virtual machine that backs guest memory lazily (Firecracker's, where
// tapedeck's figures are measured) a fault costs about 12 µs, so a convert
// parquet run that touches 120 MiB spends 0.3 s of its 0.9 CPU seconds in
// faults. Since Go 1.21.1 the runtime no longer marks its heap for huge
// pages (golang.org/issue/63334), and most distributions set transparent
// huge pages to "madvise": only memory a program asks for gets them. With
// the heap so marked, a fault maps 2 MiB at once: the same run takes 2,000
// faults instead of 28,000 (docs/performance.md, scripts/bench-parquet.sh).
package hugepages

// Heap reserves reserve bytes of heap, gives them back to the collector,
// and marks every private anonymous mapping of the process (the heap among
// them) for transparent huge pages, so that the next reserve bytes of heap
// the program uses fault in 2 MiB at a time. Nothing is touched: the
// reservation costs address space, not memory. It reports how many
// mappings it marked; 0 where the platform has no such advice (anything
// but Linux) or the kernel refuses it, which is harmless.
//
// Memory the heap grows into beyond the reservation keeps 4 KiB pages.
// Peak RSS grows by at most the part of a 2 MiB page a run does not use at
// each edge of what it touches.
func Heap(reserve int) int { return heap(reserve) }

// Command measure runs a command and prints its wall time, CPU time and
// peak resident memory as one tab-separated line (with -faults, its minor
// page faults too), for scripts/bench.sh. It exists so the benchmark
// script needs nothing but Go.
//
//	go run ./internal/tools/measure -label NAME -- COMMAND ARGS...
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	label := flag.String("label", "", "name printed in the first column")
	quiet := flag.Bool("quiet", true, "discard the command's standard output")
	faults := flag.Bool("faults", false, "print the minor page faults as a fifth column")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: measure [-label NAME] -- COMMAND ARGS...")
		os.Exit(2)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stderr = os.Stdin, os.Stderr
	if !*quiet {
		cmd.Stdout = os.Stdout
	}
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "measure:", err)
		os.Exit(1)
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var user, sys time.Duration
	var rssKiB, minflt int64
	if ru != nil {
		user = time.Duration(ru.Utime.Nano())
		sys = time.Duration(ru.Stime.Nano())
		rssKiB = ru.Maxrss // Linux reports KiB
		minflt = ru.Minflt
	}
	fmt.Printf("%s\t%.3f\t%.3f\t%.1f", *label, wall.Seconds(), (user + sys).Seconds(), float64(rssKiB)/1024)
	if *faults {
		// Memory a process touches first costs a fault a page; on a
		// VM that hands freed memory back to its host, a costly one.
		fmt.Printf("\t%d", minflt)
	}
	fmt.Println()
	if err != nil {
		fmt.Fprintln(os.Stderr, "measure:", err)
		os.Exit(1)
	}
}

package browser

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// killLeftovers kills what is left of a browser whose files are all under
// dir, and reports how many processes it found. Chromium passes
// --user-data-dir to each of its processes (zygote, renderer, network
// service), and the crash handler gets its database under the config
// directory; both are under the test's own dir, so the command line finds
// them. A
// child can outlive the main process for a moment, and one could still
// write into the directory while the test removes it; so it looks again
// until it finds nothing a few times in a row. It reads /proc, and finds
// nothing where there is none.
func killLeftovers(dir string) int {
	const (
		quiet = 3
		pause = 20 * time.Millisecond
		limit = 5 * time.Second
	)
	found := 0
	deadline := time.Now().Add(limit)
	for calm := 0; calm < quiet && time.Now().Before(deadline); time.Sleep(pause) {
		pids := processesUsing(dir)
		if len(pids) == 0 {
			calm++
			continue
		}
		calm = 0
		for _, pid := range pids {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill() // it may have exited since /proc was read
				found++
			}
		}
	}
	return found
}

// processesUsing returns the processes whose command line names dir: a
// path that is dir itself or under it. Chromium's child processes rewrite
// their command line into one string joined with spaces (their process
// title), so the path is looked for in the whole of it, not argument by
// argument.
func processesUsing(dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && names(cmdline, dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// names reports whether the command line has dir as a path, followed by a
// separator, the end of an argument, or the end.
func names(cmdline []byte, dir string) bool {
	for rest := cmdline; ; {
		i := bytes.Index(rest, []byte(dir))
		if i < 0 {
			return false
		}
		rest = rest[i+len(dir):]
		if len(rest) == 0 || rest[0] == '/' || rest[0] == 0 || rest[0] == ' ' {
			return true
		}
	}
}

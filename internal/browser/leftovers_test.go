package browser

import "testing"

func TestNames(t *testing.T) {
	const dir = "/tmp/TestX123/001"
	for _, c := range []struct {
		cmdline string
		want    bool
	}{
		{"/usr/lib/chromium/chromium\x00--user-data-dir=/tmp/TestX123/001/profile\x00about:blank", true},
		// A child's rewritten command line: one string joined with spaces.
		{"/usr/lib/chromium/chromium --type=renderer --user-data-dir=/tmp/TestX123/001/profile --lang=en-US", true},
		{"/usr/lib/chromium/chrome_crashpad_handler\x00--database=/tmp/TestX123/001/config/chromium/Crash Reports", true},
		{"chromium --user-data-dir=/tmp/TestX123/001", true},
		{"chromium\x00--user-data-dir=/tmp/TestX123/0010/profile", false},
		{"chromium\x00--user-data-dir=/tmp/TestX123/001x/profile /tmp/TestX123/001/", true},
		{"chromium\x00--user-data-dir=/tmp/other/profile", false},
	} {
		if got := names([]byte(c.cmdline), dir); got != c.want {
			t.Errorf("names(%q) = %v; want %v", c.cmdline, got, c.want)
		}
	}
}

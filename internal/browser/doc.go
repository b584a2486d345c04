// Package browser runs a headless Chromium for the tests of web pages the hub
// serves, such as the dashboard.
//
// When no Chromium is installed, a browser test skips, unless the
// environment variable ANZHI_BROWSER_REQUIRED is true (.ci/run sets it):
// then the test fails, so that browser tests cannot silently skip in CI. See
// [Required].
//
// Only tests import this package.
package browser

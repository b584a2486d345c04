// Package browser runs a headless Chromium for the tests of web pages the hub
// serves, such as the dashboard. [New] starts a fresh browser for one test,
// with its own profile in the test's temporary directory, and stops it when
// the test ends; a [Page] then drives the browser's one tab through chromedp
// and records what the page did.
//
// A page test checks what a person would see and what the page sends out:
//
//   - every network request the page makes is recorded ([Page.Requests]),
//     and the loopback guard ([Page.RequireLoopback], [CheckLoopback]) fails
//     the test when one of them leaves the machine: a page of this project
//     loads nothing from outside hosts;
//   - uncaught JavaScript exceptions fail the test, and console errors are
//     collected ([Page.Exceptions], [Page.ConsoleErrors]);
//   - paint timing ([Page.Timing]) reports first-contentful-paint and the
//     navigation milestones;
//   - full-page screenshots ([Page.Screenshot], [Page.SaveScreenshot]) go to
//     the test's artifact directory or to a given path;
//   - keyboard navigation ([Page.Tab]) reports which element has the focus.
//
// When no Chromium is installed, New skips the test, unless the environment
// variable ANZHI_BROWSER_REQUIRED is true (.ci/run sets it): then the test
// fails, so that browser tests cannot silently skip in CI. See [Required].
//
// Only tests import this package.
package browser

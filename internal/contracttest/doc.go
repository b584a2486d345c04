// Package contracttest holds the shared contract suite: every fixture under
// schemas/testdata gets the same verdict from the publishers library's check
// before sending and from a real hub judging it after it was sent unchecked.
// It has no code of its own, only the test (contract_test.go); it lives
// apart from both sides because it needs the publishers library, the hub and
// internal/hubtest at once, and belongs to neither.
package contracttest

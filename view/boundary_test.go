package view

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainImportsNoNATS: the domain packages (view, fact, schemas,
// idcard) import nothing from nats-io, directly or through another package,
// so that publishers, projections and tests use them without a server.
func TestDomainImportsNoNATS(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	for _, pkg := range []string{"../view", "../fact", "../schemas", "../idcard"} {
		out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.Contains(dep, "nats-io") {
				t.Errorf("%s depends on %s: the domain must not import NATS", pkg, dep)
			}
		}
	}
}

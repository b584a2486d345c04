package identities

import (
	"fmt"
	"strings"

	"github.com/xianyang/anzhi/schemas"
)

// Table renders the permission table of Plan as Markdown: what each
// identity may publish and subscribe to, and how its facts reach the hub.
// SECURITY.md holds it (TestSecurityTableCurrent keeps it current).
func Table(cat *schemas.Catalog) string {
	var b strings.Builder
	b.WriteString("| identity | role | account | may publish on | may subscribe to | reaches the intake as |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	code := func(xs []string) string {
		if len(xs) == 0 {
			return "—"
		}
		out := make([]string, len(xs))
		for i, x := range xs {
			out[i] = "`" + x + "`"
		}
		return strings.Join(out, " ")
	}
	for _, id := range Plan(cat) {
		var intake []string
		for _, im := range id.Imports {
			intake = append(intake, im.Remote)
		}
		publish, subscribe := code(id.Publish), code(id.Subscribe)
		if id.Role == RoleHub {
			publish, subscribe = "everything (the only manager of JetStream)", "everything"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", id.Name, id.Role, id.Account, publish, subscribe, code(intake))
	}
	return b.String()
}

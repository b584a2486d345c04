package view

import (
	"testing"

	"github.com/xianyang/anzhi/schemas"
)

// TestPlanRestoreRefusesDamage: a snapshot's plan that names what it lacks
// is refused with an error, not a crash when indexed.
func TestPlanRestoreRefusesDamage(t *testing.T) {
	cat := schemas.MustLoad()
	for _, doc := range []string{
		`not json`,
		`{"units":[]}`,
		`{"tasks":{},"meetings":{"JM-2021Q1":null},"schemes":{},"units":[]}`,
		`{"tasks":{},"meetings":{"JM-2021Q1":{"quarter":"2021Q1","items":["JM-2021Q1-I1"]}},"schemes":{},"units":[]}`,
		`{"tasks":{"RL01-1":null},"meetings":{},"schemes":{},"units":[]}`,
		`{"tasks":{},"meetings":{},"schemes":{"610424/2021":null},"units":[]}`,
		`{"tasks":{},"meetings":{},"schemes":{},"units":[{"t":"RL01-1","u":"org"}]}`,
	} {
		p := newPlan(cat)
		if err := p.restore(doc); err == nil {
			t.Errorf("restored %s", doc)
		}
	}
	good := `{"tasks":{"RL01-1":{"id":"RL01-1","owner":"org","title":"x","reg":[0,0]}},"meetings":{},"schemes":{},"units":[{"t":"RL01-1","u":"org"}]}`
	if err := newPlan(cat).restore(good); err != nil {
		t.Errorf("a sound plan: %v", err)
	}
}

package report

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// TestEveryValueLabelled: every indicator and assessment line, board
// status, supervision state, handling stage and milestone target has a
// Chinese label, and the indicators are named as the dashboard names them.
func TestEveryValueLabelled(t *testing.T) {
	cat := schemas.MustLoad()
	b, err := os.ReadFile("../../dashboard/messages.json")
	if err != nil {
		t.Fatal(err)
	}
	var messages map[string][2]string
	if err := json.Unmarshal(b, &messages); err != nil {
		t.Fatal(err)
	}
	for _, in := range cat.Indicators() {
		if got, want := indicatorLabels[in.Rate], messages["indicator."+in.Rate][0]; got == "" || got != want {
			t.Errorf("indicator %s: label %q, the dashboard's %q", in.Rate, got, want)
		}
	}
	for _, l := range cat.Board().Assessment.Lines {
		if indicatorLabels[l.Line] == "" {
			t.Errorf("assessment line %s has no label", l.Line)
		}
	}
	for name, keys := range map[string][]string{
		"board status":      view.TaskStatuses(),
		"supervision state": view.SupervisionStates(),
		"handling stage":    view.HandlingStages(),
		"grade":             {"green", "amber", "red"},
		"target":            {"complete", "basically_complete", "significant_progress", "long_term"},
	} {
		m := map[string]map[string]string{"board status": boardLabels, "supervision state": supervisionLabels,
			"handling stage": handlingLabels, "grade": gradeLabels, "target": targetLabels}[name]
		for _, k := range keys {
			if m[k] == "" {
				t.Errorf("%s %s has no label", name, k)
			}
		}
	}
	for _, f := range []string{"task.progress", "issue.report"} {
		fam, _ := cat.Family(f)
		var doc struct {
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(fam.Schema, &doc); err != nil {
			t.Fatal(err)
		}
		for field, m := range map[string]map[string]string{"status": progressLabels, "severity": severityLabels, "kind": answerLabels} {
			for _, v := range doc.Properties[field].Enum {
				if v != "problem" && m[v] == "" {
					t.Errorf("%s %s %q has no label", f, field, v)
				}
			}
		}
	}
}

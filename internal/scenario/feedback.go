package scenario

// Problems fed back, the answers to them, and project funds: the facts a
// quarterly report's ledgers of feedback and funds are made of.

// Problem is a unit's problem fed back (issue.report of kind problem) about
// an area, reported on a day; about are pairs of fields naming what it
// concerns (warning_id, task_id, site_id, household_id and their values).
func Problem(id, dept, area, reported, description string, about ...string) Item {
	d := map[string]any{"report_id": id, "department": dept, "kind": "problem", "area": area, "reported_on": reported,
		"severity": "high", "description": description}
	for i := 0; i+1 < len(about); i += 2 {
		d[about[i]] = about[i+1]
	}
	return item(dept, "issue.report", Day(reported), d)
}

// Answer is a unit's acknowledgement, action or rectification (kind) of a
// warning, reported on a day; about are further fields as for Problem.
func Answer(id, dept, kind, warning, area, reported string, about ...string) Item {
	d := map[string]any{"report_id": id, "department": dept, "kind": kind, "warning_id": warning, "area": area,
		"reported_on": reported, "description": "已签收并整改"}
	for i := 0; i+1 < len(about); i += 2 {
		d[about[i]] = about[i+1]
	}
	return item(dept, "issue.report", Day(reported), d)
}

// Funds is a finance.funds movement of a project in an area: allocated,
// disbursed or returned, of an amount in yuan, to a resettlement site when
// site is given (else to another area), dated on a day.
func Funds(dept, project, area, site, action string, yuan float64, dated string) Item {
	d := map[string]any{"project_id": project, "project_name": "后续扶持项目" + project[len(project)-2:], "area": area,
		"action": action, "amount_yuan": yuan, "target": "other_area", "purpose": "industry", "fund_source": "municipal",
		"dated_on": dated}
	if site != "" {
		d["target"], d["site_id"] = "resettlement_site", site
	}
	return item(dept, "finance.funds", Day(dated), d)
}

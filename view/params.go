package view

import (
	"fmt"

	"github.com/xianyang/anzhi/schemas"
)

// params are the rule thresholds read from schemas/rules.json.
type params struct {
	largeSitePersons  int64    // R1: 800人以上
	factoryHouseholds int64    // R2: 300户以上
	projectShare      float64  // R3: 不少于30%
	projectQuotaKinds []string // R3: the kinds of project the share applies to
	trainMonths       int      // R5: 6个月内
	trainShare        float64  // R5: 50%
	trainMin          int64    // R5: smallest cohort judged
	schoolMinAge      int      // R6
	schoolMaxAge      int
	pensionMinAge     int // R8
	deedGraceDays     int // R9
	deedDeadline      day // R9: the annex's 2020年底前 (附件10-2)
	housingDeadline   day // R20: 2020年底前完成 (附件12-2)
	linkageDeadline   day // R21: 2020年底前基本完成 (附件10-4)
	hukouGraceDays    int // R10
	reclaimGraceDays  int // R11
	infraOwners       map[string][]string
	freshnessDays     int // R18
	ackDays           int // days to acknowledge a warning before it escalates
	board             boardParams
	meetingsFrom      quarter // R16: the first quarter judged
	schemeWeight      float64 // R19: 不低于30%
	schemeFromYear    int     // R19: the first year judged
	schemeByMonth     int     // R19: a year's scheme is due by this day
	schemeByDay       int
	findingDays       int // R22: days to rectify a finding that names no deadline
	secureDeadline    day // R23: 2020年底前
	secureGraceDays   int // R23: days after moving before a household is judged
}

func loadParams(rb *schemas.RuleBook) (params, error) {
	p := params{ackDays: 7, freshnessDays: rb.FreshnessDays}
	decode := func(id string, v any) error {
		r, ok := rb.Rule(id)
		if !ok {
			return fmt.Errorf("view: rule %s missing from rules.json", id)
		}
		return r.DecodeParams(v)
	}
	var r1 struct {
		Persons int64 `json:"persons"`
	}
	var r2 struct {
		Households int64 `json:"households"`
	}
	var r3 struct {
		Share float64  `json:"share"`
		Kinds []string `json:"kinds"`
	}
	var r9, r20, r21, r23 struct {
		Deadline string `json:"deadline"`
	}
	var r5 struct {
		Months     int     `json:"months"`
		Share      float64 `json:"share"`
		MinTrained int64   `json:"min_trained"`
	}
	var r6 struct {
		MinAge int `json:"min_age"`
		MaxAge int `json:"max_age"`
	}
	var r8 struct {
		MinAge int `json:"min_age"`
	}
	var grace struct {
		GraceDays int `json:"grace_days"`
	}
	var r12 struct {
		Items map[string][]string `json:"items"`
	}
	var r18 struct {
		Days int `json:"days"`
	}
	for _, step := range []struct {
		id string
		v  any
	}{{"R1", &r1}, {"R2", &r2}, {"R3", &r3}, {"R5", &r5}, {"R6", &r6}, {"R8", &r8}, {"R9", &r9}, {"R12", &r12}, {"R18", &r18}, {"R20", &r20}, {"R21", &r21}, {"R23", &r23}} {
		if err := decode(step.id, step.v); err != nil {
			return p, err
		}
	}
	p.largeSitePersons, p.factoryHouseholds, p.projectShare, p.projectQuotaKinds = r1.Persons, r2.Households, r3.Share, r3.Kinds
	for _, dl := range []struct {
		id  string
		s   string
		dst *day
	}{{"R9", r9.Deadline, &p.deedDeadline}, {"R20", r20.Deadline, &p.housingDeadline}, {"R21", r21.Deadline, &p.linkageDeadline}, {"R23", r23.Deadline, &p.secureDeadline}} {
		if dl.s == "" {
			continue
		}
		if *dl.dst = parseDay(dl.s); *dl.dst == 0 {
			return p, fmt.Errorf("view: rules.json %s deadline %q is not a date (2006-01-02)", dl.id, dl.s)
		}
	}
	p.trainMonths, p.trainShare, p.trainMin = r5.Months, r5.Share, r5.MinTrained
	p.schoolMinAge, p.schoolMaxAge, p.pensionMinAge = r6.MinAge, r6.MaxAge, r8.MinAge
	p.infraOwners = r12.Items
	if r18.Days > 0 {
		p.freshnessDays = r18.Days
	}
	for _, g := range []struct {
		id  string
		dst *int
	}{{"R9", &p.deedGraceDays}, {"R10", &p.hukouGraceDays}, {"R11", &p.reclaimGraceDays}, {"R23", &p.secureGraceDays}} {
		grace.GraceDays = 0
		if err := decode(g.id, &grace); err != nil {
			return p, err
		}
		*g.dst = grace.GraceDays
	}
	if err := decode("R15", &p.board); err != nil {
		return p, err
	}
	if p.board.AtRiskDays <= 0 || p.board.StaleDays <= 0 || p.board.Basically <= 0 || p.board.Significant <= 0 {
		return p, fmt.Errorf("view: rules.json R15 lacks a threshold (at_risk_days, stale_days, basically_complete_percent, significant_progress_percent)")
	}
	var r16 struct {
		From string `json:"from"`
	}
	if err := decode("R16", &r16); err != nil {
		return p, err
	}
	var ok bool
	if p.meetingsFrom, ok = parseQuarter(r16.From); !ok {
		return p, fmt.Errorf("view: rules.json R16 from %q is not a quarter (2020Q1)", r16.From)
	}
	var r19 struct {
		Weight      float64 `json:"weight"`
		FromYear    int     `json:"from_year"`
		PublishedBy string  `json:"published_by"`
	}
	if err := decode("R19", &r19); err != nil {
		return p, err
	}
	if _, err := fmt.Sscanf(r19.PublishedBy, "%d-%d", &p.schemeByMonth, &p.schemeByDay); err != nil || r19.Weight <= 0 || r19.FromYear < 2000 ||
		p.schemeByMonth < 1 || p.schemeByMonth > 12 || p.schemeByDay < 1 || p.schemeByDay > 31 {
		return p, fmt.Errorf("view: rules.json R19 needs weight, from_year and published_by (MM-DD), got %+v", r19)
	}
	p.schemeWeight, p.schemeFromYear = r19.Weight, r19.FromYear
	var r22 struct {
		DefaultDays int `json:"default_days"`
	}
	if err := decode("R22", &r22); err != nil {
		return p, err
	}
	if p.findingDays = r22.DefaultDays; p.findingDays <= 0 {
		return p, fmt.Errorf("view: rules.json R22 needs default_days")
	}
	if p.largeSitePersons <= 0 || p.factoryHouseholds <= 0 || p.trainMonths <= 0 || p.schoolMaxAge <= 0 || len(p.projectQuotaKinds) == 0 {
		return p, fmt.Errorf("view: rules.json lacks a threshold (R1 persons, R2 households, R3 kinds, R5 months, R6 ages)")
	}
	for _, it := range infraItems {
		if len(p.infraOwners[it]) == 0 {
			return p, fmt.Errorf("view: rules.json R12 names no owner for infrastructure item %q", it)
		}
	}
	return p, nil
}

package view

import (
	"strconv"
	"strings"
	"time"
)

// Presentation: how the read types show times and what they say about
// what the view does not know yet. The view keeps every time in UTC (and
// its digest hashes instants, not zones); people in Xianyang read them in
// China Standard Time. This file is the one place that decides how.

// chinaTime is China Standard Time, UTC+8 all year (China has no daylight
// saving time), fixed so that nothing depends on the machine's tz database.
var chinaTime = time.FixedZone("CST", 8*3600)

// ChinaTime returns the zone the read types show times in: China Standard
// Time (UTC+8, named CST).
func ChinaTime() *time.Location { return chinaTime }

// shown returns t in China Standard Time; the zero time stays zero (so
// that omitzero still omits it).
func shown(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(chinaTime)
}

// dateOn returns the calendar date of t in China Standard Time, as the
// departments write their effective dates (2020-09-01); "" for the zero time.
func dateOn(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(chinaTime).Format(time.DateOnly)
}

// ShowTime formats a time for people: 2020-09-01 08:00:00 CST, or "-" for
// the zero time (not known yet).
func ShowTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(chinaTime).Format("2006-01-02 15:04:05 CST")
}

// ShowDate formats the date of a time for people: 2020-09-01 (China
// Standard Time), or "-" for the zero time.
func ShowDate(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return dateOn(t)
}

// Notes the read types carry, so that what the view does not know yet is
// said, not shown as zeros.
const (
	// NoteNoClock explains an absent as_of.
	NoteNoClock = "as_of absent: the hub has not recorded its clock yet (no hub.tick folded); " +
		"it does within seconds of running, and time-dependent rules are judged from then on"
	// NoteHouseholdNotRegistered explains a household without size.
	NoteHouseholdNotRegistered = "not yet registered: known only through facts about its members " +
		"(no registry.household from poverty or the county government yet); size and labour count unknown, " +
		"and the household is not counted in the indicators"
)

// noteMembersNotRegistered explains members that facts name but the
// registry does not have yet.
func noteMembersNotRegistered(n int) string {
	return strconv.Itoa(n) + " member(s) not yet registered (no registry.person yet): shown, " +
		"but not counted in the household's obligations or the indicators"
}

// noteNotRegistered explains an area whose entities are partly known.
func noteNotRegistered(p Population) string {
	return strconv.FormatInt(p.Households.NotYetRegistered, 10) + " household(s) and " +
		strconv.FormatInt(p.Persons.NotYetRegistered, 10) + " person(s) known only through other departments' facts, " +
		"not yet registered (registry.household / registry.person): see population; indicators and rates count registered ones only"
}

// areaNotes are the notes of an area read: what its numbers leave out.
func areaNotes(clock time.Time, p Population) []string {
	var notes []string
	if clock.IsZero() {
		notes = append(notes, NoteNoClock)
	}
	if p.Households.NotYetRegistered > 0 || p.Persons.NotYetRegistered > 0 {
		notes = append(notes, noteNotRegistered(p))
	}
	return notes
}

// presentWarning shows a warning's times in China Standard Time and its
// evidence's effective dates as dates.
func presentWarning(w *Warning) {
	w.Since, w.RaisedAt, w.Due, w.Acknowledged = shown(w.Since), shown(w.RaisedAt), shown(w.Due), shown(w.Acknowledged)
	for i := range w.Evidence {
		w.Evidence[i].Time = shown(w.Evidence[i].Time)
		w.Evidence[i].EffectiveOn = dateOn(w.Evidence[i].Time)
	}
}

// ifRegistered is a registry figure (size, labour count), or nil while the
// registry has not said it: not a misleading 0.
func ifRegistered(registered bool, n uint8) *int {
	if !registered {
		return nil
	}
	x := int(n)
	return &x
}

// householdNotes are the notes of a household read.
func householdNotes(h *HouseholdView) []string {
	var notes []string
	if !h.Registered {
		notes = append(notes, NoteHouseholdNotRegistered)
	}
	n := 0
	for _, m := range h.Members {
		if !m.Registered {
			n++
		}
	}
	if n > 0 {
		notes = append(notes, noteMembersNotRegistered(n))
	}
	return notes
}

// Thousands writes n with thousands separators: 1,234,567.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

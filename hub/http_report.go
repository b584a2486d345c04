package hub

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/subscribers/report"
	"github.com/xianyang/anzhi/view"
)

// The quarterly report for the joint meeting over HTTP:
// GET /api/v1/reports/{quarter}.{xlsx|html|md}[?county=]. A quarter that
// has ended is reported on the recorded cut at its last instant and
// compared with the previous quarter's cut (quarterView), so a report of
// it is the same however many facts arrived since; the current quarter on
// the live view.

// reportAccess lets the lead office and the auditors read every report, a
// county government its own county's, and no department.
func reportAccess(id identities.Identity, r *http.Request) error {
	switch {
	case overseer(id):
		return nil
	case id.Role == identities.RoleCounty:
		return narrowTo(r, "county", countyOf(id), id)
	}
	return forbidden(id, "may not read the quarterly report: the lead office, the auditors and each county government (its own county) do")
}

// report serves a quarterly report.
func (a *api) report(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	quarter, ext, ok := strings.Cut(file, ".")
	if !ok || quarter == "" {
		writeError(w, badParam("file", file, "want the quarter and a format, e.g. 2025Q4.html (xlsx, html or md)"))
		return
	}
	format, err := report.ParseFormat(ext)
	if err != nil {
		writeError(w, badParam("format", ext, "not a format of the report: want xlsx, html or md (e.g. %s.xlsx)", quarter))
		return
	}
	county := r.URL.Query().Get("county")
	if _, ok := a.cat.County(county); county != "" && !ok {
		writeError(w, badParam("county", county, "not a county of %s (six-digit code such as 610424)", a.cat.City.Name))
		return
	}
	body, seq, err := a.buildReport(r.Context(), quarter, county, format)
	if err != nil {
		writeError(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", format.ContentType())
	h.Set("X-Content-Type-Options", "nosniff")
	disposition := "inline"
	if format == report.XLSX {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", disposition+`; filename="`+report.FileName(quarter, county, format)+`"`)
	if format == report.HTML {
		// The page loads nothing: its style is inline, its charts SVG.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'")
	}
	h.Set(fact.HeaderCutSeq, strconv.FormatUint(seq, 10))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// buildReport builds a quarter's report (of a county, "" for the city)
// and returns it written in the format, and the log sequence of the view
// it was read from.
func (a *api) buildReport(ctx context.Context, quarter, county string, format report.Format) ([]byte, uint64, error) {
	qv, err := a.quarterView(ctx, quarter)
	if err != nil {
		return nil, 0, err
	}
	start, _, _ := view.ParseQuarter(qv.quarter)
	pv, err := a.quarterView(ctx, view.QuarterOf(start.AddDate(0, 0, -1)))
	if err != nil {
		return nil, 0, err
	}
	in := report.Input{Quarter: qv.quarter, View: qv.v, Previous: pv.v, AsOf: qv.asOf, Closed: qv.closed, County: county}
	if !qv.closed {
		// The live view stands at its recorded clock: the same view gives
		// the same report.
		in.AsOf = qv.v.Clock()
	}
	rep, err := report.Build(a.cat, in)
	if errors.Is(err, report.ErrInvalid) {
		return nil, 0, badParam("quarter", quarter, "%v", err)
	}
	if err != nil {
		return nil, 0, err
	}
	var b bytes.Buffer
	if err := rep.Write(&b, format); err != nil {
		return nil, 0, err
	}
	return b.Bytes(), rep.Seq, nil
}

// quarterCutAt is the instant a quarter is cut at: its last instant, or
// what the api's cutOfQuarter (set by tests) says.
func (a *api) quarterCutAt(quarter string, last time.Time) time.Time {
	if a.cutOfQuarter != nil {
		return a.cutOfQuarter(quarter, last)
	}
	return last
}

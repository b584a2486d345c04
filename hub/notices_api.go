package hub

import (
	"errors"
	"net/http"

	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/subscribers"
)

// This file is the HTTP API of the notices: a unit's daily digest and its
// webhook deliveries (notices_service.go reads them).

// ownUnit lets a department or county government read what is its own
// (dept= is narrowed to it), and the lead office and the auditors any
// unit's.
func ownUnit(id identities.Identity, r *http.Request) error {
	if overseer(id) {
		return nil
	}
	return narrowTo(r, "dept", id.Dept, id)
}

// unitParam is the dept parameter of a notice route: required, a unit.
func (a *api) unitParam(r *http.Request) (string, error) {
	dept := r.URL.Query().Get("dept")
	if dept == "" {
		return "", badParam("dept", "", "required: the unit (hrss, county/610424)")
	}
	if err := checkUnit(a.cat, dept); err != nil {
		return "", badParam("dept", dept, "%v", err)
	}
	return dept, nil
}

// noticeDigest answers GET /api/v1/notices/digest.
func (a *api) noticeDigest(r *http.Request) (any, error) {
	dept, err := a.unitParam(r)
	if err != nil {
		return nil, err
	}
	return a.h.NoticeDigest(r.Context(), dept, r.URL.Query().Get("date"))
}

// deliveries answers GET /api/v1/notices/deliveries.
func (a *api) deliveries(r *http.Request) (any, error) {
	dept, err := a.unitParam(r)
	if err != nil {
		return nil, err
	}
	limit, err := noticeLimit(r.URL.Query().Get("limit"))
	if err != nil {
		return nil, err
	}
	l, err := a.h.Deliveries(r.Context(), dept, limit)
	if errors.Is(err, subscribers.ErrUnknownUnit) {
		return nil, badParam("dept", dept, "%v", err)
	}
	return l, err
}

package hub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/xianyang/anzhi/subscribers"
)

// events answers GET /api/v1/events: the log's entries in log order, as
// anzhi replay gives them, one JSON object a line (application/x-ndjson).
// A page holds at most limit entries; when there may be more, the Link
// header names the next page (after=<last sequence>).
func (a *api) events(w http.ResponseWriter, r *http.Request) {
	qs := r.URL.Query()
	q := subscribers.ReplayQuery{Family: qs.Get("family"), County: qs.Get("county"), Dept: qs.Get("dept"), Entity: qs.Get("entity")}
	var err error
	flag := func(name string) bool {
		if err != nil {
			return false
		}
		v := qs.Get(name)
		if v == "" {
			return false
		}
		b, perr := strconv.ParseBool(v)
		if perr != nil {
			err = badParam(name, v, "not true or false")
		}
		return b
	}
	q.IncludeRejected, q.IncludeHub = flag("include_rejected"), flag("include_hub")
	if err == nil && qs.Get("after") != "" {
		var after uint64
		if after, err = strconv.ParseUint(qs.Get("after"), 10, 64); err != nil {
			err = badParam("after", qs.Get("after"), "not a log sequence number (use the next page's link)")
		}
		q.FromSeq = after + 1
	}
	if s := qs.Get("until"); err == nil && s != "" {
		if n, perr := strconv.ParseUint(s, 10, 64); perr == nil {
			q.ToSeq = n
		} else if q.Until, perr = time.Parse(time.RFC3339, s); perr != nil {
			err = badParam("until", s, "neither a log sequence nor an RFC 3339 time")
		}
	}
	if s := qs.Get("since"); err == nil && s != "" {
		if q.Since, err = time.Parse(time.RFC3339, s); err != nil {
			err = badParam("since", s, "not an RFC 3339 time such as 2021-06-01T00:00:00Z")
		}
	}
	if err == nil {
		q.Limit, err = parseLimit(qs.Get("limit"))
	}
	if err == nil && q.Family != "" {
		if _, ok := a.cat.Family(q.Family); !ok {
			err = badParam("family", q.Family, "not a family of the catalog")
		}
	}
	if err == nil && q.County != "" && !a.cat.ValidArea(q.County) {
		err = badParam("county", q.County, "not a county of %s", a.cat.City.Name)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	var last uint64
	n, err := subscribers.Replay(r.Context(), a.h.js, q, func(e subscribers.ReplayedEntry) error {
		last = e.Seq
		return enc.Encode(e)
	})
	if err != nil {
		writeError(w, fmt.Errorf("%w: %v", errUnavailable, err))
		return
	}
	if n >= q.Limit && last > 0 {
		next := *r.URL
		v := next.Query()
		v.Set("after", strconv.FormatUint(last, 10))
		next.RawQuery = v.Encode()
		w.Header().Set("Link", "<"+(&url.URL{Path: next.Path, RawQuery: next.RawQuery}).String()+`>; rel="next"`)
	}
	w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body.Bytes())
}

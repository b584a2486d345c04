package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/xianyang/anzhi/subscribers"
)

// Handler returns the hub's HTTP API.
func (h *Hub) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", h.serveReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(h.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/v1/rejections", h.serveRejections)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such resource: %s %s", r.Method, r.URL.Path))
	})
	return mux
}

func (h *Hub) serveReady(w http.ResponseWriter, r *http.Request) {
	st, err := h.Status(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	code := http.StatusOK
	if !st.CaughtUp() {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"ready": st.CaughtUp(), "status": st})
}

func (h *Hub) serveRejections(w http.ResponseWriter, r *http.Request) {
	q := subscribers.RejectionQuery{Department: r.URL.Query().Get("dept")}
	var err error
	if s := r.URL.Query().Get("after"); s != "" {
		if q.After, err = strconv.ParseUint(s, 10, 64); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("after=%q is not a log sequence number", s))
			return
		}
	}
	if s := r.URL.Query().Get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil || q.Limit < 1 || q.Limit > 1000 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit=%q must be an integer from 1 to 1000", s))
			return
		}
	}
	if s := r.URL.Query().Get("since"); s != "" {
		if q.Since, err = time.Parse(time.RFC3339, s); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("since=%q is not an RFC 3339 time", s))
			return
		}
	}
	if q.Department != "" {
		if _, err := h.cfg.Catalog.ParsePublisher(q.Department); err != nil && q.Department != "unknown" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("dept: %v", err))
			return
		}
	}
	items, next, err := subscribers.Rejections(r.Context(), h.js, q)
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, subscribers.ErrBadQuery) {
			code = http.StatusBadRequest
		}
		writeError(w, code, err.Error())
		return
	}
	if items == nil {
		items = []subscribers.LoggedRejection{}
	}
	page := map[string]any{"items": items}
	if next > 0 {
		page["next"] = strconv.FormatUint(next, 10)
	}
	writeJSON(w, http.StatusOK, page)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"error": msg, "status": code})
}

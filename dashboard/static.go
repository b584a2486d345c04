package dashboard

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
)

// staticHandler serves the embedded assets with a strong ETag, a day of
// caching, and gzip when the browser takes it (compressed once).
func staticHandler() http.Handler {
	var mu sync.Mutex
	type asset struct {
		plain, gz   []byte
		etag, ctype string
	}
	cache := map[string]*asset{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		mu.Lock()
		a := cache[name]
		if a == nil {
			b, err := fs.ReadFile(staticFS, name)
			if err != nil {
				mu.Unlock()
				http.Error(w, "no such asset: /"+name, http.StatusNotFound)
				return
			}
			sum := sha256.Sum256(b)
			a = &asset{plain: b, gz: gzipped(b), etag: `"` + hex.EncodeToString(sum[:8]) + `"`,
				ctype: mime.TypeByExtension(path.Ext(name))}
			if a.ctype == "" {
				a.ctype = "application/octet-stream"
			}
			cache[name] = a
		}
		mu.Unlock()
		h := w.Header()
		h.Set("Content-Type", a.ctype)
		h.Set("ETag", a.etag)
		h.Set("Cache-Control", "public, max-age=86400")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Vary", "Accept-Encoding")
		if r.Header.Get("If-None-Match") == a.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		body := a.plain
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			body = a.gz
		}
		_, _ = w.Write(body)
	})
}

func acceptsGzip(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept-Encoding"), "gzip")
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// writeCompressed writes a page, gzipped when the browser takes it.
func writeCompressed(w http.ResponseWriter, r *http.Request, code int, b []byte) {
	w.Header().Set("Vary", "Accept-Encoding")
	if acceptsGzip(r) && len(b) > 1024 {
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(code)
		zw := gzip.NewWriter(w)
		_, _ = zw.Write(b)
		_ = zw.Close()
		return
	}
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

package browser

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Screenshot saves a full-page PNG of the tab as name (".png" is added when
// missing) in the test's artifact directory, logs its path and returns it.
// The directory is t.ArtifactDir(): with go test -artifacts -outputdir DIR
// (as .ci/run runs) it is kept under DIR/_artifacts/; without -artifacts it
// is a temporary directory removed after the test.
//
// Go's documentation puts the artifact directory under <package>/<test>/,
// but Go 1.26 drops both (the path it builds starts with a slash, which
// filepath.Localize refuses) and uses a bare random name; so the file goes
// in a directory named after the test, unless the path names it already.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		p.t.Fatalf("browser: screenshot name %q is not a plain file name", name)
	}
	if !strings.HasSuffix(name, ".png") {
		name += ".png"
	}
	dir := p.t.ArtifactDir()
	if test := strings.ReplaceAll(p.t.Name(), "/", "__"); !strings.Contains(dir, test) {
		dir = filepath.Join(dir, test)
	}
	path := filepath.Join(dir, name)
	p.SaveScreenshot(path)
	if kept() {
		p.t.Logf("browser: screenshot %s", path)
	} else {
		p.t.Logf("browser: screenshot %s (removed after the test; go test -artifacts -outputdir DIR keeps it)", path)
	}
	return path
}

// SaveScreenshot saves a full-page PNG of the tab to path, making its
// directory if needed: the primitive for a screenshot kept in the
// repository, such as one a test writes when run with its own update flag.
func (p *Page) SaveScreenshot(path string) {
	p.t.Helper()
	png, err := run(p, fullPagePNG)
	if err != nil {
		p.t.Fatalf("browser: screenshot: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatalf("browser: screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatalf("browser: screenshot: %v", err)
	}
}

// fullPagePNG captures the whole page, beyond the viewport, at its CSS size.
func fullPagePNG(ctx context.Context, t *chromedp.Target) ([]byte, error) {
	m, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
	if err != nil {
		return nil, fmt.Errorf("page size: %w", err)
	}
	if m.CSSContentSize == nil {
		return nil, fmt.Errorf("page size: the browser reported none")
	}
	w, h := math.Ceil(m.CSSContentSize.Width), math.Ceil(m.CSSContentSize.Height)
	r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format:                page.CaptureScreenshotFormatPng,
		Clip:                  &page.Viewport{Width: w, Height: h, Scale: 1},
		FromSurface:           new(true),
		CaptureBeyondViewport: new(true),
	})
	if err != nil {
		return nil, fmt.Errorf("capturing %v×%v: %w", w, h, err)
	}
	return r.Data, nil
}

// kept reports whether the test binary runs with -test.artifacts, so that
// ArtifactDir is kept after the test.
func kept() bool {
	f := flag.Lookup("test.artifacts")
	return f != nil && f.Value.String() == "true"
}

package browser

import (
	"bytes"
	"image/png"
	"os"
	"testing"
)

func TestScreenshot(t *testing.T) {
	srv := server(t)
	for _, c := range []struct {
		name  string
		opts  []Option
		width int
	}{
		{"desktop", nil, DesktopWidth},
		{"phone", []Option{Phone()}, PhoneWidth},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := New(t, c.opts...)
			p.Navigate(srv.URL, "#status.done")
			if w := Eval[int](p, "window.innerWidth"); w != c.width {
				t.Errorf("window.innerWidth = %d; want %d", w, c.width)
			}
			path := p.Screenshot(c.name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s is not a PNG: %v", path, err)
			}
			// The page is 2000 px taller than any screen: a full-page shot.
			if b := img.Bounds(); b.Dx() != c.width || b.Dy() < 2000 {
				t.Errorf("screenshot is %v; want %d wide and the whole page high", b.Size(), c.width)
			}

			to := t.TempDir() + "/docs/page.png"
			p.SaveScreenshot(to)
			if data, err := os.ReadFile(to); err != nil || !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
				t.Errorf("SaveScreenshot(%s): %v; want a PNG there", to, err)
			}
		})
	}
}

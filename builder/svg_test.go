package builder

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"testing"
)

func TestIconSize(t *testing.T) {
	var p, j bytes.Buffer
	if err := png.Encode(&p, image.NewRGBA(image.Rect(0, 0, 80, 40))); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&j, image.NewRGBA(image.Rect(0, 0, 33, 64)), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		data   []byte
		format string
		w, h   int
	}{
		{p.Bytes(), "png", 80, 40},
		{j.Bytes(), "jpg", 33, 64},
		{[]byte(`<svg xmlns="http://www.w3.org/2000/svg" width="64px" height="64"/>`), "svg", 64, 64},
		{[]byte(`<?xml version="1.0"?><svg viewBox="0 0 128 96"/>`), "svg", 128, 96},
		{[]byte(`<svg width="100%" viewBox="0,0,24,24"/>`), "svg", 24, 24},
	} {
		w, h, err := iconSize(tc.data, tc.format)
		if err != nil || w != tc.w || h != tc.h {
			t.Errorf("%s %q...: %dx%d, %v; want %dx%d", tc.format, tc.data[:min(20, len(tc.data))], w, h, err, tc.w, tc.h)
		}
	}
	if _, _, err := iconSize([]byte(`<svg width="10em"/>`), "svg"); err == nil {
		t.Error("an SVG without pixel sizes got a size")
	}
}

package icon

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"strings"
	"testing"
)

// pattern is a 40x30 image of four coloured quadrants with a gradient
// across, so that a wrong pixel order or colour model shows.
func pattern() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			c := color.RGBA{uint8(x * 6), 0, 0, 255}
			switch {
			case x < 20 && y < 15:
				c.G = 200
			case x >= 20 && y >= 15:
				c.B = 220
			case x >= 20:
				c.G, c.B = 120, 60
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// jpegOf encodes img as JPEG.
func jpegOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// decodePNG decodes PNG bytes, failing the test when they are not PNG.
func decodePNG(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("output is not a PNG: %v", err)
	}
	return img
}

// nrgba is the colour of a pixel, not premultiplied.
func nrgba(img image.Image, x, y int) color.NRGBA {
	return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
}

// near reports whether two 8-bit values are within d.
func near(a, b uint8, d int) bool {
	return int(a)-int(b) <= d && int(b)-int(a) <= d
}

func TestJPEGBecomesTheSamePixelsAsPNG(t *testing.T) {
	src := pattern()
	data := jpegOf(t, src)
	out, err := PNG("icon.jpg", data, DefaultSize)
	if err != nil {
		t.Fatal(err)
	}
	got := decodePNG(t, out)
	if got.Bounds() != src.Bounds() {
		t.Fatalf("size %v, want the JPEG's own %v", got.Bounds(), src.Bounds())
	}
	decoded, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			g, d := nrgba(got, x, y), nrgba(decoded, x, y)
			if g != d {
				t.Fatalf("pixel %d,%d is %v, the JPEG decodes to %v: re-encoding must be lossless", x, y, g, d)
			}
			// And the JPEG kept the pattern, so the test means something.
			s := src.RGBAAt(x, y)
			if x%20 > 2 && x%20 < 17 && y%15 > 2 && y%15 < 12 && (!near(g.R, s.R, 12) || !near(g.G, s.G, 12) || !near(g.B, s.B, 12)) {
				t.Fatalf("pixel %d,%d is %v, drawn as %v", x, y, g, s)
			}
		}
	}
}

func TestJPEGNamedPNGIsConverted(t *testing.T) {
	out, err := PNG("icon.png", jpegOf(t, pattern()), DefaultSize)
	if err != nil {
		t.Fatal(err)
	}
	if sniff(out) != "png" {
		t.Fatalf("a JPEG named icon.png came out as %q", sniff(out))
	}
}

func TestSameInputSameBytes(t *testing.T) {
	jpg := jpegOf(t, pattern())
	for _, c := range []struct{ name, data string }{{"icon.jpg", string(jpg)}, {"icon.svg", halves}, {"icon.svg", circle}} {
		a, err := PNG(c.name, []byte(c.data), DefaultSize)
		if err != nil {
			t.Fatal(err)
		}
		b, err := PNG(c.name, []byte(c.data), DefaultSize)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two conversions of the same bytes differ", c.name)
		}
	}
}

func TestPNGIsReturnedAsIs(t *testing.T) {
	var b bytes.Buffer
	if err := png.Encode(&b, pattern()); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	out, err := PNG("icon.png", data, DefaultSize)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(data) || &out[0] != &data[0] {
		t.Fatal("a PNG was not returned as the same slice")
	}
}

// hugeJPEG is a JPEG whose frame header declares w x h pixels and whose
// image data is cut off just after the scan header: decoding it would fail,
// so a refusal that names the size shows the header alone was read.
func hugeJPEG(t *testing.T, w, h int) []byte {
	data := jpegOf(t, pattern())
	for i := 2; i+4 < len(data); {
		marker, n := data[i+1], int(binary.BigEndian.Uint16(data[i+2:]))
		switch marker {
		case 0xC0: // SOF0: length, precision, height, width
			binary.BigEndian.PutUint16(data[i+5:], uint16(h))
			binary.BigEndian.PutUint16(data[i+7:], uint16(w))
		case 0xDA: // SOS: the entropy-coded data follows
			return data[:i+2+n+16]
		}
		i += 2 + n
	}
	t.Fatal("no SOS marker in the test JPEG")
	return nil
}

func TestHugeJPEGIsRefusedFromItsHeader(t *testing.T) {
	for _, size := range [][2]int{{5000, 5000}, {4097, 16}, {16, 65535}} {
		_, err := PNG("icon.jpg", hugeJPEG(t, size[0], size[1]), DefaultSize)
		if err == nil || !strings.Contains(err.Error(), "over the 4096x4096 limit") {
			t.Errorf("%dx%d JPEG: got %v, want a refusal over the limit", size[0], size[1], err)
		}
	}
	// The same cut-off file at an allowed size fails only in decoding.
	_, err := PNG("icon.jpg", hugeJPEG(t, 4096, 4096), DefaultSize)
	if err == nil || strings.Contains(err.Error(), "limit") {
		t.Errorf("4096x4096 truncated JPEG: got %v, want a decoding error", err)
	}
}

func TestUnreadableInputsAreErrors(t *testing.T) {
	jpg := jpegOf(t, pattern())
	cases := map[string]struct{ name, data, want string }{
		"garbage":         {"icon.png", "\x00\x01garbage bytes", "icon.png: is not a PNG, JPEG or SVG"},
		"empty":           {"icon.png", "", "is not a PNG, JPEG or SVG"},
		"gif":             {"icon.png", "GIF89a\x01\x00\x01\x00", "image/gif"},
		"truncated JPEG":  {"icon.jpg", string(jpg[:len(jpg)/2]), "icon.jpg: unreadable JPEG"},
		"JPEG header cut": {"icon.jpg", string(jpg[:20]), "unreadable JPEG header"},
		"broken PNG":      {"icon.png", "\x89PNG\r\n\x1a\nnot really", "unreadable PNG"},
		"SVG not XML":     {"icon.svg", `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect></svg>`, "icon.svg: not well-formed XML"},
		"SVG cut off":     {"icon.svg", `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/>`, "not well-formed XML"},
		"HTML":            {"icon.svg", `<html><body>hi</body></html>`, "the root element is <html>, not <svg>"},
		"no size":         {"icon.svg", `<svg xmlns="http://www.w3.org/2000/svg"><rect width="5" height="5"/></svg>`, "no width and height"},
		"DTD":             {"icon.svg", `<!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`, "DTD"},
		"Latin-1":         {"icon.svg", `<?xml version="1.0" encoding="ISO-8859-1"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`, "not well-formed XML"},
	}
	for name, c := range cases {
		_, err := PNG(c.name, []byte(c.data), DefaultSize)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error with %q", name, err, c.want)
		}
	}
}

func TestRepositoryIcons(t *testing.T) {
	for _, path := range []string{
		"../../packages/pipeline-demo-log-cleanup/1.0.0/icon.svg",
		"../../packages/datapack-demo-cities/1.0.0/icon.jpg",
	} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out, err := PNG(path[strings.LastIndex(path, "/")+1:], data, DefaultSize)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		img := decodePNG(t, out)
		t.Logf("%s: %v, %d bytes", path, img.Bounds().Size(), len(out))
	}
}

func TestLogCleanupIconLooksRight(t *testing.T) {
	data, err := os.ReadFile("../../packages/pipeline-demo-log-cleanup/1.0.0/icon.svg")
	if err != nil {
		t.Fatal(err)
	}
	out, err := PNG("icon.svg", data, DefaultSize)
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, out)
	if img.Bounds().Size() != image.Pt(256, 256) {
		t.Fatalf("size %v, want 256x256 (64x64 scaled by 4)", img.Bounds().Size())
	}
	checks := []struct {
		x, y int
		want color.NRGBA
		what string
	}{
		{0, 0, color.NRGBA{}, "the rounded corner is transparent"},
		{128, 4, color.NRGBA{0x2e, 0x7d, 0x32, 255}, "the background is green"},
		{60, 58, color.NRGBA{255, 255, 255, 255}, "the first line (8,12 30x5 in the SVG) is white"},
		{184, 128, color.NRGBA{255, 255, 255, 255}, "the arrow's shaft is white"},
		{170, 134, color.NRGBA{255, 255, 255, 255}, "the shaft is 4 units (16 pixels) thick"},
		{170, 140, color.NRGBA{0x2e, 0x7d, 0x32, 255}, "and no thicker"},
		{184, 170, color.NRGBA{0x2e, 0x7d, 0x32, 255}, "below the arrow head is green"},
	}
	for _, c := range checks {
		if got := nrgba(img, c.x, c.y); got != c.want {
			t.Errorf("pixel %d,%d is %v, want %v: %s", c.x, c.y, got, c.want, c.what)
		}
	}
}

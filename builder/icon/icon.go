// Package icon turns a package version's icon into the PNG that the CDAP UI
// asks for: it only ever requests <base>/packages/<name>/<version>/icon.png,
// while a marketplace version may commit icon.png, icon.jpg or icon.svg.
//
// The bytes made are reproducible: the same input and size give the same
// PNG on every run with the same Go toolchain and module versions. The
// decoders, the rasterizer and the encoder are single-threaded, use no map
// order or clock, and the encoder's compression level is fixed. A JPEG's
// PNG is integer arithmetic throughout, so it is the same on every CPU. An
// SVG's outline is computed in floating point by oksvg and rasterx, which
// the Go compiler may fuse into multiply-adds where the CPU has them
// (arm64, ppc64, s390x, and amd64 built with GOAMD64=v3 or higher): there
// an SVG's PNG can differ from an amd64 (v1) build's in the antialiasing
// of edge pixels. Builds that must agree byte for byte should come from
// one GOARCH and GOAMD64.
package icon

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
)

// DefaultSize is the length in pixels of the longer side of the PNG that an
// SVG icon is rasterized to. The builder passes it to PNG unless
// market.yaml's icons: rules say otherwise: then it is clamped into their
// minSize..maxSize, so that the PNG served keeps to the rules too.
const DefaultSize = 256

// MaxSide is the most pixels a side of an image may have: a JPEG whose
// header declares more is refused before it is decoded (4096x4096 RGBA is
// 64 MiB), and PNG's size argument may not exceed it.
const MaxSide = 4096

// encoder is fixed so that the same image always compresses to the same
// bytes; best compression because icons are small and built once.
var encoder = png.Encoder{CompressionLevel: png.BestCompression}

// PNG returns the PNG bytes to serve as icon.png for an icon file. name is
// the file's name (icon.png, icon.jpg or icon.svg) and is used only in
// error messages: the format is told by the bytes, since the CDAP Hub has
// JPEGs named icon.png.
//
//   - A PNG is returned as is (the same slice), once its header reads.
//   - A JPEG is decoded and re-encoded as PNG at its own pixel size.
//   - An SVG is rasterized on a transparent background to its own width and
//     height (or viewBox) scaled so that the longer side is size pixels,
//     keeping the aspect ratio. Only what the rasterizer draws faithfully
//     is accepted: an SVG using anything else (text, images, filters,
//     masks, clip paths other than the whole image, CSS beyond class
//     rules, ...) is refused with an error naming it, rather than drawn
//     wrong.
//
// The SVG is assumed to have passed the builder's safety check (no
// scripts, no DTD, no external references). Its size is read as the
// builder's iconSize reads it. Errors start with name.
func PNG(name string, data []byte, size int) ([]byte, error) {
	var out []byte
	var err error
	switch sniff(data) {
	case "png":
		out, err = fromPNG(data)
	case "jpeg":
		out, err = fromJPEG(data)
	case "svg":
		out, err = fromSVG(data, size)
	default:
		err = fmt.Errorf("is not a PNG, JPEG or SVG image (its bytes look like %s)", http.DetectContentType(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// sniff names the format of data: png, jpeg, svg or "". Anything that
// starts like markup is taken for SVG; the SVG reader then says what is
// wrong with it, which helps more than "not an image".
func sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "jpeg"
	}
	text := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if bytes.HasPrefix(text, []byte("<")) {
		return "svg"
	}
	return ""
}

// fromPNG returns data itself: the UI can show any PNG whose header reads,
// and re-encoding would only change bytes the author chose.
func fromPNG(data []byte) ([]byte, error) {
	if _, err := png.DecodeConfig(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("unreadable PNG: %v", err)
	}
	return data, nil
}

// fromJPEG re-encodes a JPEG as PNG, pixel for pixel. The header is read
// first so that a small file declaring a huge image cannot make the
// decoder allocate gigabytes.
func fromJPEG(data []byte) ([]byte, error) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("unreadable JPEG header: %v", err)
	}
	if cfg.Width > MaxSide || cfg.Height > MaxSide {
		return nil, fmt.Errorf("JPEG is %dx%d pixels, over the %dx%d limit", cfg.Width, cfg.Height, MaxSide, MaxSide)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("unreadable JPEG: %v", err)
	}
	return encode(img)
}

// encode writes img as PNG with the fixed encoder.
func encode(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := encoder.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encoding PNG: %v", err)
	}
	return buf.Bytes(), nil
}

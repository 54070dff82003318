package icon

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"math"
	"reflect"

	"github.com/srwiley/oksvg"
	"github.com/srwiley/rasterx"
)

// maxShapes bounds the shapes an SVG may draw, a <use> counting its
// group's; maxPixelWork bounds the pixels the rasterizer may composite in
// all (each shape's fill and stroke over its bounding box), under a second
// of work: what a 1 MiB SVG can ask for is otherwise unbounded.
const (
	maxShapes    = 10000
	maxPixelWork = 100_000_000
)

// fromSVG rasterizes an SVG so that its longer side is size pixels.
func fromSVG(data []byte, size int) (out []byte, err error) {
	// oksvg and rasterx were not written for hostile input, and an icon
	// comes from a pull request: a panic in them must fail this icon, not
	// the build. (Fuzzing found none; this is in case.)
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("the rasterizer failed: %v", r)
		}
	}()
	if size < 1 || size > MaxSide {
		return nil, fmt.Errorf("size %d: want 1 to %d pixels", size, MaxSide)
	}
	d, err := sanitize(data)
	if err != nil {
		return nil, err
	}
	w, h := canvas(d.width, d.height, size)
	if d.shapes > maxShapes {
		return nil, fmt.Errorf("SVG draws %d shapes, over the limit of %d", d.shapes, maxShapes)
	}
	t := d.target(w, h)
	if err := d.checkClips(t, w, h); err != nil {
		return nil, err
	}
	ic, err := oksvg.ReadIconStream(bytes.NewReader(d.clean), oksvg.StrictErrorMode)
	if err != nil {
		return nil, fmt.Errorf("oksvg cannot parse the SVG: %v", err)
	}
	ic.SetTarget(t.X, t.Y, t.W, t.H)
	img, err := paint(ic, w, h)
	if err != nil {
		return nil, err
	}
	return encode(img)
}

// canvas is the pixel size of an image w by h scaled so that its longer
// side is size pixels.
func canvas(w, h float64, size int) (int, int) {
	scale := float64(size) / max(w, h)
	return max(1, int(math.Round(w*scale))), max(1, int(math.Round(h*scale)))
}

// target is where the viewBox lands on a w by h pixel image, following
// preserveAspectRatio.
func (d *doc) target(w, h int) box {
	vb, a := d.viewBox, d.aspect
	if a.none {
		return box{0, 0, float64(w), float64(h)}
	}
	s := min(float64(w)/vb.W, float64(h)/vb.H)
	if a.slice {
		s = max(float64(w)/vb.W, float64(h)/vb.H)
	}
	tw, th := vb.W*s, vb.H*s
	return box{(float64(w) - tw) * a.ax, (float64(h) - th) * a.ay, tw, th}
}

// checkClips makes sure each clip rectangle left out covers the image, so
// that leaving it out changes nothing.
func (d *doc) checkClips(t box, w, h int) error {
	vb := d.viewBox
	// The image in user units; a 64th of a pixel (oksvg's precision) of slack.
	sx, sy := vb.W/t.W, vb.H/t.H
	x0, y0 := vb.X-t.X*sx, vb.Y-t.Y*sy
	x1, y1 := x0+float64(w)*sx, y0+float64(h)*sy
	ex, ey := sx/64, sy/64
	for _, c := range d.clips {
		if c.X > x0+ex || c.Y > y0+ey || c.X+c.W < x1-ex || c.Y+c.H < y1-ey {
			return fmt.Errorf("clip-path to the rectangle %s,%s %sx%s: the rasterizer cannot clip, and it does not cover the whole image",
				format(c.X), format(c.Y), format(c.W), format(c.H))
		}
	}
	return nil
}

// paint draws the icon on a transparent w by h image, giving each shape
// the fill rule that the rewrite marked on it, and its stroke the width
// the transforms give it.
func paint(ic *oksvg.SvgIcon, w, h int) (*image.RGBA, error) {
	for i := range ic.SVGPaths {
		p := &ic.SVGPaths[i]
		p.UseNonZeroWinding = p.LeadLineCap == nil
		p.LeadLineCap = nil
		m, err := pathMatrix(p)
		if err != nil {
			return nil, err
		}
		scaleStroke(p, ic.Transform.Mult(m))
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	sc := newScanner(img, maxPixelWork)
	ic.Draw(rasterx.NewDasher(w, h, sc), 1)
	if sc.budget < 0 {
		return nil, fmt.Errorf("SVG is too complex to rasterize at %dx%d: over %d pixels composited", w, h, maxPixelWork)
	}
	return img, nil
}

// scaleStroke scales a path's stroke by the transform from its user space
// to pixels. oksvg strokes the transformed outline with the width as
// written, so a 1-unit stroke on a 24-unit icon drawn at 256 pixels would
// be 1 pixel wide, not 10.7. Under a non-uniform scale a stroke should be
// wider one way than the other; it gets the geometric mean.
func scaleStroke(p *oksvg.SvgPath, m rasterx.Matrix2D) {
	s := math.Sqrt(math.Abs(m.A*m.D - m.B*m.C))
	p.LineWidth *= s
	p.DashOffset *= s
	dash := make([]float64, len(p.Dash)) // shared with other paths
	for i, d := range p.Dash {
		dash[i] = d * s
	}
	p.Dash = dash
}

// pathMatrix reads the transform of a path's element, which oksvg keeps in
// an unexported field. The version of oksvg is pinned in go.mod; should a
// new one move the field, this fails rather than draw wrong widths.
func pathMatrix(p *oksvg.SvgPath) (rasterx.Matrix2D, error) {
	m := reflect.ValueOf(p).Elem().FieldByName("mAdder").FieldByName("M")
	if !m.IsValid() || m.Type() != reflect.TypeOf(rasterx.Matrix2D{}) {
		return rasterx.Matrix2D{}, errors.New("this version of oksvg keeps no mAdder.M: update pathMatrix")
	}
	f := func(name string) float64 { return m.FieldByName(name).Float() }
	return rasterx.Matrix2D{A: f("A"), B: f("B"), C: f("C"), D: f("D"), E: f("E"), F: f("F")}, nil
}

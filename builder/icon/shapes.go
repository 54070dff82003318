package icon

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
)

// geometryAttrs are the numeric attributes each element takes.
var geometryAttrs = map[string][]string{
	"rect":    {"x", "y", "width", "height", "rx", "ry"},
	"circle":  {"cx", "cy", "r"},
	"ellipse": {"cx", "cy", "rx", "ry"},
	"line":    {"x1", "y1", "x2", "y2"},
	"use":     {"x", "y"},
}

// sizes are the attributes that may not be negative.
var sizes = map[string]bool{"width": true, "height": true, "r": true, "rx": true, "ry": true}

// geometry checks an element's geometry and returns it rewritten for
// oksvg, and whether the element draws anything. oksvg silently skips an
// element whose numbers it cannot parse ("50%", "1em"), so those are
// refused here; "2mm" it reads as 2, so units other than px are refused too.
func geometry(name string, ps []decl) ([]decl, bool, error) {
	switch name {
	case "path":
		d, err := pathData(get(ps, "d"))
		return []decl{{"d", d}}, d != "", err
	case "polyline", "polygon":
		d, err := pointsPath(get(ps, "points"), name == "polygon")
		return []decl{{"d", d}}, d != "", err
	}
	var out []decl
	for _, k := range geometryAttrs[name] {
		v := get(ps, k)
		if v == "" || v == "auto" {
			continue
		}
		f, err := number(v)
		if err == nil && f < 0 && sizes[k] {
			err = errors.New("is negative")
		}
		if err != nil {
			return nil, false, fmt.Errorf("%s=%q: %v", k, v, err)
		}
		out = append(out, decl{k, format(f)})
	}
	// A lone rx or ry sets both, as in browsers; oksvg would draw square
	// corners, or no ellipse.
	if rx, ry := get(out, "rx"), get(out, "ry"); rx == "" && ry != "" {
		out = append(out, decl{"rx", ry})
	} else if ry == "" && rx != "" {
		out = append(out, decl{"ry", rx})
	}
	return out, true, nil
}

// aspect is a preserveAspectRatio: how the viewBox is fitted to the image.
type aspect struct {
	none   bool    // stretch to fill
	slice  bool    // cover rather than fit inside
	ax, ay float64 // alignment: 0 min, .5 mid, 1 max
}

// alignments are the x and y halves of preserveAspectRatio's align value.
var alignments = map[string]float64{"Min": 0, "Mid": 0.5, "Max": 1}

// parseAspect reads a preserveAspectRatio value.
func parseAspect(v string) (aspect, error) {
	a := aspect{ax: 0.5, ay: 0.5}
	fs := strings.Fields(v)
	if len(fs) > 0 && fs[0] == "defer" {
		fs = fs[1:]
	}
	bad := fmt.Errorf("preserveAspectRatio %q: cannot read it", v)
	switch {
	case len(fs) == 0:
		return a, nil
	case len(fs) > 2 || len(fs) == 2 && fs[1] != "meet" && fs[1] != "slice":
		return a, bad
	case fs[0] == "none":
		a.none = true
		return a, nil
	}
	align := fs[0] // xMinYMid and the like
	if len(align) != 8 || align[0] != 'x' || align[4] != 'Y' {
		return a, bad
	}
	x, okx := alignments[align[1:4]]
	y, oky := alignments[align[5:8]]
	if !okx || !oky {
		return a, bad
	}
	a.ax, a.ay, a.slice = x, y, len(fs) == 2 && fs[1] == "slice"
	return a, nil
}

// readRoot reads the <svg> element: its size, viewBox and aspect, and the
// properties everything inherits.
func (s *sanitizer) readRoot(t xml.StartElement) error {
	ps, err := s.props(t.Attr)
	if err != nil {
		return fmt.Errorf("<svg>: %v", err)
	}
	if err := s.rootSize(ps); err != nil {
		return err
	}
	if s.doc.aspect, err = parseAspect(get(ps, "preserveAspectRatio")); err != nil {
		return err
	}
	s.stack = append(s.stack, frame{color: "black", rule: "nonzero"})
	out, err := s.style(ps, &s.stack[0])
	if err != nil {
		return fmt.Errorf("<svg>: %v", err)
	}
	// SVG's initial stroke width is 1 and its line join miter; oksvg's
	// defaults are 2 and bevel.
	s.root = []decl{{"stroke-width", "1"}, {"stroke-linejoin", "miter"}}
	for _, d := range out {
		s.root = set(s.root, d.key, d.value)
	}
	return nil
}

// rootSize reads the image's size as the builder's iconSize does: width
// and height in px (or without a unit), else the viewBox's.
func (s *sanitizer) rootSize(ps []decl) error {
	vb, hasVB := viewBox(get(ps, "viewBox"))
	w, errw := number(get(ps, "width"))
	h, errh := number(get(ps, "height"))
	switch {
	case errw == nil && errh == nil && w > 0 && h > 0:
		s.doc.width, s.doc.height = w, h
	case hasVB:
		s.doc.width, s.doc.height = vb.W, vb.H
	default:
		return errNoSize
	}
	if !hasVB {
		vb = box{0, 0, s.doc.width, s.doc.height}
	}
	s.doc.viewBox = vb
	return nil
}

// errNoSize is returned when an SVG gives no size to rasterize it at.
var errNoSize = errors.New("the <svg> element has no width and height in pixels, nor a viewBox")

// viewBox reads a viewBox value; a viewBox with no area counts as none.
func viewBox(v string) (box, bool) {
	nums, err := numbers(v)
	if err != nil || len(nums) != 4 || nums[2] <= 0 || nums[3] <= 0 {
		return box{}, false
	}
	return box{nums[0], nums[1], nums[2], nums[3]}, true
}

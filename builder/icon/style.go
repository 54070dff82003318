package icon

import (
	"fmt"
	"strings"
)

// presentation are the properties oksvg reads; the others are left out of
// the rewritten SVG (after the checks below).
var presentation = map[string]bool{
	"fill": true, "stroke": true, "stroke-width": true, "stroke-linecap": true,
	"stroke-linejoin": true, "stroke-miterlimit": true, "stroke-dasharray": true,
	"stroke-dashoffset": true, "opacity": true, "fill-opacity": true,
	"stroke-opacity": true, "transform": true,
}

// numeric are the presentation properties that take one number; oksvg
// reads "2mm" as 2 pixels, so only plain and px numbers pass.
var numeric = map[string]bool{
	"stroke-width": true, "stroke-miterlimit": true, "stroke-dashoffset": true,
	"opacity": true, "fill-opacity": true, "stroke-opacity": true,
}

// unsupported are properties that change the picture in ways oksvg
// ignores, with the values that change nothing.
var unsupported = map[string][]string{
	"visibility": {"visible"}, "mask": {"none"}, "filter": {"none"},
	"paint-order":   {"normal", "fill", "fill stroke", "fill stroke markers"},
	"vector-effect": {"none"}, "mix-blend-mode": {"normal"},
}

// style checks an element's properties, updates its frame (color,
// fill-rule, transform, display) and returns the presentation attributes
// to write for oksvg.
func (s *sanitizer) style(ps []decl, f *frame) ([]decl, error) {
	if get(ps, "display") == "none" {
		f.skip = true
		return nil, nil
	}
	if err := s.inherited(ps, f); err != nil {
		return nil, err
	}
	var out []decl
	for _, p := range ps {
		v := p.value
		if v == "inherit" {
			continue // oksvg inherits every property it reads
		}
		if ok, known := unsupported[p.key]; known && !containsString(ok, v) {
			return nil, fmt.Errorf("%s: %s is not supported by the rasterizer", p.key, v)
		}
		if !presentation[p.key] || p.key == "transform" && v == "none" {
			continue
		}
		var err error
		switch {
		case p.key == "fill" || p.key == "stroke":
			v, err = s.paint(v, f)
		case p.key == "transform":
			v, err = transform(v)
		case numeric[p.key]:
			var n float64
			n, err = number(v)
			v = format(n)
		case p.key == "stroke-dasharray" && v != "none":
			v, err = dashes(v)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", p.key, err)
		}
		out = append(out, decl{p.key, v})
	}
	return out, s.clip(get(ps, "clip-path"), f)
}

// inherited reads the properties that later ones depend on: color (for
// currentColor), fill-rule, and whether a transform moves user space.
func (s *sanitizer) inherited(ps []decl, f *frame) error {
	if c := get(ps, "color"); c != "" && c != "inherit" && !strings.EqualFold(c, "currentColor") {
		if err := colour(c); err != nil {
			return fmt.Errorf("color: %v", err)
		}
		f.color = c
	}
	switch r := get(ps, "fill-rule"); r {
	case "nonzero", "evenodd":
		f.rule = r
	case "", "inherit":
	default:
		return fmt.Errorf("fill-rule %q: want nonzero or evenodd", r)
	}
	if t := get(ps, "transform"); t != "" && t != "none" {
		f.moved = true
	}
	return nil
}

// paint checks a fill or stroke value and rewrites it for oksvg, which
// reads neither currentColor nor transparent, and paints black where a
// url() names no gradient it has read.
func (s *sanitizer) paint(v string, f *frame) (string, error) {
	switch strings.ToLower(v) {
	case "currentcolor":
		if f.color == "" {
			return "", fmt.Errorf("currentColor inside <defs>, where the color is not known")
		}
		return f.color, nil
	case "transparent", "none":
		return "none", nil
	}
	if len(v) > 4 && strings.EqualFold(v[:4], "url(") {
		ref, fallback, _ := strings.Cut(v[4:], ")")
		id, _ := strings.CutPrefix(strings.Trim(strings.TrimSpace(ref), `"'`), "#")
		if s.grads[id] != nil {
			s.usedGrads[id] = true
			return "url(#" + id + ")", nil
		}
		if fallback = strings.TrimSpace(fallback); fallback != "" && !strings.HasPrefix(fallback, "url(") {
			return s.paint(fallback, f)
		}
		return "none", nil // as browsers: a reference to no paint server paints nothing
	}
	return v, colour(v)
}

// dashes checks and rewrites a stroke-dasharray.
func dashes(v string) (string, error) {
	nums, err := numbers(v)
	if err != nil {
		return "", err
	}
	parts := make([]string, len(nums))
	for i, n := range nums {
		parts[i] = format(n)
	}
	return strings.Join(parts, " "), nil
}

// clip handles a clip-path property. The only clip understood is one
// rectangle in root user space (what design tools write for a frame); it
// is left out and checked to cover the whole image once the image's size
// is known. A reference to no clip path is ignored, as in browsers.
func (s *sanitizer) clip(v string, f *frame) error {
	if v == "" || v == "none" || v == "inherit" {
		return nil
	}
	ref, _ := strings.CutPrefix(v, "url(")
	id, _ := strings.CutPrefix(strings.Trim(strings.TrimSuffix(ref, ")"), ` "'`), "#")
	cp, ok := s.clips[id]
	if !ok {
		return nil
	}
	if !cp.plain || cp.rect == nil || f.moved || f.defs {
		return fmt.Errorf("clip-path %s: the rasterizer cannot clip; only a clip to one rectangle covering the whole image is accepted", v)
	}
	s.doc.clips = append(s.doc.clips, *cp.rect)
	return nil
}

// containsString reports whether s is in ss.
func containsString(ss []string, s string) bool {
	for _, t := range ss {
		if t == s {
			return true
		}
	}
	return false
}

package icon

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"math"
	"strings"
)

// gradientDefaults are the coordinates each kind of gradient reads, with
// SVG's defaults. fx and fy default to cx and cy, which oksvg does itself.
var gradientDefaults = map[string][]decl{
	"linearGradient": {{"x1", "0%"}, {"y1", "0%"}, {"x2", "100%"}, {"y2", "0%"}},
	"radialGradient": {{"cx", "50%"}, {"cy", "50%"}, {"r", "50%"}, {"fx", ""}, {"fy", ""}},
}

// resolve returns a gradient's properties and stops, with what it inherits
// through href from the gradient it names (Inkscape keeps the stops in one
// gradient and the coordinates in another, which oksvg does not follow).
func (s *sanitizer) resolve(id string, depth int) ([]decl, [][]xml.Attr, error) {
	g := s.grads[id]
	switch {
	case g == nil:
		return nil, nil, fmt.Errorf("a gradient's href names #%s, which is not a gradient", id)
	case depth > 8:
		return nil, nil, fmt.Errorf("gradient #%s: href chain too long or circular", id)
	}
	own, err := s.props(g.attrs)
	if err != nil {
		return nil, nil, fmt.Errorf("gradient #%s: %v", id, err)
	}
	stops := g.stops
	href := get(own, "href")
	if href == "" {
		return own, stops, nil
	}
	base, baseStops, err := s.resolve(strings.TrimPrefix(href, "#"), depth+1)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range own {
		base = set(base, d.key, d.value)
	}
	if len(stops) == 0 {
		stops = baseStops
	}
	return base, stops, nil
}

// writeGradient writes a gradient as oksvg reads it: coordinates in user
// space resolved from percentages (oksvg would read 50% as 0.5 user
// units), and stops with their colours as attributes.
func (s *sanitizer) writeGradient(b *bytes.Buffer, id string) error {
	g := s.grads[id]
	ps, stops, err := s.resolve(id, 0)
	if err != nil {
		return err
	}
	if len(stops) == 0 {
		return fmt.Errorf("gradient #%s has no stops", id)
	}
	out := []decl{{"id", id}}
	units := get(ps, "gradientUnits")
	switch units {
	case "userSpaceOnUse", "objectBoundingBox", "":
		out = append(out, decl{"gradientUnits", cmp.Or(units, "objectBoundingBox")})
	default:
		return fmt.Errorf("gradient #%s: gradientUnits %q: cannot read it", id, units)
	}
	if m := get(ps, "spreadMethod"); m != "" && m != "pad" && m != "reflect" && m != "repeat" {
		return fmt.Errorf("gradient #%s: spreadMethod %q: cannot read it", id, m)
	} else if m != "" {
		out = append(out, decl{"spreadMethod", m})
	}
	if t := get(ps, "gradientTransform"); t != "" {
		v, err := transform(t)
		if err != nil {
			return fmt.Errorf("gradient #%s: %v", id, err)
		}
		out = append(out, decl{"gradientTransform", v})
	}
	for _, d := range gradientDefaults[g.name] {
		v, err := s.coordinate(d.key, cmp.Or(get(ps, d.key), d.value), units == "userSpaceOnUse")
		if err != nil {
			return fmt.Errorf("gradient #%s: %s: %v", id, d.key, err)
		}
		if v != "" {
			out = append(out, decl{d.key, v})
		}
	}
	b.WriteString("<" + g.name)
	writeAttrs(b, out)
	b.WriteString(">")
	if err := s.writeStops(b, stops); err != nil {
		return fmt.Errorf("gradient #%s: %v", id, err)
	}
	b.WriteString("</" + g.name + ">")
	return nil
}

// coordinate checks a gradient coordinate; in user space, a percentage is
// of the viewBox's width, height or normalized diagonal, as in browsers.
func (s *sanitizer) coordinate(key, v string, userSpace bool) (string, error) {
	if v == "" {
		return "", nil
	}
	f, err := fraction(v)
	if err != nil || !userSpace || !strings.HasSuffix(v, "%") {
		return v, err
	}
	vb := s.doc.viewBox
	switch key {
	case "x1", "x2", "cx", "fx":
		f *= vb.W
	case "y1", "y2", "cy", "fy":
		f *= vb.H
	default:
		f *= math.Sqrt((vb.W*vb.W + vb.H*vb.H) / 2)
	}
	return format(f), nil
}

// writeStops writes a gradient's stops. oksvg reads stop colours only from
// attributes (Inkscape writes them in style), takes a missing colour for
// the shape's fill (SVG's default is black), and does not clamp offsets.
func (s *sanitizer) writeStops(b *bytes.Buffer, stops [][]xml.Attr) error {
	prev := 0.0
	for _, attrs := range stops {
		ps, err := s.props(attrs)
		if err != nil {
			return fmt.Errorf("<stop>: %v", err)
		}
		offset := 0.0
		if v := get(ps, "offset"); v != "" {
			if offset, err = fraction(v); err != nil {
				return fmt.Errorf("<stop> offset: %v", err)
			}
		}
		offset = min(max(offset, prev, 0), 1)
		prev = offset
		c, opacity, err := stopColour(get(ps, "stop-color"), get(ps, "stop-opacity"))
		if err != nil {
			return err
		}
		fmt.Fprintf(b, `<stop offset="%s" stop-opacity="%s"`, format(offset), format(opacity))
		writeAttrs(b, []decl{{"stop-color", c}})
		b.WriteString("></stop>")
	}
	return nil
}

// stopColour reads a stop's colour and opacity.
func stopColour(c, o string) (string, float64, error) {
	opacity := 1.0
	if o != "" && o != "inherit" {
		var err error
		if opacity, err = number(o); err != nil {
			return "", 0, fmt.Errorf("<stop> stop-opacity: %v", err)
		}
	}
	switch strings.ToLower(c) {
	case "", "inherit":
		return "black", opacity, nil
	case "transparent":
		return "black", 0, nil
	case "none", "currentcolor":
		return "", 0, fmt.Errorf("<stop> stop-color %q is not supported", c)
	}
	return c, opacity, colour(c)
}

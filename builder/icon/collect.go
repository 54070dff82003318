package icon

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

const (
	svgNS   = "http://www.w3.org/2000/svg"
	xlinkNS = "http://www.w3.org/1999/xlink"
)

// gradient is a linearGradient or radialGradient element as written.
type gradient struct {
	name  string
	attrs []xml.Attr
	stops [][]xml.Attr
}

// clipPath is a clipPath element: the rectangle it clips to, when it is a
// single untransformed rectangle in user space (what design tools write
// for a frame), else nil.
type clipPath struct {
	rect  *box
	plain bool // no transform, user-space units, only the rectangle so far
}

// walk feeds each token of an SVG to fn. It refuses what is not
// well-formed XML, a document in another encoding than UTF-8, and DTDs
// (also refused by the builder's safety check).
func walk(data []byte, fn func(xml.Token) error) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %v", err)
		}
		if _, ok := tok.(xml.Directive); ok {
			return errors.New("has a DTD (<!DOCTYPE or <!ENTITY)")
		}
		if err := fn(tok); err != nil {
			return err
		}
	}
}

// isSVG reports whether an element is in the SVG namespace (or in none,
// as in an SVG written without xmlns).
func isSVG(n xml.Name) bool {
	return n.Space == svgNS || n.Space == ""
}

// notDrawn are SVG elements that draw nothing themselves; what they hold
// is read in the first pass (style, gradients, clip paths) or not at all.
var notDrawn = map[string]bool{
	"title": true, "desc": true, "metadata": true, "style": true,
	"linearGradient": true, "radialGradient": true, "clipPath": true,
}

// collector is the first pass over an SVG: it gathers what an element may
// use before the document defines it (CSS, gradients, clip paths), since
// oksvg only knows what it has already read.
type collector struct {
	s        *sanitizer
	depth    int
	skipFrom int // depth of an element whose subtree is ignored, or 0
	css      strings.Builder
	inStyle  bool
	grad     *gradient
	gradAt   int
	clip     *clipPath
	clipAt   int
	clipID   string
}

// collect runs the first pass and reads the CSS it found.
func (s *sanitizer) collect(data []byte) error {
	c := &collector{s: s}
	if err := walk(data, c.token); err != nil {
		return err
	}
	if c.depth != 0 || s.grads == nil {
		return errors.New("no <svg> element")
	}
	rules, err := parseCSS(c.css.String())
	s.rules = rules
	return err
}

// token handles one token of the first pass.
func (c *collector) token(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		c.depth++
		if c.skipFrom == 0 {
			return c.start(t)
		}
	case xml.EndElement:
		c.end(t)
		c.depth--
	case xml.CharData:
		if c.inStyle && c.skipFrom == 0 {
			c.css.Write(t)
		}
	}
	return nil
}

// start handles a start tag outside any ignored subtree.
func (c *collector) start(t xml.StartElement) error {
	if c.depth == 1 {
		if !isSVG(t.Name) || t.Name.Local != "svg" {
			return fmt.Errorf("the root element is <%s>, not <svg>", t.Name.Local)
		}
		c.s.grads = map[string]*gradient{}
		c.s.clips = map[string]*clipPath{}
		return nil
	}
	name := t.Name.Local
	switch {
	case !isSVG(t.Name) || name == "metadata" || name == "title" || name == "desc":
		c.skipFrom = c.depth
	case c.grad != nil && name == "stop":
		c.grad.stops = append(c.grad.stops, xml.CopyToken(t).(xml.StartElement).Attr)
	case c.grad != nil:
		return fmt.Errorf("<%s> inside a gradient: the rasterizer cannot draw it", name)
	case c.clip != nil:
		c.clipChild(t)
	case name == "style":
		c.inStyle = true
	case name == "linearGradient" || name == "radialGradient":
		c.grad = &gradient{name: name, attrs: xml.CopyToken(t).(xml.StartElement).Attr}
		c.gradAt = c.depth
	case name == "clipPath":
		plain := isAbsent(attr(t.Attr, "transform")) && isAbsent(attr(t.Attr, "clipPathUnits"), "userSpaceOnUse")
		c.clip, c.clipAt, c.clipID = &clipPath{plain: plain}, c.depth, attr(t.Attr, "id")
	}
	return nil
}

// end handles an end tag.
func (c *collector) end(t xml.EndElement) {
	switch {
	case c.skipFrom == c.depth:
		c.skipFrom = 0
	case c.skipFrom != 0:
	case t.Name.Local == "style":
		c.inStyle = false
	case c.grad != nil && c.depth == c.gradAt:
		if id := attr(c.grad.attrs, "id"); id != "" {
			c.s.grads[id] = c.grad
			c.s.gradOrder = append(c.s.gradOrder, id)
		}
		c.grad = nil
	case c.clip != nil && c.depth == c.clipAt:
		if c.clipID != "" {
			c.s.clips[c.clipID] = c.clip
		}
		c.clip = nil
	}
}

// clipChild records an element of a clip path: only a lone rectangle with
// plain coordinates and no transform is understood.
func (c *collector) clipChild(t xml.StartElement) {
	c.skipFrom = c.depth
	a := t.Attr
	c.clip.plain = c.clip.plain && c.clip.rect == nil && t.Name.Local == "rect" &&
		isAbsent(attr(a, "transform")) && isAbsent(attr(a, "rx"), "0") && isAbsent(attr(a, "ry"), "0")
	if !c.clip.plain {
		return
	}
	var v [4]float64
	for i, k := range []string{"x", "y", "width", "height"} {
		f, err := number(cmp.Or(attr(a, k), "0"))
		if err != nil {
			c.clip.plain = false
			return
		}
		v[i] = f
	}
	c.clip.rect = &box{v[0], v[1], v[2], v[3]}
}

// attr returns the value of an attribute in no namespace, or "".
func attr(attrs []xml.Attr, local string) string {
	for _, a := range attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

// isAbsent reports whether an attribute value is empty or one of the
// values that mean the same as leaving it out.
func isAbsent(v string, defaults ...string) bool {
	if v == "" {
		return true
	}
	for _, d := range defaults {
		if v == d {
			return true
		}
	}
	return false
}

package icon

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
)

// box is a rectangle in SVG user units.
type box struct{ X, Y, W, H float64 }

// doc is an SVG made ready for oksvg: rewritten to the subset oksvg draws
// as a browser would, with what is needed to place and check it.
type doc struct {
	clean         []byte
	width, height float64 // intrinsic size, as the builder's iconSize reads it
	viewBox       box
	aspect        aspect
	shapes        int   // shapes drawn, a <use> counting its group's shapes
	clips         []box // clip rectangles left out: each must cover the image
}

// sanitizer rewrites an SVG in two passes. The rewrite keeps only elements
// and attributes oksvg handles the way browsers do, applies the CSS, moves
// gradients and <defs> before their first use (oksvg looks them up as it
// reads), and refuses what would otherwise be drawn wrong or dropped.
type sanitizer struct {
	rules     []rule
	grads     map[string]*gradient
	gradOrder []string
	clips     map[string]*clipPath

	doc       doc
	stack     []frame
	root      []decl
	defs      bytes.Buffer
	body      bytes.Buffer
	defShapes map[string]int // shapes in each <defs> group, by id
	group     string         // id of the <defs> group being written
	uses      []use
	usedGrads map[string]bool
	nonZero   map[string]bool // <defs> groups with a shape set to nonzero
}

// use is a <use> element: the group it draws, and its fill-rule.
type use struct {
	id      string
	evenOdd bool
}

// frame is the state of an open element in the second pass.
type frame struct {
	name   string // element written, to close; "" when none
	skip   bool   // the element and what it holds are not drawn
	defs   bool   // inside <defs>
	isDefs bool   // the <defs> element itself
	color  string // the color property, for currentColor; "" when unknown
	rule   string // fill-rule; "" inside <defs>, where it comes from the <use>
	moved  bool   // a transform applies, so user space is not the root's
}

// sanitize reads an SVG and rewrites it for oksvg.
func sanitize(data []byte) (*doc, error) {
	s := &sanitizer{defShapes: map[string]int{}, usedGrads: map[string]bool{}, nonZero: map[string]bool{}}
	if err := s.collect(data); err != nil {
		return nil, err
	}
	if err := walk(data, s.token); err != nil {
		return nil, err
	}
	for _, u := range s.uses {
		n, ok := s.defShapes[u.id]
		if !ok {
			return nil, fmt.Errorf("<use> refers to #%s, which is not a child of <defs> with that id", u.id)
		}
		if u.evenOdd && s.nonZero[u.id] {
			return nil, fmt.Errorf("<use> of #%s sets fill-rule evenodd, which a shape in it overrides with nonzero: not supported", u.id)
		}
		s.doc.shapes += n
	}
	return &s.doc, s.assemble()
}

// token handles one token of the second pass.
func (s *sanitizer) token(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		if len(s.stack) == 0 {
			return s.readRoot(t)
		}
		f := s.stack[len(s.stack)-1]
		f.name, f.isDefs = "", false
		s.stack = append(s.stack, f)
		if f.skip {
			return nil
		}
		return s.start(t, &s.stack[len(s.stack)-1])
	case xml.EndElement:
		f := s.stack[len(s.stack)-1]
		s.stack = s.stack[:len(s.stack)-1]
		if f.name != "" {
			fmt.Fprintf(s.out(f), "</%s>", f.name)
		}
	}
	return nil
}

// out is where an element goes: the <defs> groups are gathered to be
// written before the drawing, as oksvg needs a group before its <use>.
func (s *sanitizer) out(f frame) *bytes.Buffer {
	if f.defs {
		return &s.defs
	}
	return &s.body
}

// shapeNames are the elements oksvg draws.
var shapeNames = map[string]bool{
	"rect": true, "circle": true, "ellipse": true, "line": true,
	"polyline": true, "polygon": true, "path": true,
}

// start handles a start tag that is not inside a skipped subtree.
func (s *sanitizer) start(t xml.StartElement, f *frame) error {
	name := t.Name.Local
	parentIsDefs := s.stack[len(s.stack)-2].isDefs
	switch {
	case !isSVG(t.Name) || notDrawn[name]:
		f.skip = true
		return nil
	case name == "defs":
		f.defs, f.isDefs, f.color, f.rule = true, true, "", ""
		return nil
	case name == "use" && f.defs:
		return fmt.Errorf("a <use> inside <defs> is not supported")
	case name != "g" && name != "use" && !shapeNames[name]:
		return fmt.Errorf("has a <%s> element, which the rasterizer cannot draw", name)
	}
	ps, err := s.props(t.Attr)
	if err != nil {
		return fmt.Errorf("<%s>: %v", name, err)
	}
	id := get(ps, "id")
	if parentIsDefs {
		if id == "" {
			f.skip = true // never used, never drawn
			return nil
		}
		s.group = id
		s.defShapes[id] = 0
	}
	return s.element(name, id, ps, f, parentIsDefs)
}

// element writes a g, use or shape element with its attributes checked
// and rewritten for oksvg. A child of <defs> starts a group that <use>
// refers to by id.
func (s *sanitizer) element(name, id string, ps []decl, f *frame, isGroup bool) error {
	paint, err := s.style(ps, f)
	if err != nil {
		return fmt.Errorf("<%s>: %v", name, err)
	}
	geo, drawn, err := geometry(name, ps)
	if err != nil {
		return fmt.Errorf("<%s>: %v", name, err)
	}
	if f.skip || !drawn {
		f.skip = true
		return nil
	}
	if name == "use" {
		href := get(ps, "href")
		target, ok := strings.CutPrefix(href, "#")
		if !ok {
			return fmt.Errorf("<use href=%q>: only references to #id are supported", href)
		}
		s.uses = append(s.uses, use{target, f.rule == "evenodd"})
		geo = append([]decl{{"href", href}}, geo...)
	}
	if isGroup {
		geo = append([]decl{{"id", id}}, geo...)
	}
	if name != "g" {
		paint = s.count(f, paint)
	}
	f.name = name
	if name == "polyline" || name == "polygon" {
		f.name = "path" // geometry turned the points into path data
	}
	b := s.out(*f)
	b.WriteString("<" + f.name)
	writeAttrs(b, append(geo, paint...))
	b.WriteString(">")
	return nil
}

// evenOddMark is how a shape's fill-rule reaches the rasterizer: oksvg
// ignores fill-rule, but keeps stroke-leadlinecap (its own extension,
// which the rewrite never passes on otherwise) in each shape's style, and
// paint turns it back into the winding rule before drawing.
var evenOddMark = decl{"stroke-leadlinecap", "butt"}

// count adds a shape or a <use> to the work tally, and marks it evenodd
// when it is.
func (s *sanitizer) count(f *frame, paint []decl) []decl {
	if f.defs {
		s.defShapes[s.group]++
		s.nonZero[s.group] = s.nonZero[s.group] || f.rule == "nonzero"
	} else {
		s.doc.shapes++
	}
	if f.rule == "evenodd" {
		paint = append(paint, evenOddMark)
	}
	return paint
}

// writeAttrs writes attributes, escaped.
func writeAttrs(b *bytes.Buffer, ds []decl) {
	for _, d := range ds {
		b.WriteString(" " + d.key + `="`)
		xml.EscapeText(b, []byte(d.value))
		b.WriteString(`"`)
	}
}

// assemble writes the rewritten SVG: the root with the viewBox read from
// the original, the gradients in use, the <defs> groups, then the drawing.
func (s *sanitizer) assemble() error {
	var b bytes.Buffer
	vb := s.doc.viewBox
	fmt.Fprintf(&b, `<svg xmlns="%s" viewBox="%s %s %s %s"`, svgNS, format(vb.X), format(vb.Y), format(vb.W), format(vb.H))
	writeAttrs(&b, s.root)
	b.WriteString(">")
	for _, id := range s.gradOrder {
		if s.usedGrads[id] {
			if err := s.writeGradient(&b, id); err != nil {
				return err
			}
		}
	}
	if s.defs.Len() > 0 {
		b.WriteString("<defs>")
		b.Write(s.defs.Bytes())
		b.WriteString("</defs>")
	}
	b.Write(s.body.Bytes())
	b.WriteString("</svg>")
	s.doc.clean = b.Bytes()
	return nil
}

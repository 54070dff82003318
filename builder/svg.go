package builder

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // image.DecodeConfig of JPEG icons
	_ "image/png"  // and PNG icons
	"io"
	"math"
	"strconv"
	"strings"
)

// checkSVG refuses an SVG that could run code or reach outside itself when
// a browser opens it: script elements, event-handler attributes,
// javascript: URLs, foreignObject (embedded HTML), references to anything
// but its own fragments or inline images, CSS imports and url()s that
// leave the file, and DTDs (entity expansion, external entities).
func checkSVG(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	inStyle := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return errors.New("has a DTD (<!DOCTYPE or <!ENTITY): entities can expand without bound or reach outside")
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			switch name {
			case "script", "foreignobject", "iframe", "embed", "object":
				return fmt.Errorf("has a <%s> element", t.Name.Local)
			}
			inStyle = name == "style"
			for _, a := range t.Attr {
				an := strings.ToLower(a.Name.Local)
				v := urlForm(a.Value)
				switch {
				case strings.HasPrefix(an, "on"):
					return fmt.Errorf("<%s> has an event handler %s=", t.Name.Local, a.Name.Local)
				case strings.Contains(v, "javascript:") || strings.Contains(v, "vbscript:") || strings.Contains(v, "data:text/html"):
					return fmt.Errorf("<%s %s> holds a script URL", t.Name.Local, a.Name.Local)
				case an == "attributename" && strings.HasSuffix(v, "href"):
					// <set>/<animate> could change a link's target after any check.
					return fmt.Errorf("<%s> animates a link target (%s)", t.Name.Local, a.Value)
				case an == "href" || an == "src":
					if !strings.HasPrefix(v, "#") && !strings.HasPrefix(v, "data:image/") || strings.HasPrefix(v, "data:image/svg") {
						return fmt.Errorf("<%s %s=%q> refers outside the file", t.Name.Local, a.Name.Local, a.Value)
					}
				case an == "style":
					if err := checkCSS(v); err != nil {
						return fmt.Errorf("<%s style>: %v", t.Name.Local, err)
					}
				}
			}
		case xml.EndElement:
			inStyle = false
		case xml.CharData:
			if inStyle {
				if err := checkCSS(strings.ToLower(string(t))); err != nil {
					return fmt.Errorf("<style>: %v", err)
				}
			}
		}
	}
}

// checkCSS refuses CSS that loads anything from outside the file.
func checkCSS(css string) error {
	if strings.Contains(css, "@import") {
		return errors.New("@import loads another stylesheet")
	}
	for rest := css; ; {
		i := strings.Index(rest, "url(")
		if i < 0 {
			return nil
		}
		rest = rest[i+4:]
		target := strings.TrimLeft(rest, " \t\n'\"")
		if !strings.HasPrefix(target, "#") && !strings.HasPrefix(target, "data:image/") {
			return errors.New("url() refers outside the file")
		}
	}
}

// urlForm is a value as a browser's URL parser sees it: lower case, without
// the ASCII tabs, newlines and spaces it drops.
func urlForm(v string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r == ' ' || r == 0 {
			return -1
		}
		return r
	}, v))
}

// iconSize reads an icon's width and height in pixels: from a PNG's or
// JPEG's header, or an SVG root's width and height (plain or px numbers),
// else its viewBox.
func iconSize(data []byte, format string) (w, h int, err error) {
	if format != "svg" {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return 0, 0, err
		}
		return cfg.Width, cfg.Height, nil
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := d.Token()
		if err != nil {
			return 0, 0, fmt.Errorf("no <svg> element: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := map[string]string{}
		for _, a := range se.Attr {
			attr[strings.ToLower(a.Name.Local)] = strings.TrimSpace(a.Value)
		}
		px := func(v string) (int, bool) {
			f, err := strconv.ParseFloat(strings.TrimSuffix(v, "px"), 64)
			return int(math.Round(f)), err == nil && f > 0
		}
		if w, okw := px(attr["width"]); okw {
			if h, okh := px(attr["height"]); okh {
				return w, h, nil
			}
		}
		if f := strings.FieldsFunc(attr["viewbox"], func(r rune) bool { return r == ' ' || r == ',' }); len(f) == 4 {
			w, okw := px(f[2])
			h, okh := px(f[3])
			if okw && okh {
				return w, h, nil
			}
		}
		return 0, 0, errors.New("the <svg> element has no width and height in pixels, nor a viewBox")
	}
}

package icon

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
)

// decl is one property or attribute: a name and its value.
type decl struct{ key, value string }

// rule is one rule of a <style> element: the classes it selects and what it
// sets.
type rule struct {
	classes []string
	decls   []decl
}

// set returns ds with key set to value: in place when key is already there,
// so that the order stays that of first appearance, else at the end. The
// order is fixed by the document, so the rasterizer sees the same list on
// every run (oksvg applies opacities by multiplying, in list order).
func set(ds []decl, key, value string) []decl {
	for i := range ds {
		if ds[i].key == key {
			ds[i].value = value
			return ds
		}
	}
	return append(ds, decl{key, value})
}

// get returns key's value in ds, or "".
func get(ds []decl, key string) string {
	for _, d := range ds {
		if d.key == key {
			return d.value
		}
	}
	return ""
}

// parseCSS reads a <style> element's text. Only rules whose selectors are
// all single class names (.a, .b) are accepted: they are what design tools
// write, and oksvg gets anything else wrong (it ignores element and id
// selectors, and applies class rules in map order), so this package
// applies the rules itself.
func parseCSS(css string) ([]rule, error) {
	css, err := stripComments(css)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(css, "}")
	if last := strings.TrimSpace(parts[len(parts)-1]); last != "" {
		return nil, fmt.Errorf("<style>: %q is not a complete rule", last)
	}
	var rules []rule
	for _, part := range parts[:len(parts)-1] {
		sel, body, ok := strings.Cut(part, "{")
		if !ok {
			return nil, fmt.Errorf("<style>: %q is not a rule", strings.TrimSpace(part)+"}")
		}
		r, err := parseRule(sel, body)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// parseRule reads one rule's selectors and declarations.
func parseRule(sel, body string) (rule, error) {
	var r rule
	for s := range strings.SplitSeq(sel, ",") {
		s = strings.TrimSpace(s)
		if !isClassSelector(s) {
			return r, fmt.Errorf("<style>: selector %q: only class selectors (.name) are supported", s)
		}
		r.classes = append(r.classes, s[1:])
	}
	ds, err := parseDecls(body)
	if err != nil {
		return r, fmt.Errorf("<style> %s: %v", strings.TrimSpace(sel), err)
	}
	r.decls = ds
	return r, nil
}

// isClassSelector reports whether s is "." and a CSS identifier.
func isClassSelector(s string) bool {
	if len(s) < 2 || s[0] != '.' {
		return false
	}
	for _, c := range s[1:] {
		ok := c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c > 0x7f
		if !ok {
			return false
		}
	}
	return true
}

// stripComments removes CSS /* */ comments.
func stripComments(css string) (string, error) {
	var b strings.Builder
	for {
		before, after, ok := strings.Cut(css, "/*")
		b.WriteString(before)
		if !ok {
			return b.String(), nil
		}
		_, rest, ok := strings.Cut(after, "*/")
		if !ok {
			return "", errors.New("<style>: unterminated /* comment")
		}
		b.WriteByte(' ')
		css = rest
	}
}

// parseDecls reads "name: value; ..." as in a style attribute or a rule's
// body. Names are lower-cased, as CSS property names are case-insensitive.
func parseDecls(s string) ([]decl, error) {
	var ds []decl
	for item := range strings.SplitSeq(s, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, ":")
		if !ok {
			return nil, fmt.Errorf("%q is not a name: value declaration", item)
		}
		v = strings.TrimSpace(v)
		if strings.Contains(v, "!") {
			// !important would reorder the cascade; icons do not need it.
			return nil, fmt.Errorf("%q: !important is not supported", item)
		}
		ds = set(ds, strings.ToLower(strings.TrimSpace(k)), v)
	}
	return ds, nil
}

// props lists an element's attributes and style properties in cascade
// order: presentation attributes, then matching class rules in document
// order, then the style attribute, a later value replacing an earlier one.
// Attributes in other namespaces are editor data and are left out, except
// xlink:href.
func (s *sanitizer) props(attrs []xml.Attr) ([]decl, error) {
	var ds []decl
	var style, class string
	for _, a := range attrs {
		switch {
		case a.Name.Space == "" && a.Name.Local == "style":
			style = a.Value
		case a.Name.Space == "" && a.Name.Local == "class":
			class = a.Value
		case a.Name.Space == "" && a.Name.Local != "xmlns",
			a.Name.Space == xlinkNS && a.Name.Local == "href":
			ds = set(ds, a.Name.Local, strings.TrimSpace(a.Value))
		}
	}
	classes := strings.Fields(class)
	for _, r := range s.rules {
		if matches(r.classes, classes) {
			for _, d := range r.decls {
				ds = set(ds, d.key, d.value)
			}
		}
	}
	inline, err := parseDecls(style)
	if err != nil {
		return nil, fmt.Errorf("style attribute: %v", err)
	}
	for _, d := range inline {
		ds = set(ds, d.key, d.value)
	}
	return ds, nil
}

// matches reports whether any of a rule's classes is one of an element's.
func matches(ruleClasses, classes []string) bool {
	for _, c := range ruleClasses {
		for _, e := range classes {
			if c == e {
				return true
			}
		}
	}
	return false
}

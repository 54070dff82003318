package schema

import (
	"fmt"
	"strings"
	"unicode"
)

// A RangeError says why CDAP cannot use a cdapVersion or an artifact
// version range and, when the fix is clear, what to write instead.
type RangeError struct {
	Msg string
	// Suggestion is a range ParseCDAPRange accepts, or "" when no single
	// fix is evident.
	Suggestion string
}

func (e *RangeError) Error() string { return e.Msg }

func rangeErr(suggestion, format string, args ...any) *RangeError {
	return &RangeError{Msg: fmt.Sprintf(format, args...), Suggestion: suggestion}
}

// ParseCDAPRange parses a spec's cdapVersion the way CDAP reads it, and
// accepts only what both ends of CDAP accept: the backend's
// ArtifactVersionRange.parse (cdap-api), which throws on a range without
// both bounds or with anything before its opening or after its closing
// bracket, and the UI's range check (cdap-ui services/VersionRange), which
// throws on a value without a comma and hides from every version a range
// that no version fits in its own order. On top of that it keeps our rule
// that the range is neither inverted nor empty in the order the builder
// uses to place a package in each product version's catalog.
//
// The accepted form is [ or (, a lower bound, a comma, an upper bound, and
// ] or ); spaces (and tabs, line breaks) around a bound are allowed, as
// both ends trim them, but not around the whole range.
func ParseCDAPRange(s string) (Range, error) {
	r := Range{raw: s}
	if t := strings.TrimFunc(s, unicode.IsSpace); t != s && isRangeStart(t) {
		return r, spacedRange(s, t)
	}
	if !isRangeStart(s) {
		return r, notCDAPRange(s)
	}
	lo, hi, closing, err := splitCDAPRange(s)
	if err != nil {
		return r, err
	}
	r.loIncl, r.hiIncl = s[0] == '[', closing == ']'
	if lo == "" || hi == "" {
		return r, openBound(s, lo, hi, r.loIncl, r.hiIncl)
	}
	loV, err := ParseVersion(lo)
	if err != nil {
		return r, fmt.Errorf("%q: lower bound %w", s, err)
	}
	hiV, err := ParseVersion(hi)
	if err != nil {
		return r, fmt.Errorf("%q: upper bound %w", s, err)
	}
	r.lo, r.hi = &loV, &hiV
	if err := checkCDAPOrder(s, r); err != nil {
		return r, err
	}
	return r, nil
}

// isRangeStart reports whether CDAP reads s as a range rather than as one
// version: it looks at the very first character only.
func isRangeStart(s string) bool { return s != "" && (s[0] == '[' || s[0] == '(') }

// cdapSpace reports whether both ends of CDAP trim c from around a bound:
// Java's String.trim drops characters up to U+0020, JavaScript's trim drops
// white space; these six are in both.
func cdapSpace(c rune) bool { return c == ' ' || c >= '\t' && c <= '\r' }

// splitCDAPRange finds the bounds of s, which starts with a bracket, as the
// backend does: the first comma ends the lower bound and the first ] or )
// after it ends the upper bound, which must be the last character.
func splitCDAPRange(s string) (lo, hi string, closing byte, err error) {
	comma := strings.IndexByte(s, ',')
	if comma < 0 {
		return "", "", 0, noComma(s)
	}
	end := strings.IndexAny(s[comma+1:], "])")
	if end < 0 {
		return "", "", 0, rangeErr("", "%q is not a range: no ] or ) closes it after the comma, and CDAP refuses it; write e.g. [6.0.0,7.0.0)", s)
	}
	end += comma + 1
	if end != len(s)-1 {
		return "", "", 0, rangeErr("", "%q has characters after its closing %c; CDAP refuses a range that does not end there", s, s[end])
	}
	lo, hi = strings.TrimFunc(s[1:comma], cdapSpace), strings.TrimFunc(s[comma+1:end], cdapSpace)
	if strings.Contains(hi, ",") {
		return "", "", 0, rangeErr("", "%q is not a range: more than one comma; CDAP reads all after the first comma as the upper bound", s)
	}
	return lo, hi, s[end], nil
}

// spacedRange explains s, which is the range t with spaces around it: the
// backend reads a leading space as part of a single version, and a trailing
// one as characters after the closing bracket.
func spacedRange(s, t string) error {
	const why = "CDAP reads a range only when [ or ( is its very first character and ] or ) its very last"
	if _, err := ParseCDAPRange(t); err != nil {
		return rangeErr("", "%q has spaces around it: %s; without them: %v", s, why, err)
	}
	return rangeErr(t, "%q has spaces around it: %s; remove the spaces: %q", s, why, t)
}

// notCDAPRange explains a cdapVersion that does not start with a bracket.
// The backend would read a bare version as exactly that version, but the
// UI's range check splits the value at its comma and throws without one.
func notCDAPRange(s string) error {
	v := strings.TrimFunc(s, unicode.IsSpace)
	if _, err := ParseVersion(v); err == nil {
		exact := "[" + v + "," + v + "]"
		return rangeErr(exact, "%q is a single version, not a range: CDAP's backend would read it as exactly %s, but its UI's range check needs a comma and throws on it; write %s", s, v, exact)
	}
	return rangeErr("", "%q is not a range: it must start with [ or ( and end with ] or ), e.g. [6.0.0,7.0.0)", s)
}

// noComma explains a bracketed value without a comma, such as [6.1.0]:
// both ends of CDAP look for the comma between two bounds.
func noComma(s string) error {
	const why = "CDAP reads [ or ( as the start of a range with two bounds and refuses it (its UI's range check throws on it)"
	inner := strings.TrimFunc(s[1:], cdapSpace)
	if s[0] == '[' && strings.HasSuffix(inner, "]") {
		v := strings.TrimFunc(strings.TrimSuffix(inner, "]"), cdapSpace)
		if _, err := ParseVersion(v); err == nil {
			exact := "[" + v + "," + v + "]"
			return rangeErr(exact, "%q is not a range: it has no comma; %s; for exactly %s write %s", s, why, v, exact)
		}
	}
	return rangeErr("", "%q is not a range: it has no comma; %s", s, why)
}

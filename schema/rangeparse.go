package schema

import (
	"fmt"
	"strings"
)

// A Range is a set of versions in interval notation: [a,b), [a,b], (a,b),
// (a,b], [a,), (,b), (,b], or [a] for exactly a. A missing bound is unbounded.
type Range struct {
	raw            string
	lo, hi         *Version
	loIncl, hiIncl bool
}

// ParseRange parses interval notation. It refuses ranges that no version
// can satisfy: inverted ([6.0.0,5.0.0)) and empty ([x,x), (x,x]) ones.
//
// It is the lenient grammar of queries (market fetch NAME@RANGE) and of
// reading catalogs written before ParseCDAPRange: it also takes open
// bounds, [x], and spaces around the range, which CDAP refuses. A spec's
// cdapVersion and artifact ranges are checked with ParseCDAPRange, and
// every range that accepts, this accepts with the same meaning.
func ParseRange(s string) (Range, error) {
	r := Range{raw: s}
	t := strings.TrimSpace(s)
	if len(t) < 2 {
		return r, fmt.Errorf("%q is not a range: want interval notation such as [6.0.0,7.0.0)", s)
	}
	open, closing := t[0], t[len(t)-1]
	if open != '[' && open != '(' || closing != ']' && closing != ')' {
		return r, fmt.Errorf("%q is not a range: it must start with [ or ( and end with ] or ), e.g. [6.0.0,7.0.0)", s)
	}
	r.loIncl, r.hiIncl = open == '[', closing == ']'
	body := t[1 : len(t)-1]
	lo, hi, comma := strings.Cut(body, ",")
	if strings.Contains(hi, ",") {
		return r, fmt.Errorf("%q is not a range: more than one comma", s)
	}
	lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
	if !comma {
		// [a] is exactly a.
		if !r.loIncl || !r.hiIncl || lo == "" {
			return r, fmt.Errorf("%q is not a range: a single version must be written [x]", s)
		}
		hi = lo
	}
	if lo != "" {
		v, err := ParseVersion(lo)
		if err != nil {
			return r, fmt.Errorf("%q: lower bound %w", s, err)
		}
		r.lo = &v
	} else if r.loIncl {
		return r, fmt.Errorf("%q is not a range: an unbounded lower end must be open, (,x)", s)
	}
	if hi != "" {
		v, err := ParseVersion(hi)
		if err != nil {
			return r, fmt.Errorf("%q: upper bound %w", s, err)
		}
		r.hi = &v
	} else if r.hiIncl {
		return r, fmt.Errorf("%q is not a range: an unbounded upper end must be open, [x,)", s)
	}
	if r.lo == nil && r.hi == nil {
		return r, fmt.Errorf("%q is not a range: it has no bounds", s)
	}
	if r.lo != nil && r.hi != nil {
		switch c := r.lo.Compare(*r.hi); {
		case c > 0:
			return r, fmt.Errorf("%q is inverted: lower bound %s is above upper bound %s, so no version matches", s, lo, hi)
		case c == 0 && !(r.loIncl && r.hiIncl):
			return r, fmt.Errorf("%q is empty: no version is both %s %s and %s %s", s, loWord(r.loIncl), lo, hiWord(r.hiIncl), hi)
		}
	}
	return r, nil
}

func loWord(incl bool) string {
	if incl {
		return ">="
	}
	return ">"
}

func hiWord(incl bool) string {
	if incl {
		return "<="
	}
	return "<"
}

// String returns the range as written.
func (r Range) String() string { return r.raw }

// Contains reports whether v lies inside the range.
func (r Range) Contains(v Version) bool {
	if r.lo != nil {
		c := v.Compare(*r.lo)
		if c < 0 || c == 0 && !r.loIncl {
			return false
		}
	}
	if r.hi != nil {
		c := v.Compare(*r.hi)
		if c > 0 || c == 0 && !r.hiIncl {
			return false
		}
	}
	return true
}

// Describe says the range in words, e.g. ">= 6.0.0 and < 7.0.0".
func (r Range) Describe() string {
	var parts []string
	if r.lo != nil && r.hi != nil && r.lo.Compare(*r.hi) == 0 {
		return "exactly " + r.lo.String()
	}
	if r.lo != nil {
		parts = append(parts, loWord(r.loIncl)+" "+r.lo.String())
	}
	if r.hi != nil {
		parts = append(parts, hiWord(r.hiIncl)+" "+r.hi.String())
	}
	return strings.Join(parts, " and ")
}

package schema

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// genericRange is the example given when no range can be derived from what
// was written.
const genericRange = "[6.0.0,7.0.0-SNAPSHOT)"

// openBound explains a range missing a bound. The backend parses an empty
// bound as a version and throws; the UI reads a missing upper bound as a
// version below every other, so no version fits under it.
func openBound(s, lo, hi string, loIncl, hiIncl bool) error {
	switch {
	case lo == "" && hi == "":
		return rangeErr(genericRange, "%q has no bounds: CDAP cannot parse it and its UI hides it from every version; give both, e.g. %s", s, genericRange)
	case hi == "":
		sugg := cmp.Or(suggestUpper(lo, loIncl), genericRange)
		return rangeErr(sugg, "%q has an open upper bound: CDAP cannot parse it and its UI hides it from every version; give an upper bound, e.g. %s", s, sugg)
	}
	sugg := cmp.Or(suggestLower(hi, hiIncl), genericRange)
	return rangeErr(sugg, "%q has an open lower bound: CDAP cannot parse it; give a lower bound, e.g. %s", s, sugg)
}

// suggestUpper closes [lo,) below the next major version's snapshot, the
// convention of the CDAP Hub's own packages, or returns "".
func suggestUpper(lo string, loIncl bool) string {
	v, err := ParseVersion(lo)
	if err != nil || v.Semver().Major() >= math.MaxInt32 {
		return ""
	}
	return acceptedOr(bracket(loIncl, '[', '(') + lo + "," + fmt.Sprintf("%d.0.0-SNAPSHOT", v.Semver().Major()+1) + ")")
}

// suggestLower opens (,hi) at hi's major version, or at the one before
// when that would leave the range empty, or returns "".
func suggestLower(hi string, hiIncl bool) string {
	v, err := ParseVersion(hi)
	if err != nil {
		return ""
	}
	majors := []uint64{v.Semver().Major()}
	if majors[0] > 0 {
		majors = append(majors, majors[0]-1)
	}
	for _, m := range majors {
		if s := acceptedOr(fmt.Sprintf("[%d.0.0,", m) + hi + bracket(hiIncl, ']', ')')); s != "" {
			return s
		}
	}
	return ""
}

// bracket returns yes for an inclusive bound and no for an exclusive one,
// so a suggestion keeps the bracket that was written.
func bracket(incl bool, yes, no byte) string {
	if incl {
		return string(yes)
	}
	return string(no)
}

// acceptedOr returns s when ParseCDAPRange accepts it, or "": a suggestion
// must never be refused in turn.
func acceptedOr(s string) string {
	if _, err := ParseCDAPRange(s); err != nil {
		return ""
	}
	return s
}

// checkCDAPOrder refuses a range whose bounds are out of order in any of
// the three orders that read it: ours (the builder places packages in each
// product version's catalog with it), the backend's, and the UI's.
func checkCDAPOrder(s string, r Range) error {
	lo, hi := *r.lo, *r.hi
	switch c := lo.Compare(hi); {
	case c > 0:
		return rangeErr("", "%q is inverted: lower bound %s is above upper bound %s, so no version matches", s, lo, hi)
	case c == 0 && !(r.loIncl && r.hiIncl):
		return rangeErr("", "%q is empty: no version is both %s %s and %s %s", s, loWord(r.loIncl), lo, hiWord(r.hiIncl), hi)
	}
	jl, jh := toJava(lo), toJava(hi)
	switch c := jl.compare(jh); {
	case c > 0:
		return rangeErr("", "%q is inverted for CDAP: its backend orders the lower bound %s above the upper bound %s (%s) and refuses the range", s, lo, hi, jl.why(jh))
	case c == 0 && r.loIncl && !r.hiIncl:
		return rangeErr("", "%q is empty for CDAP: its backend reads %s and %s as the same version (%s) and refuses [x,x)", s, lo, hi, jl.why(jh))
	}
	if why := uiEmpty(lo, hi, r.loIncl, r.hiIncl); why != "" {
		return rangeErr("", "%q matches no version in the CDAP UI, which hides it from every version: the UI compares only the numbers (0 as if missing) and whether a \"-\" suffix is there, so it %s", s, why)
	}
	return nil
}

// javaVersion is a version as the backend's ArtifactVersion holds it.
type javaVersion struct {
	nums      [3]int64 // -1 when missing or above a Java int (Integer.valueOf fails)
	overflow  [3]bool  // present, but above a Java int
	suffix    string
	hasSuffix bool
}

// toJava reads v as the backend does. Its pattern splits every version of
// our grammar into the same major, minor, fix and suffix as versionRE.
func toJava(v Version) javaVersion {
	m := versionRE.FindStringSubmatch(v.raw)
	j := javaVersion{suffix: m[4], hasSuffix: m[4] != ""}
	for i, p := range m[1:4] {
		j.nums[i] = -1
		if n, err := strconv.ParseInt(p, 10, 32); err == nil {
			j.nums[i] = n
		} else {
			j.overflow[i] = p != ""
		}
	}
	return j
}

// compare orders as ArtifactVersion.compareTo: numbers first, a missing
// one lowest; then a SNAPSHOT suffix below any other or none; then no
// suffix below any suffix, and suffixes as text.
func (a javaVersion) compare(b javaVersion) int {
	for i := range a.nums {
		if c := cmp.Compare(a.nums[i], b.nums[i]); c != 0 {
			return c
		}
	}
	if sa, sb := a.snapshot(), b.snapshot(); sa != sb {
		if sa {
			return -1
		}
		return 1
	}
	if a.hasSuffix != b.hasSuffix {
		if a.hasSuffix {
			return 1
		}
		return -1
	}
	return strings.Compare(a.suffix, b.suffix)
}

// why names the backend's rule that orders a and b other than ours.
func (a javaVersion) why(b javaVersion) string {
	for i := range a.nums {
		switch {
		case a.nums[i] == b.nums[i]:
			continue
		case a.overflow[i] || b.overflow[i]:
			return "it reads a number above 2147483647 as missing"
		}
		return "it reads a missing part as below 0, so 1.0 < 1.0.0"
	}
	switch {
	case a.snapshot() != b.snapshot():
		return "it orders a SNAPSHOT suffix below any other suffix"
	case a.hasSuffix != b.hasSuffix:
		return "it orders a suffix other than SNAPSHOT above the release, so 1.0.0-rc1 > 1.0.0"
	}
	return "it compares suffixes as text, so SNAPSHOT.10 < SNAPSHOT.2"
}

func (a javaVersion) snapshot() bool {
	return a.hasSuffix && strings.HasPrefix(strings.ToLower(a.suffix), "snapshot")
}

// uiVersion is a version as the UI's Version holds it: it splits off the
// suffix at the first "-" and parses the first three dot-separated parts
// with parseInt(...) || null, so 0, a missing part and a non-number alike
// become null, and a suffix after a "." is dropped.
type uiVersion struct {
	nums     [3]float64 // 0 for null; parseInt yields a double
	suffixed bool
}

func toUI(raw string) uiVersion {
	parts := strings.Split(raw, "-")
	u := uiVersion{suffixed: len(parts) > 1 && parts[1] != ""}
	for i, p := range strings.Split(parts[0], ".") {
		if i < len(u.nums) {
			u.nums[i] = leadingNumber(p)
		}
	}
	return u
}

// leadingNumber is parseInt(p, 10) for p without sign or leading spaces,
// 0 standing for NaN.
func leadingNumber(p string) float64 {
	n := strings.IndexFunc(p, func(c rune) bool { return c < '0' || c > '9' })
	if n < 0 {
		n = len(p)
	}
	f, err := strconv.ParseFloat(p[:n], 64)
	if err != nil {
		return 0
	}
	return f
}

// compare orders as the UI's Version.compareTo: numbers, null lowest; then
// a suffix below none; two suffixes are equal whatever they say.
func (a uiVersion) compare(b uiVersion) int {
	for i := range a.nums {
		if c := cmp.Compare(a.nums[i], b.nums[i]); c != 0 {
			return c
		}
	}
	switch {
	case a.suffixed == b.suffixed:
		return 0
	case a.suffixed:
		return -1
	}
	return 1
}

// next is the least version the UI orders above a: the same numbers
// without the suffix, or the next fix with one.
func (a uiVersion) next() uiVersion {
	if a.suffixed {
		a.suffixed = false
		return a
	}
	a.nums[2]++
	a.suffixed = true
	return a
}

// uiEmpty says how the UI sees no version between lo and hi (its
// versionIsInRange is false for every version), or returns "" when some
// version fits.
func uiEmpty(lo, hi Version, loIncl, hiIncl bool) string {
	l, h := toUI(lo.raw), toUI(hi.raw)
	switch c := l.compare(h); {
	case c > 0:
		return fmt.Sprintf("orders %s above %s", lo, hi)
	case c == 0 && !(loIncl && hiIncl):
		return fmt.Sprintf("reads %s and %s as the same version", lo, hi)
	case c < 0 && !loIncl && !hiIncl && l.next().compare(h) >= 0:
		return fmt.Sprintf("sees no version strictly between %s and %s", lo, hi)
	}
	return ""
}

package schema

// Models of the two CDAP readers of a range, written in Go from the
// behaviour of these files of repository cdapio/cdap (read, not copied):
//
//   - cdap-api/src/main/java/io/cdap/cdap/api/artifact/ArtifactVersionRange.java
//     (parse) and ArtifactVersion.java (constructor, compareTo): modelled by
//     javaParseRange.
//   - cdap-ui/app/cdap/services/VersionRange/index.js (parseRange,
//     versionIsInRange) and Version.js (constructor, compareTo), as
//     cdap-ui/app/cdap/components/Market/store/market-store.js
//     (filterEntities) applies them to every entry with a cdapVersion:
//     modelled by uiVerdict.
//
// They follow the sources step by step rather than share code with
// cdaprange.go, so that TestCDAPRangeVerdicts and FuzzParseCDAPRange check
// the port against an independent reading.

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// javaVersionRE is ArtifactVersion's VERSION_REGEX used with matches():
// anchored, \d ASCII, and Java's "." (no line terminators) spelled out.
var javaVersionRE = regexp.MustCompile(`^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[.\-]([^\n\r\x{85}\x{2028}\x{2029}]*))?$`)

// javaSuffixRE is SUFFIX_VALIDATION_REGEX, [a-zA-Z0-9-.]+.
var javaSuffixRE = regexp.MustCompile(`^[a-zA-Z0-9.-]+$`)

// javaModel is an ArtifactVersion; nil fields are Java nulls.
type javaModel struct {
	nums   [3]*int32
	suffix *string
}

// javaNewVersion is new ArtifactVersion(s): ok is false when getVersion()
// would be null; err is the IllegalArgumentException of a bad suffix.
func javaNewVersion(s string) (v javaModel, ok bool, err error) {
	m := javaVersionRE.FindStringSubmatchIndex(s)
	if m == nil {
		return v, false, nil
	}
	for i := 1; i <= 3; i++ {
		// Integer.valueOf: null when the group is absent or out of int range.
		if m[2*i] < 0 {
			continue
		}
		if n, err := strconv.ParseInt(s[m[2*i]:m[2*i+1]], 10, 32); err == nil {
			n32 := int32(n)
			v.nums[i-1] = &n32
		}
	}
	if m[8] >= 0 { // group 4 took part, even if empty ("1.0.0-")
		suffix := s[m[8]:m[9]]
		if !javaSuffixRE.MatchString(suffix) {
			return v, false, errors.New("IllegalArgumentException: the suffix of the version is not valid")
		}
		v.suffix = &suffix
	}
	return v, true, nil
}

// javaTrim is String.trim: it drops characters up to U+0020 at both ends.
func javaTrim(s string) string {
	return strings.TrimFunc(s, func(c rune) bool { return c <= ' ' })
}

// javaCompareInts is ArtifactVersion.compare for Integers: null lowest.
func javaCompareInts(a, b *int32) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp.Compare(*a, *b)
}

func (v javaModel) snapshot() bool {
	return v.suffix != nil && *v.suffix != "" && strings.HasPrefix(strings.ToLower(*v.suffix), "snapshot")
}

// compareTo is ArtifactVersion.compareTo.
func (v javaModel) compareTo(o javaModel) int {
	for i := range v.nums {
		if c := javaCompareInts(v.nums[i], o.nums[i]); c != 0 {
			return c
		}
	}
	switch {
	case v.snapshot() && !o.snapshot():
		return -1
	case o.snapshot() && !v.snapshot():
		return 1
	case v.suffix == nil && o.suffix == nil:
		return 0
	case v.suffix == nil:
		return -1
	case o.suffix == nil:
		return 1
	}
	return strings.Compare(*v.suffix, *o.suffix)
}

// javaRange is what ArtifactVersionRange.parse saw: the bound texts
// before and after trim.
type javaRange struct {
	rawLo, rawHi, lo, hi string
}

// javaParseRange is ArtifactVersionRange.parse: a non-nil error where it
// throws.
func javaParseRange(s string) (javaRange, error) {
	var jr javaRange
	if !strings.HasPrefix(s, "[") && !strings.HasPrefix(s, "(") {
		_, ok, err := javaNewVersion(s)
		if err == nil && !ok {
			err = errors.New("could not parse as an artifact version")
		}
		return jr, err
	}
	comma := strings.IndexByte(s[1:], ',')
	if comma < 0 {
		return jr, errors.New("could not find ','")
	}
	comma++
	jr.rawLo = s[1:comma]
	jr.lo = javaTrim(jr.rawLo)
	lo, ok, err := javaNewVersion(jr.lo)
	if err != nil || !ok {
		return jr, fmt.Errorf("lower version invalid: %v", err)
	}
	end := strings.IndexAny(s[comma+1:], "])")
	if end < 0 || comma+1+end != len(s)-1 {
		return jr, errors.New("no enclosing ] or ), or characters after it")
	}
	end += comma + 1
	jr.rawHi = s[comma+1 : end]
	jr.hi = javaTrim(jr.rawHi)
	hi, ok, err := javaNewVersion(jr.hi)
	if err != nil || !ok {
		return jr, fmt.Errorf("upper version invalid: %v", err)
	}
	switch c := lo.compareTo(hi); {
	case c > 0:
		return jr, errors.New("lower version is greater than upper version")
	case c == 0 && s[0] == '[' && s[end] == ')':
		return jr, errors.New("lower and upper equal, lower inclusive and upper exclusive")
	}
	return jr, nil
}

// jsString is a JavaScript string: UTF-16 code units.
type jsString []uint16

func js(s string) jsString { return utf16.Encode([]rune(s)) }

func (s jsString) String() string { return string(utf16.Decode(s)) }

// jsSpace is JavaScript's WhiteSpace and LineTerminator, what trim drops.
func jsSpace(c uint16) bool {
	switch c {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return c >= 0x2000 && c <= 0x200a
}

func jsTrim(s jsString) jsString {
	for len(s) > 0 && jsSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && jsSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// jsSubstr is s.substr(start, length).
func jsSubstr(s jsString, start, length int) jsString {
	start = min(max(start, 0), len(s))
	return s[start : start+min(max(length, 0), len(s)-start)]
}

func jsSplit(s jsString, sep uint16) []jsString {
	var parts []jsString
	for {
		i := -1
		for j, c := range s {
			if c == sep {
				i = j
				break
			}
		}
		if i < 0 {
			return append(parts, s)
		}
		parts, s = append(parts, s[:i]), s[i+1:]
	}
}

// jsParseInt is parseInt(s, 10): leading white space, a sign, then the
// longest run of digits; NaN without one.
func jsParseInt(s jsString) float64 {
	for len(s) > 0 && jsSpace(s[0]) {
		s = s[1:]
	}
	sign := 1.0
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == 0 {
		return math.NaN()
	}
	f, _ := strconv.ParseFloat(s[:n].String(), 64)
	return sign * f
}

// uiModel is the UI's Version; nil fields are JavaScript nulls.
type uiModel struct {
	nums   [3]*float64
	suffix *jsString
}

// uiNewVersion is new Version(s): the suffix is the part between the first
// and second "-" (null when empty), and each of the first three
// dot-separated parts of what precedes it is parseInt(part, 10) || null.
func uiNewVersion(s jsString) uiModel {
	var v uiModel
	bySuffix := jsSplit(s, '-')
	if len(bySuffix) > 1 && len(bySuffix[1]) > 0 {
		v.suffix = &bySuffix[1]
	}
	parts := jsSplit(bySuffix[0], '.')
	for i := range v.nums {
		n := math.NaN() // parseInt(undefined)
		if i < len(parts) {
			n = jsParseInt(parts[i])
		}
		if n != 0 && !math.IsNaN(n) {
			v.nums[i] = &n
		}
	}
	return v
}

// uiCompare is Version.compare: null lowest, null equal to null.
func uiCompare(a, b *float64) int {
	switch {
	case a == nil && b == nil || a != nil && b != nil && *a == *b:
		return 0
	case a == nil || b != nil && *a < *b:
		return -1
	}
	return 1
}

// compareTo is Version.compareTo: numbers, then no suffix above a suffix;
// two suffixes compare equal whatever they say.
func (v uiModel) compareTo(o uiModel) int {
	for i := range v.nums {
		if c := uiCompare(v.nums[i], o.nums[i]); c != 0 {
			return c
		}
	}
	switch {
	case v.suffix == nil && o.suffix == nil:
		return 0
	case v.suffix == nil:
		return 1
	case o.suffix == nil:
		return -1
	}
	return 0
}

// uiRange is the UI's VersionRange.
type uiRange struct {
	lower, upper                       uiModel
	isLowerInclusive, isUpperInclusive bool
}

// uiParseRange is parseRange. Note the upper bound: it is cut to the
// length of the untrimmed part after the comma less one, so with spaces
// after the comma the closing bracket stays in ("7.0.0)"), where parseInt
// and the suffix test do not notice it.
func uiParseRange(s string) (uiRange, error) {
	t := jsTrim(js(s))
	var r uiRange
	r.isLowerInclusive = len(t) > 0 && t[0] == '['
	r.isUpperInclusive = len(t) > 0 && t[len(t)-1] == ']'
	split := jsSplit(t, ',')
	if len(split) < 2 {
		return r, errors.New("TypeError: split[1] is undefined")
	}
	r.lower = uiNewVersion(jsTrim(jsSubstr(jsTrim(split[0]), 1, math.MaxInt)))
	r.upper = uiNewVersion(jsTrim(jsSubstr(jsTrim(split[1]), 0, len(split[1])-1)))
	return r, nil
}

// versionIsInRange is VersionRange.versionIsInRange.
func (r uiRange) versionIsInRange(v uiModel) bool {
	lc, uc := v.compareTo(r.lower), v.compareTo(r.upper)
	return (r.isLowerInclusive && lc >= 0 || !r.isLowerInclusive && lc > 0) &&
		(r.isUpperInclusive && uc <= 0 || !r.isUpperInclusive && uc < 0)
}

// uiVerdict is what filterEntities does with a cdapVersion: "throws" (and
// with it the whole package list), "hides" (no version is in range) or
// "ok". The versions tried are the lower bound and the versions just above
// it (its numbers with and without a suffix, and with the next fix): the
// UI orders versions by numbers and suffix presence alone, so if any
// version is in range, one of these is.
func uiVerdict(s string) string {
	r, err := uiParseRange(s)
	if err != nil {
		return "throws"
	}
	num := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	try := []uiModel{r.lower, r.upper}
	m, n, f := num(r.lower.nums[0]), num(r.lower.nums[1]), num(r.lower.nums[2])
	for _, fix := range []float64{f, f + 1} {
		for _, suffix := range []string{"", "-x"} {
			text := fmt.Sprintf("%s.%s.%s%s", jsNumber(m), jsNumber(n), jsNumber(fix), suffix)
			try = append(try, uiNewVersion(js(text)))
		}
	}
	for _, v := range try {
		if r.versionIsInRange(v) {
			return "ok"
		}
	}
	return "hides"
}

func jsNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

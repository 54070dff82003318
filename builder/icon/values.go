package icon

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/srwiley/oksvg"
)

// maxCoord bounds every number read from an SVG. The rasterizer converts
// coordinates to 26.6 fixed point, and a float that does not fit converts
// differently on different CPUs; icons never need more.
const maxCoord = 1e7

// number reads a plain number, or one in px (the same unit).
func number(v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), "px"), 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > maxCoord {
		return 0, fmt.Errorf("%q is not a number (plain or in px) of at most %s", v, format(maxCoord))
	}
	return f, nil
}

// fraction reads a gradient coordinate or stop offset: a number or a
// percentage, as oksvg's readFraction does.
func fraction(v string) (float64, error) {
	v = strings.TrimSpace(v)
	if p, ok := strings.CutSuffix(v, "%"); ok {
		f, err := number(p)
		return f / 100, err
	}
	return number(v)
}

// format writes a number so that oksvg reads back the same float64: no
// exponent, which its number scanner splits at the sign.
func format(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// numbers reads a list of numbers separated by spaces or commas.
func numbers(v string) ([]float64, error) {
	var out []float64
	for _, s := range strings.FieldsFunc(v, isSeparator) {
		f, err := number(s)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// isSeparator reports whether r separates numbers in an SVG list.
func isSeparator(r rune) bool {
	return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
}

// transformArgs is how many numbers each transform function takes.
var transformArgs = map[string][]int{
	"matrix": {6}, "translate": {1, 2}, "scale": {1, 2},
	"rotate": {1, 3}, "skewX": {1}, "skewY": {1},
}

// transform checks a transform list and rewrites it for oksvg: scale(s)
// becomes scale(s s), since oksvg reads a lone scale factor as scale(s 0)
// and flattens the element to nothing.
func transform(v string) (string, error) {
	var out []string
	rest := strings.TrimSpace(v)
	for rest != "" {
		name, args, ok := strings.Cut(rest, "(")
		args, after, ok2 := strings.Cut(args, ")")
		name = strings.TrimSpace(name)
		counts, known := transformArgs[name]
		if !ok || !ok2 || !known {
			return "", fmt.Errorf("transform %q: cannot read it", v)
		}
		nums, err := numbers(args)
		if err != nil || !contains(counts, len(nums)) {
			return "", fmt.Errorf("transform %q: %s() takes %v numbers", v, name, counts)
		}
		if name == "scale" && len(nums) == 1 {
			nums = append(nums, nums[0])
		}
		parts := make([]string, len(nums))
		for i, f := range nums {
			parts[i] = format(f)
		}
		out = append(out, name+"("+strings.Join(parts, " ")+")")
		rest = strings.TrimLeft(after, " \t\r\n,")
	}
	return strings.Join(out, " "), nil
}

// contains reports whether n is in ns.
func contains(ns []int, n int) bool {
	for _, m := range ns {
		if m == n {
			return true
		}
	}
	return false
}

// colour checks a colour value that oksvg must read: it refuses what oksvg
// cannot (rgba(), #rrggbbaa, ...) rather than let it fail later.
func colour(v string) error {
	if _, err := oksvg.ParseSVGColor(v); err != nil {
		return fmt.Errorf("colour %q: the rasterizer cannot read it", v)
	}
	return nil
}

// pathData checks a path's d attribute and returns it rewritten with
// every number spelled out and separated. oksvg's own scanner reads the
// compact arc flags that minifiers write ("a10 10 0 110 20") as one number,
// and splits "1e+5" at the sign; and when drawing it drops a path it
// cannot parse without a word, so the result is checked with its parser
// in strict mode.
func pathData(d string) (string, error) {
	out, err := normalizePath(d)
	if err == nil {
		pc := oksvg.PathCursor{ErrorMode: oksvg.StrictErrorMode}
		err = pc.CompilePath(out)
	}
	if err != nil {
		return "", fmt.Errorf("path data %q: %v", abbreviate(d), err)
	}
	return out, nil
}

// normalizePath tokenizes path data by SVG's grammar.
func normalizePath(d string) (string, error) {
	var b strings.Builder
	var cmd byte
	arg := 0
	for i := 0; ; {
		for i < len(d) && (isSeparator(rune(d[i])) || d[i] == '\f') {
			i++
		}
		if i == len(d) {
			return strings.TrimSpace(b.String()), nil
		}
		c := d[i]
		switch {
		case strings.IndexByte("MmZzLlHhVvCcSsQqTtAa", c) >= 0:
			cmd, arg = c, 0
			b.WriteString(string(c) + " ")
			i++
			continue
		case cmd == 0 || cmd == 'Z' || cmd == 'z':
			return "", fmt.Errorf("%q where a command is expected", c)
		case (cmd == 'A' || cmd == 'a') && (arg%7 == 3 || arg%7 == 4):
			if c != '0' && c != '1' {
				return "", fmt.Errorf("arc flag %q: want 0 or 1", c)
			}
			b.WriteString(string(c) + " ")
			i, arg = i+1, arg+1
			continue
		}
		n := numberLength(d[i:])
		if n == 0 {
			return "", fmt.Errorf("cannot read a number at %q", abbreviate(d[i:]))
		}
		f, err := number(d[i : i+n])
		if err != nil {
			return "", err
		}
		b.WriteString(format(f) + " ")
		i, arg = i+n, arg+1
	}
}

// numberLength is the length of the number s starts with: a sign, digits
// with at most one point, and an exponent; 0 when there is none.
func numberLength(s string) int {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			for i = j; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			}
		}
	}
	return i
}

// pointsPath turns a polyline's or polygon's points into path data, which
// oksvg draws as browsers do (it draws no polyline of two points).
func pointsPath(points string, closed bool) (string, error) {
	nums, err := numbers(points)
	if err != nil || len(nums)%2 != 0 {
		return "", fmt.Errorf("points %q: want pairs of numbers", abbreviate(points))
	}
	if len(nums) < 4 {
		return "", nil // a single point draws nothing
	}
	var b strings.Builder
	for i := 0; i < len(nums); i += 2 {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&b, "%s%s %s ", cmd, format(nums[i]), format(nums[i+1]))
	}
	if closed {
		b.WriteString("Z")
	}
	return strings.TrimSpace(b.String()), nil
}

// abbreviate shortens a long value for an error message.
func abbreviate(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

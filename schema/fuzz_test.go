package schema

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/market-dev/market/schema/problem"
)

// The fuzz targets below are seeded from the package's own test data: the
// string literals of version_test.go and cdaprange_test.go (their version
// and range tables), the
// version folders and spec.json files of ../packages, and the spec.json
// sections of testdata/spec/*.txtar. Run one with, e.g.,
//
//	go test -run='^$' -fuzz='^FuzzParseSpec$' -fuzztime=30s -parallel=1 ./schema/

// fuzzNow is the fixed "now" of the spec targets (the one TestSpecCases uses).
var fuzzNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fuzzSpecs returns the example and test-case spec.json files.
func fuzzSpecs(tb testing.TB) [][]byte {
	tb.Helper()
	var specs [][]byte
	examples, err := filepath.Glob("../packages/*/*/spec.json")
	if err != nil {
		tb.Fatal(err)
	}
	for _, file := range examples {
		data, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		specs = append(specs, data)
	}
	cases, err := filepath.Glob("testdata/spec/*.txtar")
	if err != nil {
		tb.Fatal(err)
	}
	for _, file := range cases {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		for _, f := range ar.Files {
			if f.Name == "spec.json" {
				// The escapes TestSpecCases decodes.
				data := bytes.ReplaceAll(f.Data, []byte(`\xEF\xBB\xBF`), []byte("\xEF\xBB\xBF"))
				specs = append(specs, bytes.ReplaceAll(data, []byte(`\xFF`), []byte("\xFF")))
			}
		}
	}
	if len(examples) == 0 || len(cases) == 0 {
		tb.Fatalf("no seed specs: %d examples, %d cases", len(examples), len(cases))
	}
	return specs
}

// fuzzStrings returns candidate versions and ranges: every string literal of
// version_test.go and cdaprange_test.go, every version folder name under
// ../packages, and every short JSON string in the seed specs (cdapVersion,
// version arguments, …).
func fuzzStrings(tb testing.TB) []string {
	tb.Helper()
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] && len(s) <= 64 {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, name := range []string{"version_test.go", "cdaprange_test.go"} {
		file, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			tb.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					add(s)
				}
			}
			return true
		})
	}
	dirs, err := filepath.Glob("../packages/*/*")
	if err != nil {
		tb.Fatal(err)
	}
	for _, d := range dirs {
		add(filepath.Base(d))
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			add(v)
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	for _, data := range fuzzSpecs(tb) {
		var v any
		if json.Unmarshal(data, &v) == nil {
			walk(v)
		}
	}
	if len(out) < 20 {
		tb.Fatalf("only %d seed strings", len(out))
	}
	return out
}

// FuzzParseVersion: ParseVersion never panics, and a version it accepts
// keeps its spelling (String), reparses to an equal version, and equals the
// version its semver form spells.
func FuzzParseVersion(f *testing.F) {
	for _, s := range fuzzStrings(f) {
		f.Add(s)
	}
	probes := fuzzProbeVersions(f)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ParseVersion(%q): empty error", s)
			}
			return
		}
		if v.String() != s {
			t.Fatalf("ParseVersion(%q).String() = %q", s, v.String())
		}
		if v.Semver() == nil {
			t.Fatalf("ParseVersion(%q): no semver form", s)
		}
		w, err := ParseVersion(v.String())
		if err != nil {
			t.Fatalf("ParseVersion(%q) ok, but its String %q does not reparse: %v", s, v.String(), err)
		}
		if c := v.Compare(w); c != 0 || w.Compare(v) != 0 {
			t.Fatalf("ParseVersion(%q) and its reparse compare %d", s, c)
		}
		// One version, one spelling per form: the semver form is itself a
		// version of the grammar and orders equal (1.0 == 1.0.0, 1.0.0.3 == 1.0.0-3).
		canon := v.Semver().String()
		u, err := ParseVersion(canon)
		if err != nil {
			t.Fatalf("ParseVersion(%q) ok, but its semver form %q is refused: %v", s, canon, err)
		}
		if c := v.Compare(u); c != 0 {
			t.Fatalf("%q and its semver form %q compare %d", s, canon, c)
		}
		if u.Semver().String() != canon {
			t.Fatalf("the semver form %q of %q is not canonical: it maps to %q", canon, s, u.Semver().String())
		}
		// The order is antisymmetric against the probe versions.
		for _, p := range probes {
			if a, b := v.Compare(p), p.Compare(v); a != -b {
				t.Fatalf("%q vs %s compares %d, but %s vs %q compares %d", s, p, a, p, s, b)
			}
		}
	})
}

// fuzzProbes are the versions each fuzzed version is compared with and each
// fuzzed range is asked about.
var fuzzProbes = []string{"1.0.0", "6.0.0-SNAPSHOT", "6.1.2", "7.0.0"}

func fuzzProbeVersions(tb testing.TB) []Version {
	tb.Helper()
	probes := make([]Version, len(fuzzProbes))
	for i, p := range fuzzProbes {
		v, err := ParseVersion(p)
		if err != nil {
			tb.Fatal(err)
		}
		probes[i] = v
	}
	return probes
}

// FuzzParseRange: ParseRange never panics; a range it accepts reparses from
// its String to a range answering Contains the same, includes its lower
// bound exactly when it says so, and describes itself in words.
func FuzzParseRange(f *testing.F) {
	for _, s := range fuzzStrings(f) {
		f.Add(s)
	}
	probes := fuzzProbeVersions(f)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ParseRange(%q): empty error", s)
			}
			return
		}
		again, err := ParseRange(r.String())
		if err != nil {
			t.Fatalf("ParseRange(%q) ok, but its String %q does not reparse: %v", s, r.String(), err)
		}
		for _, p := range probes {
			if a, b := r.Contains(p), again.Contains(p); a != b {
				t.Fatalf("%q contains %s = %v, but its reparse says %v", s, p, a, b)
			}
		}
		if r.Describe() == "" {
			t.Fatalf("ParseRange(%q).Describe() is empty", s)
		}
		if r.lo == nil && r.hi == nil {
			t.Fatalf("ParseRange(%q) accepted a range without bounds", s)
		}
		if r.lo != nil && r.Contains(*r.lo) != r.loIncl {
			t.Fatalf("%q contains its lower bound %s = %v, want %v", s, r.lo, r.Contains(*r.lo), r.loIncl)
		}
		if r.hi != nil && r.Contains(*r.hi) != r.hiIncl {
			t.Fatalf("%q contains its upper bound %s = %v, want %v", s, r.hi, r.Contains(*r.hi), r.hiIncl)
		}
	})
}

// FuzzParseCDAPRange: ParseCDAPRange never panics, and accepts exactly the
// ranges both CDAP readers accept (the models of cdapmodel_test.go), less
// those our own rules refuse: a bound outside our version grammar, a bound
// the two readers trim differently, a range empty in our order. What it
// accepts, ParseRange reads the same; what it suggests, it accepts.
func FuzzParseCDAPRange(f *testing.F) {
	for _, s := range fuzzStrings(f) {
		f.Add(s)
	}
	probes := fuzzProbeVersions(f)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseCDAPRange(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ParseCDAPRange(%q): empty error", s)
			}
			checkSuggestion(t, s, err)
		}
		jr, jerr := javaParseRange(s)
		ui := uiVerdict(s)
		if err == nil {
			if jerr != nil || ui != "ok" {
				t.Fatalf("ParseCDAPRange(%q) accepted it, but the backend says %v and the UI %s", s, jerr, ui)
			}
			lenient, err := ParseRange(s)
			if err != nil {
				t.Fatalf("ParseCDAPRange(%q) accepted it, ParseRange refuses it: %v", s, err)
			}
			for _, p := range probes {
				if a, b := r.Contains(p), lenient.Contains(p); a != b {
					t.Fatalf("%q contains %s = %v, but ParseRange says %v", s, p, a, b)
				}
			}
			return
		}
		if jerr == nil && ui == "ok" && isRangeStart(s) && fuzzOwnRulesAccept(s, jr) {
			t.Fatalf("both CDAP readers and our rules accept %q, ParseCDAPRange refuses it: %v", s, err)
		}
	})
}

// fuzzOwnRulesAccept reports whether a range the backend parsed as jr
// passes the rules we add: bounds of our version grammar, padded only with
// what both readers trim, in an order that leaves the range non-empty.
func fuzzOwnRulesAccept(s string, jr javaRange) bool {
	for _, raw := range []string{jr.rawLo, jr.rawHi} {
		both := strings.TrimFunc(raw, cdapSpace)
		if both != javaTrim(raw) || both != jsTrim(js(raw)).String() {
			return false
		}
		if _, err := ParseVersion(both); err != nil {
			return false
		}
	}
	_, err := ParseRange(s)
	return err == nil
}

// FuzzParseSpec: Parse never panics; it returns a spec or at least one
// error; every problem names spec.json and a JSON pointer; a spec it accepts
// has every required field in a plausible form; and ParseChecked, given
// bytes Parse accepted, returns the same spec and problems.
func FuzzParseSpec(f *testing.F) {
	for _, data := range fuzzSpecs(f) {
		f.Add(data)
	}
	// Near misses of the created rule, refused today, for the mutator to work from.
	for _, created := range []string{`1.5`, `"1600000000"`, `99`, `-1`, `1600000000000`, `null`} {
		f.Add([]byte(`{"specVersion":"1.0","label":"L","description":"D","author":"A","org":"O","created":` + created +
			`,"categories":["x"],"actions":[{"type":"informational","arguments":[{"name":"steps","value":["go"]}]}]}`))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		spec, probs := Parse("spec.json", data, fuzzNow)
		fuzzCheckProblems(t, "Parse", probs)
		if errs := fuzzErrors(probs); errs > 0 || spec == nil {
			if spec == nil && errs == 0 {
				t.Fatalf("Parse returned no spec and no error; problems:\n%s", fuzzDump(probs))
			}
			return
		}
		// ParseChecked skips the structural checks these bytes just passed:
		// it must come to the same result.
		spec2, probs2 := ParseChecked("spec.json", data, fuzzNow)
		if !reflect.DeepEqual(spec, spec2) {
			a, _ := json.Marshal(spec)
			b, _ := json.Marshal(spec2)
			t.Fatalf("Parse and ParseChecked disagree on the spec:\nParse:        %s\nParseChecked: %s\nParseChecked problems:\n%s", a, b, fuzzDump(probs2))
		}
		if !slices.Equal(slices.Clone(probs).Sort(), slices.Clone(probs2).Sort()) {
			t.Fatalf("Parse and ParseChecked disagree on the problems:\nParse:\n%s\nParseChecked:\n%s", fuzzDump(probs), fuzzDump(probs2))
		}
		fuzzCheckAccepted(t, spec)

		// What was accepted, written back, is accepted as the same spec.
		out, err := json.Marshal(spec)
		if err != nil {
			t.Fatalf("an accepted spec does not marshal: %v", err)
		}
		spec3, probs3 := Parse("spec.json", out, fuzzNow)
		if fuzzErrors(probs3) > 0 || spec3 == nil {
			t.Fatalf("an accepted spec, written back as %s, is refused:\n%s", out, fuzzDump(probs3))
		}
		if out3, _ := json.Marshal(spec3); !bytes.Equal(out, out3) {
			t.Fatalf("an accepted spec changes when written back and read again:\n%s\n%s", out, out3)
		}
	})
}

// fuzzCheckProblems checks the form of every problem.
func fuzzCheckProblems(t *testing.T, op string, probs problem.List) {
	t.Helper()
	for _, p := range probs {
		switch {
		case p.File != "spec.json":
			t.Fatalf("%s: problem about file %q, want spec.json: %s", op, p.File, p)
		case p.Pointer != "" && !strings.HasPrefix(p.Pointer, "/"):
			t.Fatalf("%s: problem pointer %q is not a JSON pointer: %s", op, p.Pointer, p)
		case p.Severity != problem.Error && p.Severity != problem.Warning:
			t.Fatalf("%s: problem severity %q: %s", op, p.Severity, p)
		case p.Message == "":
			t.Fatalf("%s: problem without a message at %q", op, p.Pointer)
		}
	}
}

// fuzzCheckAccepted checks what schema/README.md says every spec.json has.
func fuzzCheckAccepted(t *testing.T, s *Spec) {
	t.Helper()
	latest := fuzzNow.Add(24 * time.Hour).Unix()
	switch {
	case s.SpecVersion != "1.0":
		t.Fatalf("accepted specVersion %q", s.SpecVersion)
	case s.Label == "" || s.Description == "" || s.Author == "" || s.Org == "":
		t.Fatalf("accepted an empty label, description, author or org: %+v", s)
	case s.Created < EarliestCreated || s.Created > latest:
		t.Fatalf("accepted created %d, outside %d..%d (2000-01-01 .. now+24h)", s.Created, EarliestCreated, latest)
	case len(s.Categories) == 0 || slices.Contains(s.Categories, ""):
		t.Fatalf("accepted categories %q", s.Categories)
	case len(s.Actions) == 0:
		t.Fatal("accepted a spec without actions")
	case (s.CDAPVersion == "") != (s.Range == nil):
		t.Fatalf("cdapVersion %q, parsed range %v", s.CDAPVersion, s.Range)
	}
	for _, ref := range s.Files() {
		if msg := CheckFileName(ref.Name); msg != "" {
			t.Fatalf("accepted file name %q at %s: %s", ref.Name, ref.Pointer, msg)
		}
	}
}

func fuzzErrors(probs problem.List) int {
	n := 0
	for _, p := range probs {
		if p.Severity == problem.Error {
			n++
		}
	}
	return n
}

func fuzzDump(probs problem.List) string {
	if len(probs) == 0 {
		return "\t(none)"
	}
	var b strings.Builder
	for _, p := range probs {
		b.WriteString("\t" + p.String() + "\n")
	}
	return b.String()
}

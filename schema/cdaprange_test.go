package schema

import (
	"errors"
	"strings"
	"testing"
)

// cdapRangeCases documents the port. Each input has the verdicts of the
// two CDAP readers, as read in repository cdapio/cdap:
//
//   - java: cdap-api/src/main/java/io/cdap/cdap/api/artifact/
//     ArtifactVersionRange.java (parse) with ArtifactVersion.java: "ok" or
//     "throws".
//   - ui: cdap-ui/app/cdap/services/VersionRange/index.js and Version.js, as
//     cdap-ui/app/cdap/components/Market/store/market-store.js
//     (filterEntities) uses them: "ok", "hides" (from every version) or
//     "throws" (and the whole package list with it).
//
// err is what ParseCDAPRange says ("" = accepted). It accepts only when
// both readers do; why explains every input both accept that it refuses.
var cdapRangeCases = []struct {
	in, java, ui, err, why string
}{
	// The accepted form.
	{in: "[6.0.0,7.0.0)", java: "ok", ui: "ok"},
	{in: "[6.0.0,7.0.0-SNAPSHOT)", java: "ok", ui: "ok"},
	{in: "(6.1.0,7.0.0-SNAPSHOT)", java: "ok", ui: "ok"},
	{in: "[4.1.0,4.1.0]", java: "ok", ui: "ok"},
	{in: "[6.0.0-SNAPSHOT,6.0.0)", java: "ok", ui: "ok"},
	// A space after the comma: the backend trims each bound; the UI keeps the
	// closing bracket in the upper bound ("7.0.0)"), which parseInt ignores.
	{in: "[6.0.0, 7.0.0)", java: "ok", ui: "ok"},
	{in: "[6.0.0, 7.0.0-SNAPSHOT)", java: "ok", ui: "ok"},
	// Spaces inside the brackets: both trim every bound.
	{in: "[ 6.0.0 , 7.0.0 )", java: "ok", ui: "ok"},
	{in: "[6.0.0 ,7.0.0)", java: "ok", ui: "ok"},
	{in: "[6.0.0,\t7.0.0)", java: "ok", ui: "ok"},
	// A version without a dot, or with one: missing parts.
	{in: "[6,7)", java: "ok", ui: "ok"},
	{in: "[6.0,7.0)", java: "ok", ui: "ok"},
	// A suffix after "." (the backend: a suffix; the UI drops it, 6.1.0).
	{in: "[6.1.0.SNAPSHOT,7.0.0)", java: "ok", ui: "ok"},
	{in: "[9.4.1211.jre7,10.0.0)", java: "ok", ui: "ok"},

	// Open bounds: the backend parses "" as a version and throws. The UI
	// reads "" as a version below all: an open upper bound is below every
	// version, an open lower bound below none.
	{in: "[6.0.0,)", java: "throws", ui: "hides", err: "open upper bound: CDAP cannot parse it and its UI hides it from every version; give an upper bound, e.g. [6.0.0,7.0.0-SNAPSHOT)"},
	{in: "(6.5.0, )", java: "throws", ui: "hides", err: "e.g. (6.5.0,7.0.0-SNAPSHOT)"},
	{in: "(,7.0.0)", java: "throws", ui: "ok", err: "open lower bound: CDAP cannot parse it; give a lower bound, e.g. [6.0.0,7.0.0)"},
	{in: "(,6.5.0]", java: "throws", ui: "ok", err: "e.g. [6.0.0,6.5.0]"},
	{in: "[,7.0.0)", java: "throws", ui: "ok", err: "open lower bound"},
	{in: "(,)", java: "throws", ui: "hides", err: "no bounds"},

	// Spaces around the range: the backend needs the bracket first (else it
	// reads one version) and last; the UI trims.
	{in: " [6.0.0,7.0.0)", java: "throws", ui: "ok", err: `spaces around it: CDAP reads a range only when [ or ( is its very first character and ] or ) its very last; remove the spaces: "[6.0.0,7.0.0)"`},
	{in: "[6.0.0,7.0.0) ", java: "throws", ui: "ok", err: `remove the spaces: "[6.0.0,7.0.0)"`},
	{in: "\u00a0[6.0.0,7.0.0)", java: "throws", ui: "ok", err: "spaces around it"},
	{in: " [6.0.0,)", java: "throws", ui: "hides", err: "spaces around it: CDAP reads a range only when [ or ( is its very first character and ] or ) its very last; without them: \"[6.0.0,)\" has an open upper bound"},

	// No comma: the backend throws; the UI's split(',')[1] is undefined and
	// .trim() on it throws.
	{in: "[6.1.0]", java: "throws", ui: "throws", err: "no comma; CDAP reads [ or ( as the start of a range with two bounds and refuses it (its UI's range check throws on it); for exactly 6.1.0 write [6.1.0,6.1.0]"},
	{in: "(1.0.0)", java: "throws", ui: "throws", err: "no comma"},
	{in: "[]", java: "throws", ui: "throws", err: "no comma"},
	// One version: the backend reads it as exactly that version.
	{in: "6.1.0", java: "ok", ui: "throws", err: "is a single version, not a range: CDAP's backend would read it as exactly 6.1.0, but its UI's range check needs a comma and throws on it; write [6.1.0,6.1.0]"},
	{in: "6", java: "ok", ui: "throws", err: "write [6,6]"},
	{in: "", java: "throws", ui: "throws", err: "is not a range"},

	// Bounds out of order. The backend throws on lower > upper and on
	// [x,x); it accepts (x,x] and (x,x), which the UI hides.
	{in: "[2.0.0,1.0.0)", java: "throws", ui: "hides", err: "is inverted"},
	{in: "[6.0.0,6.0.0-SNAPSHOT)", java: "throws", ui: "hides", err: "is inverted"},
	{in: "[6.1.2,6.1.2)", java: "throws", ui: "hides", err: "is empty"},
	{in: "(1.0.0,1.0.0]", java: "ok", ui: "hides", err: "is empty"},
	{in: "(6.1.0-SNAPSHOT, 6.1.0-SNAPSHOT)", java: "ok", ui: "hides", err: "is empty"},
	// The backend's order: a missing part below 0; a suffix other than
	// SNAPSHOT above the release; suffixes as text.
	{in: "[1.0.0,1.0]", java: "throws", ui: "ok", err: "is inverted for CDAP: its backend orders the lower bound 1.0.0 above the upper bound 1.0"},
	{in: "[1.0.0-rc1,1.0.0]", java: "throws", ui: "ok", err: "is inverted for CDAP"},
	{in: "[1.0.0.1,1.0.0]", java: "throws", ui: "ok", err: "is inverted for CDAP"},
	{in: "[1.0,1.0.0)", java: "ok", ui: "hides", err: "is empty"},
	// Numbers above a Java int are null to the backend, so these are equal.
	{in: "[3000000000.0.0,4000000000.0.0)", java: "throws", ui: "ok", err: "is empty for CDAP"},
	{in: "[3000000000.0.0,4000000000.0.0]", java: "ok", ui: "ok"},
	// The UI's order: suffixes are all equal, and nothing lies between a
	// suffixed version and its release, or a release and the next fix's
	// suffixed versions.
	{in: "[1.0.0-a,1.0.0-b)", java: "ok", ui: "hides", err: "matches no version in the CDAP UI, which hides it from every version: the UI compares only the numbers (0 as if missing) and whether a \"-\" suffix is there, so it reads 1.0.0-a and 1.0.0-b as the same version"},
	{in: "(6.0.0-SNAPSHOT,6.0.0)", java: "ok", ui: "hides", err: "sees no version strictly between 6.0.0-SNAPSHOT and 6.0.0"},
	{in: "(6.0.0,6.0.1-SNAPSHOT)", java: "ok", ui: "hides", err: "sees no version strictly between"},

	// Not ranges of the grammar.
	{in: "[1.0.0,2.0.0", java: "throws", ui: "ok", err: "no ] or ) closes it"},
	{in: "[1.0.0,2.0.0))", java: "throws", ui: "ok", err: "characters after its closing )"},
	{in: "[1.0,2.0,3.0)", java: "throws", ui: "ok", err: "more than one comma"},
	{in: "[x.1,2.0)", java: "throws", ui: "ok", err: "lower bound"},
	{in: "[1.0.0!,2.0)", java: "throws", ui: "ok", err: "lower bound"},
	{in: "[1.0,2.0.0.0.x!)", java: "throws", ui: "ok", err: "upper bound"},
	{in: "[\u00a06.0.0,7.0.0)", java: "throws", ui: "ok", err: "lower bound"},

	// Both accept; we refuse.
	{in: "[06.0,7.0)", java: "ok", ui: "ok", err: "leading zero",
		why: "our version grammar (version.go) refuses leading zeros: 06.0 and 6.0 would be two spellings of one version"},
	{in: "[\x016.0.0,7.0.0)", java: "ok", ui: "ok", err: "lower bound",
		why: "the backend trims control characters, the UI does not: it reads the lower bound as missing, so the two read different ranges"},
	{in: "[1.0.0-SNAPSHOT.10,1.0.0-SNAPSHOT.2]", java: "ok", ui: "ok", err: "is inverted",
		why: "the builder orders suffixes as semver pre-releases (10 > 2), so no product version's catalog would list the package"},
}

// TestCDAPRangeVerdicts checks each documented verdict against the models
// of the CDAP sources (cdapmodel_test.go) and ParseCDAPRange against the
// table.
func TestCDAPRangeVerdicts(t *testing.T) {
	for _, tc := range cdapRangeCases {
		java := "ok"
		if _, err := javaParseRange(tc.in); err != nil {
			java = "throws"
		}
		if java != tc.java {
			t.Errorf("%q: the backend model says %s, the table %s", tc.in, java, tc.java)
		}
		if ui := uiVerdict(tc.in); ui != tc.ui {
			t.Errorf("%q: the UI model says %s, the table %s", tc.in, ui, tc.ui)
		}
		_, err := ParseCDAPRange(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParseCDAPRange(%q): %v", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseCDAPRange(%q) error = %v, want one saying %q", tc.in, err, tc.err)
		case tc.err == "" && (tc.java != "ok" || tc.ui != "ok"):
			t.Errorf("%q: accepted, but CDAP's backend %s and its UI %s", tc.in, tc.java, tc.ui)
		case tc.err != "" && tc.java == "ok" && tc.ui == "ok" && tc.why == "":
			t.Errorf("%q: both CDAP readers accept it; say why it is refused", tc.in)
		}
		checkSuggestion(t, tc.in, err)
	}
}

// checkSuggestion: a suggested range is itself accepted.
func checkSuggestion(t *testing.T, in string, err error) {
	t.Helper()
	var re *RangeError
	if !errors.As(err, &re) || re.Suggestion == "" {
		return
	}
	if _, err := ParseCDAPRange(re.Suggestion); err != nil {
		t.Errorf("ParseCDAPRange(%q) suggests %q, which it refuses: %v", in, re.Suggestion, err)
	}
	if !strings.Contains(re.Msg, re.Suggestion) {
		t.Errorf("ParseCDAPRange(%q): the message %q does not show the suggestion %q", in, re.Msg, re.Suggestion)
	}
}

// TestCDAPRangeMeaning: an accepted range means what ParseRange reads.
func TestCDAPRangeMeaning(t *testing.T) {
	checks := map[string][]struct {
		version string
		in      bool
	}{
		"[6.0.0, 7.0.0)":                  {{"5.9.9", false}, {"6.0.0", true}, {"7.0.0-SNAPSHOT", true}, {"7.0.0", false}},
		"[6.0.0-SNAPSHOT,7.0.0-SNAPSHOT)": {{"6.0.0-SNAPSHOT", true}, {"6.5.0", true}, {"7.0.0-SNAPSHOT", false}},
		"[4.1.0,4.1.0]":                   {{"4.1.0", true}, {"4.1.1", false}},
		"(6.0,6.1]":                       {{"6.0.0", false}, {"6.1.0", true}},
	}
	for rng, cs := range checks {
		r, err := ParseCDAPRange(rng)
		if err != nil {
			t.Fatalf("ParseCDAPRange(%q): %v", rng, err)
		}
		if r.String() != rng {
			t.Errorf("ParseCDAPRange(%q).String() = %q", rng, r.String())
		}
		for _, c := range cs {
			if got := r.Contains(mustVersion(t, c.version)); got != c.in {
				t.Errorf("%s contains %s = %v, want %v", rng, c.version, got, c.in)
			}
		}
	}
}

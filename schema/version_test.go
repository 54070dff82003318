package schema

import (
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	good := map[string]string{ // CDAP form -> semver form
		"1.5.3":          "1.5.3",
		"1.0":            "1.0.0",
		"11":             "11.0.0",
		"0.14.4.3":       "0.14.4-3",
		"9.4.1211.jre7":  "9.4.1211-jre7",
		"1.7.2-1.1.0":    "1.7.2-1.1.0",
		"1.0.0-SNAPSHOT": "1.0.0-SNAPSHOT",
		"1.1.0-2.10":     "1.1.0-2.10",
		"1.SNAPSHOT":     "1.0.0-SNAPSHOT",
	}
	for in, want := range good {
		v, err := ParseVersion(in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", in, err)
			continue
		}
		if got := v.Semver().String(); got != want {
			t.Errorf("ParseVersion(%q) = %s, want %s", in, got, want)
		}
		if v.String() != in {
			t.Errorf("ParseVersion(%q).String() = %q", in, v.String())
		}
	}
	bad := map[string]string{
		"":                       "not a version",
		"v1.0":                   "not a version",
		"1.0.0-":                 "not a version",
		"1..0":                   "not a version",
		"1.0.0 ":                 "not a version",
		"01.2":                   "leading zero",
		"1.02.3":                 "leading zero",
		"1.0.0-jre.07":           "not a valid pre-release",
		"1.0.0+build":            "not a version",
		"1.0.0-a_b":              "not a version",
		"-1.0":                   "not a version",
		"99999999999999999999.0": "too large",
	}
	for in, want := range bad {
		_, err := ParseVersion(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseVersion(%q) error = %v, want one saying %q", in, err, want)
		}
	}
}

func TestVersionOrder(t *testing.T) {
	// Each version sorts strictly below the next.
	order := []string{"0.14.4.3", "0.14.4", "1.0.0-SNAPSHOT", "1.0", "1.0.1", "1.7.2-1.1.0", "1.7.2", "9.4.1211.jre7", "9.4.1211.jre8", "9.4.1211", "11.1"}
	for i := 1; i < len(order); i++ {
		a, b := mustVersion(t, order[i-1]), mustVersion(t, order[i])
		if a.Compare(b) >= 0 || b.Compare(a) <= 0 {
			t.Errorf("want %s < %s", order[i-1], order[i])
		}
	}
	if mustVersion(t, "1.0").Compare(mustVersion(t, "1.0.0")) != 0 {
		t.Error("want 1.0 == 1.0.0")
	}
}

func mustVersion(t *testing.T, s string) Version {
	t.Helper()
	v, err := ParseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseRange(t *testing.T) {
	type check struct {
		version string
		in      bool
	}
	good := []struct {
		rng    string
		checks []check
	}{
		{"[6.0.0,7.0.0)", []check{{"5.9.9", false}, {"6.0.0-SNAPSHOT", false}, {"6.0.0", true}, {"6.9.9", true}, {"7.0.0-SNAPSHOT", true}, {"7.0.0", false}}},
		{"[6.0.0-SNAPSHOT, 7.0.0-SNAPSHOT)", []check{{"6.0.0-SNAPSHOT", true}, {"6.0.0", true}, {"7.0.0-SNAPSHOT", false}}},
		{"[4.1.0,4.1.0]", []check{{"4.1.0", true}, {"4.1.0-SNAPSHOT", false}, {"4.1.1", false}}},
		{"[4.1.0]", []check{{"4.1.0", true}, {"4.1", true}, {"4.1.1", false}}},
		{"(6.1.0,7.0.0-SNAPSHOT)", []check{{"6.1.0", false}, {"6.1.1", true}}},
		{"(6.0,6.1]", []check{{"6.0.0", false}, {"6.1.0", true}, {"6.1.1", false}}},
		{"[6.0.0,)", []check{{"5.0.0", false}, {"6.0.0", true}, {"100.0.0", true}}},
		{"(,6.0.0)", []check{{"0.0.1", true}, {"6.0.0", false}}},
		{"(,6.0.0]", []check{{"6.0.0", true}, {"6.0.1", false}}},
		{" [6.0.0-SNAPSHOT,6.0.0) ", []check{{"6.0.0-SNAPSHOT", true}, {"6.0.0", false}}},
		{"[4.3.0-SNAPSHOT, 10.0.0-SNAPSHOT)", []check{{"9.0.0", true}, {"10.0.0-SNAPSHOT", false}}},
	}
	for _, tc := range good {
		r, err := ParseRange(tc.rng)
		if err != nil {
			t.Errorf("ParseRange(%q): %v", tc.rng, err)
			continue
		}
		for _, c := range tc.checks {
			if got := r.Contains(mustVersion(t, c.version)); got != c.in {
				t.Errorf("%s contains %s = %v, want %v", tc.rng, c.version, got, c.in)
			}
		}
	}
	bad := map[string]string{
		"[6.0.0,6.0.0-SNAPSHOT)":           "inverted",
		"[2.0.0,1.0.0)":                    "inverted",
		"[6.1.2,6.1.2)":                    "empty",
		"(6.1.0-SNAPSHOT, 6.1.0-SNAPSHOT)": "empty",
		"(1.0.0,1.0.0]":                    "empty",
		"(1.0,1.0.0]":                      "empty",
		"6.0.0":                            "must start with",
		"[6.0.0,7.0.0":                     "must start with",
		"[,7.0.0)":                         "unbounded lower end must be open",
		"[6.0.0,]":                         "unbounded upper end must be open",
		"(,)":                              "no bounds",
		"[x1.0,2.0)":                       "lower bound",
		"[1.0.0.,2.0)":                     "lower bound",
		"[1.0,2.0,3.0)":                    "more than one comma",
		"(1.0)":                            "single version must be written [x]",
		"[]":                               "single version",
		"":                                 "not a range",
		"[1.0.0,v2)":                       "upper bound",
	}
	for in, want := range bad {
		_, err := ParseRange(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRange(%q) error = %v, want one saying %q", in, err, want)
		}
	}
}

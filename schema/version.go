package schema

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/Masterminds/semver/v3"
)

// A Version is a CDAP artifact version: MAJOR[.MINOR[.PATCH]][(.|-)SUFFIX].
// It orders as semver with missing parts 0 and the suffix as a pre-release,
// so 1.0.0-SNAPSHOT < 1.0.0 and 1.0 == 1.0.0.
type Version struct {
	raw string
	sv  *semver.Version
}

var versionRE = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]+)(?:\.([0-9]+))?)?(?:[.-]([0-9A-Za-z]+(?:[.-][0-9A-Za-z]+)*))?$`)

// ParseVersion parses s in the CDAP artifact-version grammar.
func ParseVersion(s string) (Version, error) {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("%q is not a version: want MAJOR[.MINOR[.PATCH]][(.|-)SUFFIX], e.g. 1.5.3, 1.0, 1.0.0-SNAPSHOT", s)
	}
	parts := [3]uint64{}
	for i, p := range m[1:4] {
		if p == "" {
			continue
		}
		if len(p) > 1 && p[0] == '0' {
			return Version{}, fmt.Errorf("%q is not a version: %q has a leading zero", s, p)
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return Version{}, fmt.Errorf("%q is not a version: %q is too large", s, p)
		}
		parts[i] = n
	}
	canon := fmt.Sprintf("%d.%d.%d", parts[0], parts[1], parts[2])
	if m[4] != "" {
		canon += "-" + m[4]
	}
	sv, err := semver.StrictNewVersion(canon)
	if err != nil {
		return Version{}, fmt.Errorf("%q is not a version: suffix %q is not a valid pre-release (dot-separated letters, digits and hyphens, numbers without leading zeros)", s, m[4])
	}
	return Version{raw: s, sv: sv}, nil
}

// String returns the version as written.
func (v Version) String() string { return v.raw }

// Semver returns the semver form used for ordering (1.0 → 1.0.0).
func (v Version) Semver() *semver.Version { return v.sv }

// Compare returns -1, 0 or +1 as v orders before, equal to or after w.
func (v Version) Compare(w Version) int { return v.sv.Compare(w.sv) }

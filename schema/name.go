package schema

import (
	"fmt"
	"regexp"
)

// MaxNameLength is the longest package name accepted, in bytes.
const MaxNameLength = 128

// PackageNamePattern is the rule every package name follows: a folder
// name, a path segment and a CDAP artifact name alike.
const PackageNamePattern = `[A-Za-z0-9][A-Za-z0-9._-]*`

var packageNameRE = regexp.MustCompile(`^` + PackageNamePattern + `$`)

// CheckPackageName returns why name cannot name a package, or nil.
func CheckPackageName(name string) error {
	if !packageNameRE.MatchString(name) || len(name) > MaxNameLength {
		return fmt.Errorf("package name %q is not allowed: want %s, at most %d bytes (MaxNameLength)", name, PackageNamePattern, MaxNameLength)
	}
	return nil
}

package catalog

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/market-dev/market/schema"
)

// Parse reads a catalog (packages.json, deprecated.json, a product
// catalog), checking every entry enough that a consumer can trust its
// names as paths and its digests as checks. It fills SemVer.
func Parse(data []byte) ([]Entry, error) {
	var entries []Entry
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i := range entries {
		e := &entries[i]
		if err := CheckEntry(e); err != nil {
			return nil, fmt.Errorf("entry %d: %v", i, err)
		}
		if seen[e.Name+"@"+e.Version] {
			return nil, fmt.Errorf("entry %d: %s@%s is listed twice", i, e.Name, e.Version)
		}
		seen[e.Name+"@"+e.Version] = true
	}
	return entries, nil
}

// CheckEntry checks an entry's name, version and file digests, and sets
// its SemVer.
func CheckEntry(e *Entry) error {
	if err := schema.CheckPackageName(e.Name); err != nil {
		return err
	}
	v, err := schema.ParseVersion(e.Version)
	if err != nil {
		return fmt.Errorf("%s: %v", e.Name, err)
	}
	e.SemVer = v.Semver()
	for name, f := range e.Files {
		if problem := schema.CheckFileName(name); problem != "" {
			return fmt.Errorf("%s@%s: file name %q %s", e.Name, e.Version, name, problem)
		}
		if len(f.SHA256) != 64 || f.Size < 0 {
			return fmt.Errorf("%s@%s: %s has no valid sha256 and size", e.Name, e.Version, name)
		}
		if _, err := hex.DecodeString(f.SHA256); err != nil || strings.ToLower(f.SHA256) != f.SHA256 {
			return fmt.Errorf("%s@%s: %s has no valid sha256 (64 lower-case hex digits)", e.Name, e.Version, name)
		}
	}
	return nil
}

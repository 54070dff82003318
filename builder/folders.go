package builder

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// Folders lists the version folders a validation looked at, sorted: those
// of its versions and those its problems are in (a folder with errors is
// left out of Versions).
func (t *Tree) Folders() []string {
	seen := map[string]bool{}
	for _, v := range t.Versions {
		seen[v.Dir] = true
	}
	for _, p := range t.Problems {
		rel, err := filepath.Rel(t.Dir, p.File)
		if err != nil {
			continue
		}
		if parts := strings.Split(rel, string(filepath.Separator)); len(parts) >= 2 && parts[0] != ".." {
			seen[filepath.Join(t.Dir, parts[0], parts[1])] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// Fact is one thing a version folder holds, for a person to read: what it
// is about (package, actions, product, files, icon, license, DEPRECATED:)
// and what was found.
type Fact struct {
	Label, Value string
}

// Facts says what a checked version folder holds: the package and who made
// it, its actions, the product versions it works with, its files, icon and
// licence, and whether it is deprecated.
func (v *Version) Facts() []Fact {
	s := v.Spec
	var actions []string
	for _, a := range s.Actions {
		actions = append(actions, a.Type)
	}
	facts := []Fact{
		{"package", fmt.Sprintf("%s %s: %q by %s (%s)", v.Name, v.Version, s.Label, s.Author, s.Org)},
		{"actions", strings.Join(actions, ", ")},
	}
	if s.Range != nil {
		facts = append(facts, Fact{"product", s.CDAPVersion + " (" + s.Range.Describe() + ")"})
	} else {
		facts = append(facts, Fact{"product", "any version (no cdapVersion)"})
	}
	if len(v.Resources) > 0 {
		facts = append(facts, Fact{"files", strings.Join(v.Resources, ", ")})
	}
	if v.Icon != "" {
		facts = append(facts, Fact{"icon", v.Icon})
	}
	if v.License {
		facts = append(facts, Fact{"license", LicenseFile})
	}
	if s.Deprecated != "" {
		facts = append(facts, Fact{"DEPRECATED:", s.Deprecated})
	}
	return facts
}

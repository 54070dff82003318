package client

import (
	"fmt"
	"strings"

	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
)

// Query asks for a package: any version, one version, or a range.
type Query struct {
	Name    string
	Version *schema.Version // exact version, or nil
	Range   *schema.Range   // version range, or nil
}

// ParseQuery reads NAME, NAME@VERSION or NAME@RANGE, where RANGE uses the
// cdapVersion grammar ([1.0.0,2.0.0), (,1.5.0], [1.2.0]).
func ParseQuery(s string) (Query, error) {
	name, want, hasAt := strings.Cut(s, "@")
	q := Query{Name: name}
	if name == "" || schema.CheckFileName(name) != "" {
		return q, fmt.Errorf("%q is not a package name", name)
	}
	if !hasAt {
		return q, nil
	}
	if strings.ContainsAny(want, "[](),") {
		r, err := schema.ParseRange(want)
		if err != nil {
			return q, fmt.Errorf("%s: %v", s, err)
		}
		q.Range = &r
		return q, nil
	}
	v, err := schema.ParseVersion(want)
	if err != nil {
		return q, fmt.Errorf("%s: %v", s, err)
	}
	q.Version = &v
	return q, nil
}

func (q Query) String() string {
	switch {
	case q.Version != nil:
		return q.Name + "@" + q.Version.String()
	case q.Range != nil:
		return q.Name + "@" + q.Range.String()
	}
	return q.Name
}

// ResolveOptions narrow a resolution.
type ResolveOptions struct {
	// ProductVersion, when set, keeps only versions whose cdapVersion range
	// holds it (a version without a range fits any product version).
	ProductVersion *schema.Version
	// IncludeDeprecated lets a bare name or a range pick a deprecated
	// version. An exact version is always found, deprecated or not, so
	// pinned users keep working after a version is yanked.
	IncludeDeprecated bool
}

// Resolve picks the version a query means: the exact one, or the newest
// that fits the range, the product version and the deprecation rule.
func (m *Market) Resolve(q Query, opts ResolveOptions) (*catalog.Entry, error) {
	rel := m.rel("packages.json")
	var versions []*catalog.Entry
	for i := range m.entries {
		if m.entries[i].Name == q.Name {
			versions = append(versions, &m.entries[i])
		}
	}
	if len(versions) == 0 {
		return nil, errorf(rel, ErrNotFound, "no package %q", q.Name)
	}
	var skipped []string
	var best *catalog.Entry
	for _, e := range versions { // newest first
		v, err := schema.ParseVersion(e.Version)
		if err != nil {
			continue // checked at Open
		}
		switch {
		case q.Version != nil && v.Compare(*q.Version) != 0:
			continue
		case q.Range != nil && !q.Range.Contains(v):
			continue
		case q.Version == nil && e.Deprecated != "" && !opts.IncludeDeprecated:
			skipped = append(skipped, fmt.Sprintf("%s is deprecated (%s)", e.Version, e.Deprecated))
			continue
		}
		if pv := opts.ProductVersion; pv != nil && e.CDAPVersion != "" {
			r, err := schema.ParseRange(e.CDAPVersion)
			if err != nil || !r.Contains(*pv) {
				skipped = append(skipped, fmt.Sprintf("%s needs product version %s", e.Version, e.CDAPVersion))
				continue
			}
		}
		if best == nil || e.SemVer.GreaterThan(best.SemVer) {
			best = e
		}
	}
	if best != nil {
		return best, nil
	}
	if q.Version != nil && len(skipped) == 0 {
		return nil, errorf(rel, ErrNotFound, "no version %s of %q", q.Version, q.Name)
	}
	why := ""
	if len(skipped) > 0 {
		why = ": " + strings.Join(skipped, "; ")
	}
	return nil, errorf(rel, ErrNoCompatible, "no version of %q fits %s%s", q.Name, describe(q, opts), why)
}

func describe(q Query, opts ResolveOptions) string {
	var parts []string
	switch {
	case q.Version != nil:
		parts = append(parts, "version "+q.Version.String())
	case q.Range != nil:
		parts = append(parts, "range "+q.Range.String())
	default:
		parts = append(parts, "any non-deprecated version")
	}
	if opts.ProductVersion != nil {
		parts = append(parts, "product version "+opts.ProductVersion.String())
	}
	return strings.Join(parts, " and ")
}

package client

import (
	"context"
	"errors"
	"slices"

	"github.com/market-dev/market/schema/catalog"
)

// withDeprecated reads the signed deprecated.json and returns the current
// entries with the deprecated ones merged in, sorted. A tree without one
// (built before it existed) has none, unless release.json names it: then
// its absence is an attack on the listing, reported as such.
func (m *Market) withDeprecated(ctx context.Context, current []catalog.Entry) ([]catalog.Entry, error) {
	rel := m.rel(catalog.DeprecatedFile)
	data, err := m.getSigned(ctx, rel, catalog.MaxCatalogSize)
	recorded, listed := catalog.File{}, false
	if m.release != nil {
		recorded, listed = m.release.Files[catalog.DeprecatedFile]
	}
	switch {
	case errors.Is(err, ErrNotFound) && !errors.Is(err, ErrBadSignature) && !listed:
		return current, nil
	case err != nil:
		return nil, err
	}
	if listed {
		if err := checkDigest(rel, data, recorded); err != nil {
			return nil, err
		}
	}
	m.deprecatedRead = true
	deprecated, err := parseCatalog(rel, data)
	if err != nil {
		return nil, err
	}
	isCurrent := map[string]bool{}
	for _, e := range current {
		if e.Deprecated != "" {
			return nil, errorf(m.rel(catalog.PackagesFile), ErrMalformed, "%s@%s is deprecated; deprecated versions belong in %s", e.Name, e.Version, catalog.DeprecatedFile)
		}
		isCurrent[e.Name+"@"+e.Version] = true
	}
	all := slices.Clone(current)
	for _, e := range deprecated {
		switch {
		case e.Deprecated == "":
			return nil, errorf(rel, ErrMalformed, "%s@%s is not deprecated", e.Name, e.Version)
		case !isCurrent[e.Name+"@"+e.Version]:
			// Listed in both only while a publish is moving a version back
			// out of deprecation (deprecated.json goes up first): the
			// current entry wins.
			all = append(all, e)
		}
	}
	catalog.Sort(all)
	return all, nil
}

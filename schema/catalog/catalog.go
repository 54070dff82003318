// Package catalog defines packages.json and categories.json: the entry
// types, their canonical encoding and their order.
package catalog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/market-dev/market/schema"
)

// Entry is one package version in packages.json. The fields up to PaidLink
// are the ones the CDAP Hub's Java packager wrote, in its order; the rest are
// additive and ignored by old consumers.
type Entry struct {
	Name        string       `json:"name"`
	Version     string       `json:"version"`
	Description string       `json:"description"`
	Label       string       `json:"label"`
	Author      string       `json:"author"`
	Org         string       `json:"org"`
	CDAPVersion string       `json:"cdapVersion,omitempty"`
	License     string       `json:"license,omitempty"`
	LicenseInfo *LicenseInfo `json:"licenseInfo,omitempty"`
	Created     int64        `json:"created"`
	Beta        bool         `json:"beta"`
	Categories  []string     `json:"categories"`
	Paid        bool         `json:"paid"`
	PaidLink    string       `json:"paidLink,omitempty"`
	Deprecated  string       `json:"deprecated,omitempty"`
	Files       Files        `json:"files"`

	// SemVer orders versions; it is not serialized.
	SemVer *semver.Version `json:"-"`
}

// LicenseInfo names a license and where to read it.
type LicenseInfo struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

// Files maps each served file of a version to its digest. encoding/json
// writes map keys sorted, so the order is canonical.
type Files map[string]File

// File is the SHA-256 (hex) and size in bytes of a served file.
type File struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Holds reports whether r's bytes are the file: its size and SHA-256. It
// reads at most one byte more than the size.
func (f File) Holds(r io.Reader) bool {
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(r, f.Size+1))
	return err == nil && n == f.Size && hex.EncodeToString(h.Sum(nil)) == f.SHA256
}

// Category is one entry of categories.json.
type Category struct {
	Name    string `json:"name"`
	HasIcon bool   `json:"hasIcon"`
}

// NewEntry is the catalog entry of a version folder named name/version with
// spec s: the fields the CDAP Hub's Java packager wrote, then market's.
func NewEntry(name string, version schema.Version, s *schema.Spec, files Files) Entry {
	e := Entry{
		Name:        name,
		Version:     version.String(),
		Description: s.Description,
		Label:       s.Label,
		Author:      s.Author,
		Org:         s.Org,
		CDAPVersion: s.CDAPVersion,
		License:     s.License,
		Created:     s.Created,
		Beta:        s.Beta || s.Preview,
		Categories:  Dedupe(s.Categories),
		Paid:        s.PaidLink != "",
		PaidLink:    s.PaidLink,
		Deprecated:  s.Deprecated,
		Files:       files,
		SemVer:      version.Semver(),
	}
	if s.LicenseInfo != nil {
		e.LicenseInfo = &LicenseInfo{Name: s.LicenseInfo.Name, URL: s.LicenseInfo.URL}
	}
	return e
}

// Sort orders entries by name, then version newest first.
func Sort(entries []Entry) {
	slices.SortFunc(entries, func(a, b Entry) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return b.SemVer.Compare(a.SemVer)
	})
}

// Encode returns the canonical JSON of v: two-space indent, fields in
// declaration order, map keys sorted, no HTML escaping, a trailing newline.
func Encode(v any) ([]byte, error) { return encode(v, "") }

// encode is Encode with every line but the first behind prefix.
func encode(v any, prefix string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Dedupe returns categories without repeats, in first-seen order.
func Dedupe(categories []string) []string {
	out := make([]string, 0, len(categories))
	for _, c := range categories {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// Display are the files of a version served beside its archive, never in
// it: the icons and license.txt. Like every served file of a version, each
// has its own .asc.
var Display = []string{"icon.png", "icon.jpg", "icon.svg", "license.txt"}

// IsResource reports whether a version's file is one of its resources:
// in archive.zip (when the tree has one) as well as loose.
func IsResource(name string) bool {
	return name != SpecName && name != ArchiveName && !slices.Contains(Display, name)
}

// Files of the API folder.
const (
	// PackagesFile lists every current (not deprecated) version: what the
	// CDAP UI and backend offer.
	PackagesFile = "packages.json"
	// DeprecatedFile lists, signed and in the same entry format, every
	// deprecated version: still served, fetched only by exact version.
	DeprecatedFile = "deprecated.json"
	// MetadataFile names the marketplace for the CDAP UI, which reads it to
	// title each market's tab when market.base.urls lists several.
	MetadataFile = "metadata.json"
	// CategoriesFile lists the categories in use.
	CategoriesFile = "categories.json"
)

// Metadata is MetadataFile.
type Metadata struct {
	MarketName string `json:"marketName"`
}

// SplitDeprecated splits sorted entries into the current and the
// deprecated ones, each still sorted. Neither is ever nil, so both encode
// as JSON arrays.
func SplitDeprecated(entries []Entry) (current, deprecated []Entry) {
	current, deprecated = []Entry{}, []Entry{}
	for _, e := range entries {
		if e.Deprecated != "" {
			deprecated = append(deprecated, e)
		} else {
			current = append(current, e)
		}
	}
	return current, deprecated
}

// Names of the files every version may serve.
const (
	SpecName    = "spec.json"
	ArchiveName = "archive.zip"
)

// EncodeElement returns the canonical JSON of e as an element of a catalog:
// the bytes Encode writes for it inside the list, from its opening brace to
// its closing one. A catalog is then written (WriteCatalog) from elements
// made once and kept, instead of encoding every entry again.
func EncodeElement(e Entry) ([]byte, error) {
	data, err := encode(e, "  ")
	return bytes.Clone(bytes.TrimSuffix(data, []byte("\n"))), err // kept: no spare capacity
}

// CatalogParts are the pieces of the catalog listing elements (made by
// EncodeElement), in order: written one after the other they are the bytes
// Encode gives for the list of their entries.
func CatalogParts(elements [][]byte) [][]byte {
	if len(elements) == 0 {
		return [][]byte{[]byte("[]\n")}
	}
	parts := make([][]byte, 0, 2*len(elements)+1)
	for i, e := range elements {
		sep := []byte(",\n  ")
		if i == 0 {
			sep = []byte("[\n  ")
		}
		parts = append(parts, sep, e)
	}
	return append(parts, []byte("\n]\n"))
}

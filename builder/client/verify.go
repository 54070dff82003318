package client

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/schema/problem"
)

// VerifyOptions configure VerifyTree.
type VerifyOptions struct {
	Options
	// TrustTreeKeys adds the tree's own keys.asc to the keyring. That only
	// shows the tree is consistent, not that it comes from its publisher:
	// whoever can change the tree can change keys.asc.
	TrustTreeKeys bool
	// Jobs bounds the versions checked at once (default 8).
	Jobs int
}

// Report is what VerifyTree found.
type Report struct {
	Problems   problem.List // one per problem, sorted; warnings included
	Versions   int          // catalog entries checked
	Files      int          // files checked against their digests
	Signatures int          // signatures verified
	Release    *catalog.Release
}

// VerifyTree checks a whole tree, on disk or over HTTP(S): every signature
// against the keyring; every file's size and SHA-256 against the signed
// catalog; that every catalog entry has its files and (on disk) that every
// file belongs to an entry; that each spec.json says what its catalog entry
// says; that each archive opens, has only safe names, matches its CRCs and
// holds the same bytes as the loose resources; that product catalogs agree
// with packages.json; and release.json's signature, expiry, serial and
// digests when the tree has one. Problems are collected, never fatal; the
// error is for a location that cannot be read at all.
func VerifyTree(ctx context.Context, location string, opts VerifyOptions) (*Report, error) {
	opts.defaults()
	if opts.Jobs <= 0 {
		opts.Jobs = 8
	}
	m, err := newMarket(location, opts.Options)
	if err != nil {
		return nil, err
	}
	v := &verifier{m: m, opts: opts, report: &Report{}}
	v.run(ctx)
	v.report.Problems = v.report.Problems.Sort()
	return v.report, nil
}

type verifier struct {
	m      *Market
	opts   VerifyOptions
	mu     sync.Mutex
	report *Report
	served map[string]bool // files a catalog entry accounts for (rel paths)
}

func (v *verifier) add(rel, format string, args ...any) {
	v.mu.Lock()
	v.report.Problems.Add(rel, "", format, args...)
	v.mu.Unlock()
}

// addErr reports a client error under its own path.
func (v *verifier) addErr(rel string, err error) {
	var ce *Error
	if errors.As(err, &ce) {
		msg := ce.Kind.Error()
		if ce.Err != nil {
			msg = ce.Err.Error()
			if !errors.Is(ce.Err, ce.Kind) {
				msg = ce.Kind.Error() + ": " + msg
			}
		}
		v.add(ce.Path, "%s", msg)
		return
	}
	v.add(rel, "%v", err)
}

func (v *verifier) count(files, sigs int) {
	v.mu.Lock()
	v.report.Files += files
	v.report.Signatures += sigs
	v.mu.Unlock()
}

// signed reads rel and checks its signature, reporting any problem; nil
// data means it could not be trusted.
func (v *verifier) signed(ctx context.Context, rel string, limit int64) []byte {
	data, err := v.m.getSigned(ctx, rel, limit)
	if err != nil {
		v.addErr(rel, err)
		return nil
	}
	v.count(1, 1)
	return data
}

func (v *verifier) run(ctx context.Context) {
	m := v.m
	if v.opts.TrustTreeKeys {
		rel := m.rel("keys.asc")
		data, err := get(ctx, m.src, rel, catalog.MaxKeysSize)
		if err != nil {
			v.addErr(rel, err)
			return
		}
		keys, err := sign.ReadKeyRing(data)
		if err != nil {
			v.add(rel, "cannot read the keys: %v", err)
			return
		}
		m.opts.Keyring = append(slices.Clone(m.opts.Keyring), keys...)
		v.mu.Lock()
		v.report.Problems.Warn(rel, "", "trusting the tree's own keys (--trust-tree-keys): this shows the tree is consistent, not who made it")
		v.mu.Unlock()
	}
	if len(m.opts.Keyring) == 0 {
		v.add(m.rel("keys.asc"), "no keyring: give the publisher's public keys")
		return
	}
	v.release(ctx)
	data := v.signed(ctx, m.rel("packages.json"), catalog.MaxCatalogSize)
	if data == nil {
		return
	}
	entries, err := parseCatalog(m.rel("packages.json"), data)
	if err != nil {
		v.addErr(m.rel("packages.json"), err)
		return
	}
	if entries, err = m.withDeprecated(ctx, entries); err != nil {
		v.addErr(m.rel(catalog.DeprecatedFile), err)
		return
	}
	if m.deprecatedRead {
		v.count(1, 1)
	}
	m.entries = entries
	v.report.Versions = len(entries)
	v.metadata(ctx)
	v.productCatalogs(ctx)
	v.categories(ctx)
	v.served = map[string]bool{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(v.opts.Jobs)
	for i := range entries {
		g.Go(func() error { v.version(gctx, &entries[i]); return nil })
	}
	g.Wait()
	if d, ok := m.src.(*dirSource); ok {
		v.orphans(d)
	}
	if len(v.report.Problems) == 0 && m.release != nil {
		if err := m.saveSerial(max(m.release.Serial, 0)); err != nil {
			v.add(m.opts.StateFile, "cannot record the release serial: %v", err)
		}
	}
}

// release checks release.json, when the tree has one, and the files it covers.
func (v *verifier) release(ctx context.Context) {
	m := v.m
	rel := m.rel(catalog.ReleaseFile)
	seen, err := m.lastSerial()
	if err != nil {
		v.add(m.opts.StateFile, "%v", err)
	}
	raw, err := m.getSigned(ctx, rel, catalog.MaxReleaseSize)
	if errors.Is(err, ErrNotFound) && !errors.Is(err, ErrBadSignature) {
		if seen > 0 {
			v.add(rel, "rollback: release serial %d was seen before, and now there is no release.json", seen)
		} else if m.opts.RequireRelease {
			v.add(rel, "missing, and a signed release.json is required")
		}
		return
	}
	if err != nil {
		v.addErr(rel, err)
		return
	}
	v.count(1, 1)
	r, err := catalog.ParseRelease(raw)
	if err != nil {
		v.add(rel, "%v", err)
		return
	}
	m.release = r
	v.report.Release = r
	if now := m.opts.Now(); now.After(r.Expires) {
		v.add(rel, "expired at %s (serial %d): the tree is stale or frozen; run market resign", r.Expires.Format("2006-01-02T15:04:05Z07:00"), r.Serial)
	}
	if r.Serial < seen {
		v.add(rel, "rollback: serial %d is lower than serial %d seen before", r.Serial, seen)
	}
	names := make([]string, 0, len(r.Files))
	for name := range r.Files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		frel := m.rel(name)
		if !strings.HasSuffix(name, ".json") && name != "keys.asc" || strings.Contains(name, "..") {
			v.add(rel, "names an unexpected file %q", name)
			continue
		}
		data, err := get(ctx, m.src, frel, catalog.MaxCatalogSize)
		if err != nil {
			v.addErr(frel, err)
			continue
		}
		if err := checkDigest(frel, data, r.Files[name]); err != nil {
			v.add(frel, "differs from what release.json records: %v", err.(*Error).Err)
		}
	}
}

// productCatalogs checks each <product version>/packages.json: signed, and
// every entry identical to packages.json's entry for that version.
func (v *verifier) productCatalogs(ctx context.Context) {
	m := v.m
	// Product catalogs are listed by release.json and, on disk, found by
	// looking; one on disk that release.json does not cover is a problem.
	var names []string
	if m.release != nil {
		for name := range m.release.Files {
			if strings.HasSuffix(name, "/packages.json") {
				names = append(names, name)
			}
		}
	}
	if d, ok := m.src.(*dirSource); ok {
		entries, _ := fs.ReadDir(d.root.FS(), m.api)
		for _, e := range entries {
			name := e.Name() + "/packages.json"
			if _, err := d.root.Stat(path.Join(m.api, name)); err != nil || !e.IsDir() || slices.Contains(names, name) {
				continue
			}
			if m.release != nil {
				v.add(m.rel(name), "not covered by %s", catalog.ReleaseFile)
			}
			names = append(names, name)
		}
	}
	slices.Sort(names)
	byKey := map[string][]byte{}
	for _, e := range m.entries {
		b, _ := json.Marshal(e)
		byKey[e.Name+"@"+e.Version] = b
	}
	for _, name := range names {
		rel := m.rel(name)
		data := v.signed(ctx, rel, catalog.MaxCatalogSize)
		if data == nil {
			continue
		}
		entries, err := parseCatalog(rel, data)
		if err != nil {
			v.addErr(rel, err)
			continue
		}
		for _, e := range entries {
			b, _ := json.Marshal(e)
			main, ok := byKey[e.Name+"@"+e.Version]
			switch {
			case !ok:
				v.add(rel, "lists %s@%s, which packages.json does not", e.Name, e.Version)
			case !bytes.Equal(b, main):
				v.add(rel, "its entry for %s@%s differs from packages.json's", e.Name, e.Version)
			}
		}
	}
}

// metadata checks metadata.json, when the tree has one: the CDAP UI reads
// its marketName to title the market's tab.
func (v *verifier) metadata(ctx context.Context) {
	rel := v.m.rel(catalog.MetadataFile)
	data, err := get(ctx, v.m.src, rel, catalog.MaxCatalogSize)
	if errors.Is(err, ErrNotFound) {
		if v.m.release != nil {
			if _, listed := v.m.release.Files[catalog.MetadataFile]; listed {
				v.add(rel, "missing, and release.json records it")
			}
		}
		return
	}
	if err != nil {
		v.addErr(rel, err)
		return
	}
	var md struct {
		MarketName *string `json:"marketName"`
	}
	if err := json.Unmarshal(data, &md); err != nil || md.MarketName == nil || *md.MarketName == "" {
		v.add(rel, `not a JSON object with a non-empty "marketName" string (the CDAP UI names the market's tab from it)`)
	}
}

// categories checks that every category with an icon has one.
func (v *verifier) categories(ctx context.Context) {
	m := v.m
	rel := m.rel("categories.json")
	data, err := get(ctx, m.src, rel, catalog.MaxCatalogSize)
	if err != nil {
		v.addErr(rel, err)
		return
	}
	var cats []catalog.Category
	if err := json.Unmarshal(data, &cats); err != nil {
		v.add(rel, "not valid: %v", err)
		return
	}
	for _, c := range cats {
		if !c.HasIcon || schema.CheckFileName(c.Name) != "" {
			continue
		}
		icon := m.rel("categories", c.Name, "icon.png")
		if _, err := get(ctx, m.src, icon, v.opts.MaxFileSize); err != nil {
			v.addErr(icon, err)
		}
	}
}

// version checks every file of one catalog entry.
func (v *verifier) version(ctx context.Context, e *catalog.Entry) {
	m := v.m
	dir := m.rel("packages", e.Name, e.Version)
	tmp, err := os.CreateTemp("", "market-verify-*")
	if err != nil {
		v.add(dir, "%v", err)
		return
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	names := make([]string, 0, len(e.Files))
	for name := range e.Files {
		names = append(names, name)
	}
	slices.Sort(names)
	if _, ok := e.Files[catalog.SpecName]; !ok {
		v.add(dir, "the catalog lists no %s for %s@%s", catalog.SpecName, e.Name, e.Version)
	}
	var sums = map[string]string{}
	for _, name := range names {
		rel := path.Join(dir, name)
		v.mu.Lock()
		v.served[rel], v.served[rel+".asc"] = true, true
		v.mu.Unlock()
		want := e.Files[name]
		if want.Size > v.opts.MaxFileSize {
			v.add(rel, "%d bytes, over the %d-byte limit", want.Size, v.opts.MaxFileSize)
			continue
		}
		if err := tmp.Truncate(0); err != nil {
			v.add(rel, "%v", err)
			return
		}
		tmp.Seek(0, io.SeekStart)
		if err := m.fetchVerified(ctx, rel, want, tmp); err != nil {
			v.addErr(rel, err)
			continue
		}
		v.count(1, 1)
		sums[name] = want.SHA256
		switch name {
		case catalog.SpecName:
			v.spec(tmp, rel, e)
		case catalog.ArchiveName:
			v.archive(tmp, want.Size, rel, e)
		}
	}
}

// spec checks that spec.json says what the catalog entry says.
func (v *verifier) spec(f *os.File, rel string, e *catalog.Entry) {
	data, err := readAllAt(f, schema.MaxSpecSize)
	if err != nil {
		v.add(rel, "%v", err)
		return
	}
	ver, err := schema.ParseVersion(e.Version)
	if err != nil {
		return // reported with the catalog
	}
	spec, probs := schema.Parse(rel, data, v.m.opts.Now())
	if spec == nil {
		v.add(rel, "cannot be read as a spec: %v", probs)
		return
	}
	want := catalog.NewEntry(e.Name, ver, spec, e.Files)
	if diff := entryDiff(want, *e); diff != "" {
		v.add(rel, "does not match its catalog entry: %s", diff)
	}
}

func readAllAt(f *os.File, limit int64) ([]byte, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return catalog.ReadAtMost(f, limit)
}

// entryDiff names the fields in which two entries differ.
func entryDiff(a, b catalog.Entry) string {
	var ma, mb map[string]json.RawMessage
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	json.Unmarshal(ja, &ma)
	json.Unmarshal(jb, &mb)
	var diffs []string
	for k, va := range ma {
		if vb, ok := mb[k]; !ok || !bytes.Equal(va, vb) {
			diffs = append(diffs, fmt.Sprintf("%s is %s in spec.json, %s in the catalog", k, va, cmp.Or(string(mb[k]), "absent")))
		}
	}
	for k, vb := range mb {
		if _, ok := ma[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s is absent in spec.json, %s in the catalog", k, vb))
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "; ")
}

// archive checks archive.zip: safe names, CRCs, limits, and the same bytes
// as the loose resources the catalog lists.
func (v *verifier) archive(f *os.File, size int64, rel string, e *catalog.Entry) {
	zr, err := zip.NewReader(f, size)
	if err != nil {
		v.add(rel, "does not open as a zip: %v", err)
		return
	}
	if len(zr.File) > v.opts.MaxExtractFiles {
		v.add(rel, "%d entries, over the %d-entry limit", len(zr.File), v.opts.MaxExtractFiles)
		return
	}
	var loose []string // resources served one by one
	for name := range e.Files {
		if catalog.IsResource(name) {
			loose = append(loose, name)
		}
	}
	budget := v.opts.MaxExtractSize
	unsafe := map[string]bool{}
	for _, p := range checkEntries(zr.File) {
		v.add(rel+":"+p.name, "unsafe entry: %v", p.err)
		unsafe[p.name] = true
	}
	inZip := map[string]bool{}
	for _, zf := range zr.File {
		where := rel + ":" + zf.Name
		if unsafe[zf.Name] {
			continue
		}
		inZip[strings.ToLower(zf.Name)] = true
		rc, err := zf.Open()
		if err != nil {
			v.add(where, "cannot be read: %v", err)
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(rc, budget+1))
		rc.Close()
		switch {
		case errors.Is(err, zip.ErrChecksum):
			v.add(where, "CRC mismatch: the entry is damaged")
			continue
		case err != nil:
			v.add(where, "cannot be read: %v", err)
			continue
		case n > budget:
			v.add(rel, "extracts to more than %d bytes (zip bomb?)", v.opts.MaxExtractSize)
			return
		}
		budget -= n
		if want, ok := e.Files[zf.Name]; ok && slices.Contains(loose, zf.Name) {
			if got := hex.EncodeToString(h.Sum(nil)); got != want.SHA256 || n != want.Size {
				v.add(where, "differs from the served %s listed in the catalog", zf.Name)
			}
		} else if len(loose) > 0 {
			v.add(where, "is not among the resources the catalog lists")
		}
	}
	for _, name := range loose {
		if !inZip[strings.ToLower(name)] {
			v.add(rel, "lacks %s, which the catalog lists as a resource", name)
		}
	}
}

// orphans reports files on disk that no catalog accounts for.
func (v *verifier) orphans(d *dirSource) {
	m := v.m
	top := map[string]bool{
		"packages.json": true, "packages.json.asc": true, "categories.json": true, "keys.asc": true,
		catalog.DeprecatedFile: true, catalog.DeprecatedFile + ".asc": true, catalog.MetadataFile: true,
		catalog.ReleaseFile: true, catalog.ReleaseFile + ".asc": true,
	}
	fs.WalkDir(d.root.FS(), m.api, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			v.add(p, "cannot be read: %v", err)
			return nil
		}
		if de.IsDir() {
			return nil
		}
		inAPI := strings.TrimPrefix(p, m.api+"/")
		parts := strings.Split(inAPI, "/")
		switch {
		case parts[0] == "packages":
			if !v.served[p] {
				v.add(p, "orphan: no catalog entry lists this file")
			}
		case len(parts) == 1 && top[parts[0]],
			parts[0] == "schema" && len(parts) == 2,
			parts[0] == "categories" && len(parts) == 3 && parts[2] == "icon.png",
			len(parts) == 2 && (parts[1] == "packages.json" || parts[1] == "packages.json.asc"):
		default:
			v.add(p, "orphan: not part of a market tree")
		}
		return nil
	})
}

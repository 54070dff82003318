// Package builder turns a packages directory into a signed, static
// marketplace tree: Validate checks it, Build writes it.
package builder

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"golang.org/x/sync/errgroup"

	"github.com/market-dev/market/builder/archive"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/schema/problem"
	"github.com/market-dev/market/site"
)

// Reporter hears about a build as it goes. Library code never prints.
type Reporter interface {
	// Note is something the maintainer should know that is not a problem.
	Note(msg string)
	// Start is called once the tree is valid, with the number of version folders to build.
	Start(versions int)
	// Built is called once per version folder written; reused says its
	// outputs came from the previous build unchanged.
	Built(name, version string, reused bool)
}

type nopReporter struct{}

func (nopReporter) Note(string)                {}
func (nopReporter) Start(int)                  {}
func (nopReporter) Built(string, string, bool) {}

// Options configure Validate and Build.
type Options struct {
	// Packages is the packages directory (default "packages").
	Packages string
	// Out is the output directory (default market.yaml's out, else "dist"
	// beside the packages directory).
	Out string
	// Config is market.yaml; nil loads it from the packages directory's parent.
	Config *Config
	// Signer signs the tree; nil builds an unsigned tree.
	Signer *sign.Signer
	// Jobs bounds the version folders processed at once (default GOMAXPROCS).
	Jobs int
	// Now bounds plausible `created` times (default time.Now).
	Now time.Time
	// Reporter hears progress (default: nothing).
	Reporter Reporter
	// NoCache rebuilds every version folder, ignoring the previous tree's cache.
	NoCache bool
	// Release, when set, adds a signed release.json (needs a Signer).
	Release *ReleaseOptions
	// PublishKeys are more public keys for keys.asc, beside the signer's:
	// during a key rotation, the key being retired or the one to come.
	PublishKeys openpgp.EntityList
}

// Result describes a finished build.
type Result struct {
	Out      string
	Versions int
	Reused   int // versions whose outputs were reused from the previous build
	// Unchanged says the previous tree already was the result: nothing was written.
	Unchanged bool
	// Recycled of the reused versions were kept in place in the spare tree
	// the previous build left (SpareDir), costing no file operation.
	Recycled int
	Problems problem.List // warnings only, on success
	Duration time.Duration
}

func (o *Options) defaults() error {
	if o.Packages == "" {
		o.Packages = "packages"
	}
	if o.Config == nil {
		cfg, err := LoadConfig(filepath.Join(o.repo(), ConfigFile))
		if err != nil {
			return err
		}
		o.Config = cfg
	}
	if o.Out == "" {
		o.Out = filepath.Join(o.repo(), cmp.Or(o.Config.Out, "dist"))
	}
	if o.Jobs <= 0 {
		o.Jobs = runtime.GOMAXPROCS(0)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Reporter == nil {
		o.Reporter = nopReporter{}
	}
	return nil
}

// repo is the repository root: the folder that holds the packages
// directory, market.yaml and categories/.
func (o *Options) repo() string { return filepath.Dir(filepath.Clean(o.Packages)) }

// Validate checks the packages directory and returns every problem found.
// The error is a *ConfigError for unusable options, nil otherwise: callers
// look at Tree.Problems.
func Validate(opts Options) (*Tree, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	return scan(opts, nil)
}

func scan(opts Options, prev *cache) (*Tree, error) {
	t, err := scanTree(opts.Packages, opts.Config, opts.Now, opts.Jobs, prev)
	if err != nil {
		return nil, err
	}
	t.Problems = append(t.Problems, checkCategories(opts.repo())...).Sort()
	if note := autoInstallNote(opts.Config); note != "" {
		opts.Reporter.Note(note)
	}
	if committed := filepath.Join(opts.repo(), "categories.json"); fileExists(committed) {
		opts.Reporter.Note(fmt.Sprintf("%s is ignored: the build writes %s/categories.json from the specs", committed, opts.Config.API))
	}
	return t, nil
}

// autoInstallNote says why CDAP's capability auto-installer will not find
// this tree, or "": it resolves the absolute path /v2/packages/<n>/<v>/ on
// the market host, so only api: v2 served at the host root works.
func autoInstallNote(cfg *Config) string {
	var why []string
	if cfg.API != "v2" {
		why = append(why, fmt.Sprintf("api is %s", cfg.API))
	}
	if u, err := url.Parse(cfg.BaseURL); err == nil && cfg.BaseURL != "" && strings.Trim(u.Path, "/") != "" {
		why = append(why, fmt.Sprintf("baseURL %s has a path", cfg.BaseURL))
	}
	if len(why) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: CDAP's capability auto-installer reads /v2/packages/... from the host root, so it will not find these files (the UI works with market.base.url = <site>/%s)", strings.Join(why, " and "), cfg.API)
}

// Build validates the packages directory and, when it has no errors, writes
// the signed tree to a temporary sibling of Out and swaps it into place. On
// any failure the previous tree is left exactly as it was. Validation errors
// come back as a problem.List.
func Build(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if err := checkOut(opts.Packages, opts.Out); err != nil {
		return nil, err
	}
	if opts.Signer == nil && (opts.Release != nil || len(opts.PublishKeys) > 0) {
		return nil, &ConfigError{"", errors.New("a release.json and published keys need a signing key")}
	}
	unlock, err := lockOut(ctx, opts.Out, opts.Reporter.Note)
	if err != nil {
		return nil, err
	}
	defer unlock()
	StepHook("locked")
	var prev *cache
	if !opts.NoCache {
		var why string
		prev, why = loadCache(opts.Out)
		if why != "" {
			opts.Reporter.Note(why)
		}
	}
	t, err := scan(opts, prev)
	if err != nil {
		return nil, err
	}
	if err := t.Problems.Err(); err != nil {
		return nil, err
	}
	tmp, err := newTemp(opts.Out)
	if err != nil {
		return nil, err
	}
	defer func() {
		if tmp != "" {
			os.RemoveAll(tmp) // what a failed build wrote
		}
		StepHook("cleaned")
	}()
	StepHook("temp")
	b := &build{opts: opts, tree: t, dir: tmp, api: filepath.Join(tmp, opts.Config.API), prevAPI: filepath.Join(opts.Out, opts.Config.API), prev: prev}
	opts.Reporter.Start(len(t.Versions))
	if b.prev != nil {
		// When nothing changed, the tree stays as it is: not a file is written.
		b.dry = true
		err := b.run(ctx)
		if err == nil {
			for _, v := range t.Versions {
				opts.Reporter.Built(v.Name, v.Version.String(), true)
			}
			return &Result{Out: opts.Out, Versions: len(t.Versions), Reused: len(t.Versions), Unchanged: true, Problems: t.Problems, Duration: time.Since(start)}, nil
		}
		if !errors.Is(err, errChanged) {
			return nil, err
		}
		if err := emptyDir(tmp); err != nil {
			return nil, err
		}
		b.dry = false
		// Start from the tree the previous build replaced, if it kept one.
		if spare := tmp + "-spare"; !opts.NoCache {
			if b.spare = claimSpare(opts.Out, opts.Config.API, spare); b.spare != nil {
				os.Remove(tmp)
				tmp, b.dir, b.api = spare, spare, filepath.Join(spare, opts.Config.API)
				if err := b.recycle(); err != nil {
					return nil, err
				}
			}
		}
		StepHook("spare")
	}
	if err := b.run(ctx); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	StepHook("written")
	if err := swap(tmp, opts.Out); err != nil {
		return nil, fmt.Errorf("replacing %s: %w", opts.Out, err)
	}
	StepHook("swapped")
	// tmp now holds the previous tree: the next build's starting point.
	if _, err := os.Lstat(tmp); err == nil && !opts.NoCache && keepSpare(tmp, opts.Out) == nil {
		tmp = ""
	}
	return &Result{Out: opts.Out, Versions: len(t.Versions), Reused: b.reused, Recycled: b.recycled, Problems: t.Problems, Duration: time.Since(start)}, nil
}

// checkOut refuses an output directory that overlaps the packages
// directory, comparing real paths so a symlink cannot route one into the other.
func checkOut(packages, out string) error {
	p, err1 := realPath(packages)
	o, err2 := realPath(out)
	if err := errors.Join(err1, err2); err != nil {
		return &ConfigError{"", err}
	}
	within := func(a, b string) bool { // a inside or equal to b
		rel, err := filepath.Rel(b, a)
		return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	}
	if within(o, p) || within(p, o) {
		return &ConfigError{out, fmt.Errorf("the output directory overlaps the packages directory %s; nothing is ever written into the source tree", packages)}
	}
	return nil
}

// realPath resolves symlinks in the longest existing prefix of path.
func realPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rest := ""
	for dir := abs; ; dir = filepath.Dir(dir) {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(real, rest), nil
		}
		if dir == filepath.Dir(dir) {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}

type build struct {
	opts    Options
	tree    *Tree
	dir     string // root of the new tree
	api     string // dir/<api>
	prevAPI string // the previous tree's <api>, whose outputs may be reused
	prev    *cache // the previous tree's cache, nil if none or not trusted
	entries []catalog.Entry
	records []*cachedVersion
	reused  int
	// dry checks whether the previous tree is already the result, writing
	// nothing under packages/; run then fails with errChanged if it is not.
	dry bool
	// pages are the site's pages this build, by path inside the tree:
	// written (or kept) into the new tree, or compared in place by a dry run.
	pages map[string]bool
	cats  []catalog.Category
	// spare is the cache of the recycled spare tree at dir, nil if none.
	spare     *cache
	recycledN atomic.Int64
	recycled  int
	// The site's inputs and files, for the next build's cache.
	catalogSum, categoriesSum, siteKey string
	siteFiles                          []fileState
}

// errChanged ends a dry run: something differs from the previous tree.
var errChanged = errors.New("the tree changed")

func (b *build) run(ctx context.Context) error {
	root, err := os.OpenRoot(b.opts.Packages)
	if err != nil {
		return err
	}
	defer root.Close()
	n := len(b.tree.Versions)
	b.entries = make([]catalog.Entry, n)
	b.records = make([]*cachedVersion, n)
	reused := make([]bool, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.opts.Jobs)
	for i, v := range b.tree.Versions {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			rec, err := b.version(gctx, root, v)
			if errors.Is(err, errChanged) {
				return err
			}
			if err != nil {
				return fmt.Errorf("%s: %w", v.Dir, err)
			}
			b.records[i], reused[i] = &rec.cachedVersion, rec.reused
			b.entries[i] = catalog.NewEntry(v.Name, v.Version, v.Spec, rec.Files)
			if !b.dry {
				b.opts.Reporter.Built(v.Name, v.Version.String(), rec.reused)
				StepHook("version " + v.rel)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	b.recycled = int(b.recycledN.Load())
	next := &cache{cacheBody: cacheBody{Versions: make(map[string]*cachedVersion, n)}}
	for i, v := range b.tree.Versions {
		next.Versions[v.rel] = b.records[i]
		if reused[i] {
			b.reused++
		}
	}
	catalog.Sort(b.entries)
	if b.dry && len(b.prev.Versions) != n {
		return errChanged // a version folder was removed
	}
	if err := b.catalogs(); err != nil {
		return err
	}
	StepHook("catalogs")
	if b.dry {
		same, err := sameTopLevel(b.dir, b.opts.Out, b.opts.Config.API, b.pages)
		if err != nil || !same {
			return errChanged
		}
		// Keep the input states fresh so the next build need not rehash.
		next.SiteKey, next.Site = b.siteKey, b.siteFiles
		return next.write(b.opts.Out)
	}
	next.SiteKey, next.Site = b.siteKey, b.siteFiles
	return next.write(b.dir)
}

// version writes one version folder's outputs, or links them from the
// previous tree when its inputs are unchanged, and records how.
func (b *build) version(ctx context.Context, root *os.Root, v *Version) (*versionRecord, error) {
	rel := filepath.Join("packages", v.Name, v.Version.String())
	dst := filepath.Join(b.api, rel)
	var prev *cachedVersion
	if b.prev != nil {
		prev = b.prev.Versions[v.rel]
	}
	// Without a previous build to compare with, input digests come from
	// the copies the build makes anyway, unless resources are only zipped.
	deferHash := prev == nil && !b.dry && b.opts.Config.Resources != ResourcesArchive
	inputs, err := hashInputs(root, v, prev, !deferHash)
	if err != nil {
		return nil, err
	}
	signer := "unsigned"
	if b.opts.Signer != nil {
		signer = b.opts.Signer.SigningFingerprint()
	}
	key := inputKey(signer, b.opts.Config.Resources, inputs)
	if b.dry {
		if prev == nil || prev.Key != key || !intact(filepath.Join(b.prevAPI, rel), prev) {
			return nil, errChanged
		}
		return &versionRecord{cachedVersion{Key: key, Inputs: inputs, Outputs: prev.Outputs, Files: prev.Files}, true}, nil
	}
	if kept := b.fromSpare(filepath.Join(v.Name, v.Version.String()), key); kept != nil {
		b.recycledN.Add(1)
		return &versionRecord{cachedVersion{Key: key, Inputs: inputs, Outputs: kept.Outputs, Files: kept.Files}, true}, nil
	}
	if b.spare != nil {
		if err := os.RemoveAll(dst); err != nil {
			return nil, err
		}
	}
	if prev != nil && prev.Key == key {
		if reuse(filepath.Join(b.prevAPI, rel), dst, prev) {
			return &versionRecord{cachedVersion{Key: key, Inputs: inputs, Outputs: prev.Outputs, Files: prev.Files}, true}, nil
		}
		if err := os.RemoveAll(dst); err != nil {
			return nil, err
		}
	}
	files, err := b.write(ctx, root, v, dst)
	if err != nil {
		return nil, err
	}
	if deferHash {
		for i := range inputs {
			inputs[i].SHA256 = files[inputs[i].Name].SHA256
		}
		key = inputKey(signer, b.opts.Config.Resources, inputs)
	}
	outputs, err := outputStates(dst)
	if err != nil {
		return nil, err
	}
	return &versionRecord{cachedVersion{Key: key, Inputs: inputs, Outputs: outputs, Files: files}, false}, nil
}

type versionRecord struct {
	cachedVersion
	reused bool
}

// write makes a version folder's outputs from its inputs.
func (b *build) write(ctx context.Context, root *os.Root, v *Version, dst string) (catalog.Files, error) {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, err
	}
	files := catalog.Files{}
	src := func(name string) string { return path.Join(v.rel, name) }
	copyOne := func(name string, signed bool) error {
		f, err := b.copyFile(ctx, root, src(name), filepath.Join(dst, name), signed)
		if err != nil {
			return err
		}
		files[name] = f
		return nil
	}
	if err := copyOne(SpecFile, true); err != nil {
		return nil, err
	}
	if v.Icon != "" {
		if err := copyOne(v.Icon, false); err != nil {
			return nil, err
		}
	}
	if v.License {
		if err := copyOne(LicenseFile, false); err != nil {
			return nil, err
		}
	}
	layout := b.opts.Config.Resources
	for _, r := range v.Resources {
		// The licence file is served loose in every layout: the CDAP UI's
		// deploy wizard fetches it by the name spec.json gives.
		if layout == ResourcesBoth || layout == ResourcesFiles || r == v.Spec.License {
			if err := copyOne(r, true); err != nil {
				return nil, err
			}
		}
	}
	if (layout == ResourcesBoth || layout == ResourcesArchive) && len(v.Resources) > 0 {
		f, err := b.writeArchive(ctx, root, v, filepath.Join(dst, ArchiveFile))
		if err != nil {
			return nil, err
		}
		files[ArchiveFile] = f
	}
	return files, nil
}

// copyFile copies src (inside root) to dst, hashing it, and signing it when
// signed is set, in one pass over the bytes.
func (b *build) copyFile(ctx context.Context, root *os.Root, src, dst string, signed bool) (catalog.File, error) {
	in, err := root.Open(src)
	if err != nil {
		return catalog.File{}, err
	}
	defer in.Close()
	return b.writeFile(dst, signed, func(w io.Writer) error {
		_, err := io.Copy(w, ctxReader{ctx, in})
		return err
	})
}

// ctxReader stops a long copy when the build is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type readCloser struct {
	io.Reader
	io.Closer
}

func (b *build) writeArchive(ctx context.Context, root *os.Root, v *Version, dst string) (catalog.File, error) {
	files := make([]archive.File, len(v.Resources))
	for i, name := range v.Resources {
		files[i] = archive.File{Name: name, Open: func() (io.ReadCloser, error) {
			f, err := root.Open(path.Join(v.rel, name))
			if err != nil {
				return nil, err
			}
			return readCloser{ctxReader{ctx, f}, f}, nil
		}}
	}
	return b.writeFile(dst, true, func(w io.Writer) error { return archive.Create(w, files) })
}

// writeFile creates dst with what fill writes, hashing the bytes on the way
// and, when signed is set and the build has a signer, signing them into
// dst.asc (verified before it is written).
func (b *build) writeFile(dst string, signed bool, fill func(io.Writer) error) (catalog.File, error) {
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return catalog.File{}, err
	}
	defer out.Close()
	h := sha256.New()
	buf := bufio.NewWriterSize(out, 256<<10) // archive/zip writes in small pieces
	sinks := []io.Writer{buf, h}
	var stream *sign.Stream
	if signed && b.opts.Signer != nil {
		if stream, err = b.opts.Signer.NewStream(); err != nil {
			return catalog.File{}, err
		}
		sinks = append(sinks, stream)
	}
	cw := &countWriter{w: io.MultiWriter(sinks...)}
	if err := fill(cw); err != nil {
		return catalog.File{}, err
	}
	if err := buf.Flush(); err != nil {
		return catalog.File{}, err
	}
	if err := out.Close(); err != nil {
		return catalog.File{}, err
	}
	if stream != nil {
		if _, err := writeFileFunc(dst+".asc", stream.Finish); err != nil {
			return catalog.File{}, fmt.Errorf("signing %s: %w", filepath.Base(dst), err)
		}
	}
	return catalog.File{SHA256: hex.EncodeToString(h.Sum(nil)), Size: cw.n}, nil
}

// writeFileFunc creates file with what fill writes.
func writeFileFunc(file string, fill func(io.Writer) error) (int64, error) {
	out, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	cw := &countWriter{w: out}
	if err := fill(cw); err != nil {
		out.Close()
		return 0, err
	}
	return cw.n, out.Close()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// catalogs writes everything above the version folders.
func (b *build) catalogs() error {
	cfg := b.opts.Config
	// The CDAP UI and backend do not read "deprecated": a deprecated version
	// listed in packages.json would be offered and auto-installed. It is
	// listed, signed, in deprecated.json instead, for exact-version fetches.
	current, deprecated := catalog.SplitDeprecated(b.entries)
	if err := b.writeJSON(filepath.Join(b.api, catalog.PackagesFile), current, true); err != nil {
		return err
	}
	if err := b.writeJSON(filepath.Join(b.api, catalog.DeprecatedFile), deprecated, true); err != nil {
		return err
	}
	title := cmp.Or(cfg.Title, DefaultTitle)
	if err := b.writeJSON(filepath.Join(b.api, catalog.MetadataFile), catalog.Metadata{MarketName: title}, false); err != nil {
		return err
	}
	for _, pv := range cfg.ProductVersions {
		if err := b.writeJSON(filepath.Join(b.api, pv.String(), "packages.json"), compatible(b.entries, b.tree, pv), true); err != nil {
			return err
		}
	}
	cats, err := b.categories()
	if err != nil {
		return err
	}
	b.cats = cats
	if err := b.writeJSON(filepath.Join(b.api, "categories.json"), cats, false); err != nil {
		return err
	}
	if err := writeBytes(filepath.Join(b.api, "schema", schema.SpecSchemaName), schema.SpecSchema); err != nil {
		return err
	}
	if b.opts.Signer != nil {
		if _, err := writeFileFunc(filepath.Join(b.api, "keys.asc"), func(w io.Writer) error { return b.opts.Signer.PublicKeys(w, b.opts.PublishKeys) }); err != nil {
			return err
		}
	}
	if b.opts.Release != nil {
		if err := b.writeRelease(); err != nil {
			return err
		}
	}
	// GitHub Pages serves the tree as-is, without Jekyll (which would hide
	// files whose names start with "_").
	if err := writeBytes(filepath.Join(b.dir, ".nojekyll"), nil); err != nil {
		return err
	}
	if err := writeBytes(filepath.Join(b.dir, catalog.TreeMarker, catalog.TreeFile), catalog.Tree{Format: FormatVersion, API: cfg.API}.Encode()); err != nil {
		return err
	}
	// The site is rendered from the catalog, the specs, the configuration
	// and the key: when none of them changed and its files are as written,
	// a dry run need not render it to compare.
	b.siteKey = b.computeSiteKey()
	b.pages = map[string]bool{}
	if b.dry && b.prev.SiteKey == b.siteKey && len(b.prev.Site) > 0 && intact(b.opts.Out, &cachedVersion{Outputs: b.prev.Site}) {
		for _, f := range b.prev.Site {
			b.pages[f.Name] = true
		}
		b.siteFiles = b.prev.Site
		return nil
	}
	if err := site.Render(b.sitePage, b.siteData()); err != nil {
		return err
	}
	if err := b.pruneSite(); err != nil {
		return err
	}
	return b.recordSite()
}

// computeSiteKey digests everything the site is rendered from.
func (b *build) computeSiteKey() string {
	cfg := b.opts.Config
	h := sha256.New()
	fmt.Fprintf(h, "format %d\nsite %s\ncatalog %s\ncategories %s\n", FormatVersion, site.Fingerprint(), b.catalogSum, b.categoriesSum)
	fmt.Fprintf(h, "title %q\nbaseURL %q\napi %q\nproduct %q %q\n", cfg.Title, cfg.BaseURL, cfg.API, cfg.Product.Name, cfg.Product.Versions)
	if s := b.opts.Signer; s != nil {
		fmt.Fprintf(h, "key %s %s\n", s.Fingerprint(), s.SigningFingerprint())
	}
	for i, v := range b.tree.Versions {
		for _, in := range b.records[i].Inputs {
			if in.Name == SpecFile {
				fmt.Fprintf(h, "spec %s %s\n", v.rel, in.SHA256)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// recordSite notes the site's pages as they are in the tree: in the new
// tree, or for a dry run that compared them, in the previous one.
func (b *build) recordSite() error {
	root := b.dir
	if b.dry {
		root = b.opts.Out
	}
	names := make([]string, 0, len(b.pages))
	for rel := range b.pages {
		names = append(names, rel)
	}
	slices.Sort(names)
	b.siteFiles = make([]fileState, 0, len(names))
	for _, rel := range names {
		info, err := os.Lstat(filepath.Join(root, rel))
		if err != nil {
			return err
		}
		b.siteFiles = append(b.siteFiles, stateOf(rel, info, false))
	}
	return nil
}

// siteData gathers what the browse site shows.
func (b *build) siteData() site.Data {
	cfg := b.opts.Config
	d := site.Data{
		Title: cmp.Or(cfg.Title, DefaultTitle), BaseURL: cfg.BaseURL, API: cfg.API,
		Product: cfg.Product.Name, Categories: b.cats, Entries: b.entries,
		Specs: make(map[string]*schema.Spec, len(b.tree.Versions)),
	}
	for _, pv := range cfg.ProductVersions {
		d.ProductVersions = append(d.ProductVersions, pv.String())
	}
	for _, v := range b.tree.Versions {
		d.Specs[v.Name+"@"+v.Version.String()] = v.Spec
	}
	if s := b.opts.Signer; s != nil {
		d.Fingerprint, d.SigningFingerprint = s.Fingerprint(), s.SigningFingerprint()
	}
	return d
}

// sitePage writes one page of the site; a dry run compares it with the
// previous tree's instead, writing nothing.
func (b *build) sitePage(name string, data []byte) error {
	rel := filepath.FromSlash(name)
	if !filepath.IsLocal(rel) || strings.HasPrefix(rel, b.opts.Config.API+string(filepath.Separator)) || strings.HasPrefix(rel, catalog.TreeMarker) {
		return fmt.Errorf("site page %q is outside the site", name)
	}
	b.pages[rel] = true
	if !b.dry {
		return b.writeSitePage(rel, data)
	}
	old, err := os.ReadFile(filepath.Join(b.opts.Out, rel))
	if err != nil || !bytes.Equal(old, data) {
		return errChanged
	}
	return nil
}

// StepHook is called at each step of a build that writes (lock taken,
// temporary tree made, each version folder written, catalogs written,
// tree complete, swapped, cleaned up). It does nothing unless a crash test
// sets it, to kill the process at a chosen step. It may be called from
// several goroutines at once.
var StepHook = func(step string) {}

// FormatVersion changes whenever the same input would give different output bytes.
const FormatVersion = 1

func (b *build) writeJSON(file string, v any, signed bool) error {
	data, err := catalog.Encode(v)
	if err != nil {
		return err
	}
	switch sum := sha256.Sum256(data); file {
	case filepath.Join(b.api, catalog.PackagesFile):
		b.catalogSum = hex.EncodeToString(sum[:])
	case filepath.Join(b.api, "categories.json"):
		b.categoriesSum = hex.EncodeToString(sum[:])
	}
	if err := writeBytes(file, data); err != nil {
		return err
	}
	if !signed || b.opts.Signer == nil || b.keepSignature(file, data) {
		return nil
	}
	_, err = writeFileFunc(file+".asc", func(w io.Writer) error { return b.opts.Signer.Sign(w, bytes.NewReader(data)) })
	return err
}

// keepSignature links the previous tree's signature of a file whose bytes
// did not change, after checking it still verifies with the current key:
// an unchanged catalog keeps its signature.
func (b *build) keepSignature(file string, data []byte) bool {
	if b.opts.Signer == nil || b.opts.NoCache {
		return false
	}
	rel, err := filepath.Rel(b.dir, file)
	if err != nil {
		return false
	}
	old := filepath.Join(b.opts.Out, rel)
	prev, err := os.ReadFile(old)
	if err != nil || !bytes.Equal(prev, data) {
		return false
	}
	sig, err := os.ReadFile(old + ".asc")
	if err != nil || b.opts.Signer.Verify(bytes.NewReader(data), bytes.NewReader(sig)) != nil {
		return false
	}
	return os.Link(old+".asc", file+".asc") == nil
}

func writeBytes(file string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	return os.WriteFile(file, data, 0o644)
}

// compatible returns, per package, the newest non-deprecated version whose
// range holds product version pv (a version without a range fits any).
func compatible(entries []catalog.Entry, t *Tree, pv schema.Version) []catalog.Entry {
	ranges := map[string]*schema.Range{}
	for _, v := range t.Versions {
		ranges[v.Name+"@"+v.Version.String()] = v.Spec.Range
	}
	out := []catalog.Entry{}
	for _, e := range entries { // sorted by name, newest first
		if len(out) > 0 && out[len(out)-1].Name == e.Name || e.Deprecated != "" {
			continue
		}
		if r := ranges[e.Name+"@"+e.Version]; r == nil || r.Contains(pv) {
			out = append(out, e)
		}
	}
	return out
}

// categories lists the categories in use: in market.yaml's order when it
// lists them, else sorted byte-wise (as the CDAP Hub serves them). A
// category has an icon when the repository has categories/<name>/icon.png.
func (b *build) categories() ([]catalog.Category, error) {
	used := map[string]bool{}
	for _, e := range b.entries {
		for _, c := range e.Categories {
			used[c] = true
		}
	}
	var names []string
	if len(b.opts.Config.Categories) > 0 {
		for _, c := range b.opts.Config.Categories {
			if used[c] {
				names = append(names, c)
			}
		}
	} else {
		for c := range used {
			names = append(names, c)
		}
		slices.Sort(names)
	}
	cats := make([]catalog.Category, 0, len(names))
	repo := filepath.Join(b.opts.repo(), "categories")
	root, err := os.OpenRoot(repo)
	if err != nil {
		root = nil // no category icons
	} else {
		defer root.Close()
	}
	for _, name := range names {
		c := catalog.Category{Name: name}
		if root != nil && schema.CheckFileName(name) == "" {
			if info, err := root.Lstat(path.Join(name, "icon.png")); err == nil && info.Mode().IsRegular() {
				dst := filepath.Join(b.api, "categories", name)
				if err := os.MkdirAll(dst, 0o755); err != nil {
					return nil, err
				}
				if _, err := b.copyFile(context.Background(), root, path.Join(name, "icon.png"), filepath.Join(dst, "icon.png"), false); err != nil {
					return nil, err
				}
				c.HasIcon = true
			}
		}
		cats = append(cats, c)
	}
	return cats, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

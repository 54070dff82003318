package builder

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/site"
)

// versionPlan is what a build knows of a version folder before writing it:
// its input files, the key they give, and the previous build's record.
type versionPlan struct {
	inputs []fileState
	key    string         // "" until the inputs are hashed (deferred)
	prev   *cachedVersion // nil when the previous build had no such version
}

// plan states and keys every version folder's inputs. Without a previous
// record of a version, its digests come from the copies the build makes
// anyway (unless resources are only zipped): hashing is deferred.
func (b *build) plan(ctx context.Context) error {
	root, err := os.OpenRoot(b.opts.Packages)
	if err != nil {
		return err
	}
	b.root = root
	keyBase := b.keyBase()
	vs := b.tree.Versions
	b.plans = make([]versionPlan, len(vs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.opts.statJobs())
	for i, v := range vs {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			p := &b.plans[i]
			if b.prev != nil {
				p.prev = b.prev.Versions[v.rel]
			}
			hash := p.prev != nil || b.opts.Config.Resources == ResourcesArchive
			inputs, same, err := hashInputs(root, v, p.prev, hash)
			if err != nil {
				return err
			}
			p.inputs = inputs
			switch {
			case same && b.prev.KeyBase == keyBase:
				p.key = p.prev.Key // the same inputs, keyed the same way
			case hash:
				p.key = b.key(p.inputs)
			}
			return nil
		})
	}
	return g.Wait()
}

// key is the input key of a version folder with these inputs.
func (b *build) key(inputs []fileState) string {
	return inputKey(b.signerName(), b.opts.Config.Resources, inputs)
}

func (b *build) signerName() string {
	if b.opts.Signer != nil {
		return b.opts.Signer.SigningFingerprint()
	}
	return "unsigned"
}

// keyBase digests what every input key holds besides the inputs: when it
// is as recorded, a version folder whose inputs are all as recorded has
// the recorded key.
func (b *build) keyBase() string {
	return inputKey(b.signerName(), b.opts.Config.Resources, nil)
}

// decide ends the build with errUnchanged when the previous build's record
// says the tree in place already is what it would write: every version
// folder keyed as recorded, the tree key (what everything outside the
// version folders derives from) the same, and every output file as
// written. Nothing is read but the record and the files' states.
func (b *build) decide(ctx context.Context) error {
	keys := make([]string, len(b.plans))
	for i, p := range b.plans {
		keys[i] = p.key
	}
	b.treeKey = b.computeTreeKey(keys)
	if b.prev == nil || b.prev.TreeKey != b.treeKey || len(b.prev.Versions) != len(b.plans) ||
		!intact(b.opts.Out, &cachedVersion{Outputs: b.prev.Top}) || !intact(b.opts.Out, &cachedVersion{Outputs: b.prev.Site}) {
		return nil
	}
	if same, err := b.sameVersions(ctx); err != nil || !same {
		return err
	}
	b.siteKey, b.siteFiles, b.pageKeys, b.topStates = b.prev.SiteKey, b.prev.Site, b.prev.PageKeys, b.prev.Top
	for i, v := range b.tree.Versions {
		if !v.known || v.source != b.plans[i].prev.Source {
			b.recordsAsBefore()
			return b.keepTree() // some input states to refresh
		}
	}
	b.unchanged, b.reused = true, len(b.tree.Versions)
	for _, v := range b.tree.Versions {
		b.opts.Reporter.Built(v.Name, v.Version.String(), true)
	}
	return errUnchanged // the record is as it would be written: kept
}

// compare ends the build with errUnchanged when the tree in place already
// is what it would write, by its bytes: every version folder keyed as
// recorded and intact, the catalogs, keys and site the same bytes. It
// catches what decide cannot: a record without a tree key, or files
// touched but not changed. A version folder added, removed or keyed
// otherwise than recorded settles it without a look at the tree.
func (b *build) compare(ctx context.Context) error {
	if b.prev == nil || len(b.prev.Versions) != len(b.plans) {
		return nil
	}
	for _, p := range b.plans {
		if p.prev == nil || p.key != "" && p.key != p.prev.Key {
			return nil
		}
	}
	same, err := b.sameTree(ctx)
	if err != nil || !same {
		return err
	}
	if err := b.recordTop(b.opts.Out); err != nil {
		return err
	}
	return b.keepTree()
}

// keepTree ends a build whose tree is already in place, refreshing the
// recorded input states so the next build need not rehash. Its versions
// are the previous record's, keyed the same, so their entries are copied
// from that record as they are.
func (b *build) keepTree() error {
	b.unchanged, b.reused = true, len(b.tree.Versions)
	for _, v := range b.tree.Versions {
		b.opts.Reporter.Built(v.Name, v.Version.String(), true)
	}
	if err := startRecords(b.opts.Out, b.recordMap(), b.prev).finish(b.nextMeta()); err != nil {
		return err
	}
	return errUnchanged
}

// sameVersions reports whether every version folder in place is the one
// this build would write: keyed as recorded, its outputs as written.
func (b *build) sameVersions(ctx context.Context) (bool, error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.opts.statJobs())
	for i, v := range b.tree.Versions {
		g.Go(func() error {
			p := b.plans[i]
			if p.prev == nil || p.key == "" || p.prev.Key != p.key || !intactDir(filepath.Join(b.prevAPI, "packages", filepath.FromSlash(v.rel)), p.prev) {
				return errUnchanged // stops the others: the tree changed
			}
			return gctx.Err()
		})
	}
	if err := g.Wait(); errors.Is(err, errUnchanged) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, nil
}

// recordsAsBefore makes every version's record of the tree in place: the
// previous build's, its inputs as this scan found them. The previous
// records are taken over rather than copied (50,000 of them weighed 20 MB).
func (b *build) recordsAsBefore() {
	b.records = make([]*cachedVersion, len(b.plans))
	for i, v := range b.tree.Versions {
		p := b.plans[i]
		rec := p.prev // keyed as p.key: compare and decide checked it
		rec.Inputs, rec.Source, rec.Warnings = p.inputs, v.source, v.warnings
		if v.Spec != nil {
			rec.entry, rec.fields = nil, nil // made again from the spec read (build.entry)
		}
		b.records[i] = rec
	}
	b.nextSpare = b.prev.Spare // no swap: the same spare
}

// sameTree reports whether the previous tree is this build's result. It
// fills the records, entries and top-level files as the tree in place has
// them.
func (b *build) sameTree(ctx context.Context) (bool, error) {
	if b.prev == nil || len(b.prev.Versions) != len(b.plans) {
		return false, nil
	}
	if same, err := b.sameVersions(ctx); err != nil || !same {
		return false, err
	}
	b.loadEntries()
	b.recordsAsBefore()
	b.entries = make([]catalog.Entry, len(b.plans))
	for i, v := range b.tree.Versions {
		var err error
		if b.entries[i], err = b.entry(v, b.records[i]); err != nil {
			return false, err
		}
	}
	b.sortEntries()
	top, err := b.topFiles()
	if err != nil {
		return false, err
	}
	b.top = top
	want := map[string]bool{}
	for i := range b.top {
		f := &b.top[i]
		if !b.signedAlready(filepath.Join(b.opts.Out, f.rel), f) {
			return false, nil
		}
		want[f.rel] = true
		if f.signed && b.opts.Signer != nil {
			want[f.rel+".asc"] = true
		}
	}
	return b.sameSite(want)
}

// sameSite reports whether the site in place is the one this build would
// render, and that the tree holds nothing outside the version folders but
// the files in want and the site's pages. Pages are compared by the site
// key when it is recorded, else rendered and compared byte for byte.
func (b *build) sameSite(want map[string]bool) (bool, error) {
	b.siteKey = b.computeSiteKey()
	b.pages = map[string]bool{}
	if b.prev.SiteKey == b.siteKey && len(b.prev.Site) > 0 && intact(b.opts.Out, &cachedVersion{Outputs: b.prev.Site}) {
		for _, f := range b.prev.Site {
			b.pages[f.Name] = true
		}
		b.siteFiles, b.pageKeys = b.prev.Site, b.prev.PageKeys
	} else {
		b.pageKeys = map[string]string{}
		err := site.Render(func(name string, data []byte) error {
			rel, err := b.pagePath(name)
			if err != nil {
				return err
			}
			b.pages[rel] = true
			if old, err := os.ReadFile(filepath.Join(b.opts.Out, rel)); err != nil || !bytes.Equal(old, data) {
				return errUnchanged
			}
			return nil
		}, b.siteData())
		if errors.Is(err, errUnchanged) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if err := b.recordSite(b.opts.Out); err != nil {
			return false, err
		}
	}
	return b.nothingElse(want)
}

// nothingElse reports whether the tree in place holds, outside its version
// folders and bookkeeping, exactly the files in want and the site's pages.
func (b *build) nothingElse(want map[string]bool) (bool, error) {
	out := b.opts.Out
	found := 0
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		if rel == catalog.TreeMarker || rel == filepath.Join(b.opts.Config.API, "packages") {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		if !want[rel] && !b.pages[rel] {
			return errUnchanged
		}
		found++
		return nil
	})
	if errors.Is(err, errUnchanged) || err != nil && errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return found == len(want)+len(b.pages), nil
}

// pagePath checks a site page's name: inside the tree, outside the API
// folder and the bookkeeping.
func (b *build) pagePath(name string) (string, error) {
	rel := filepath.FromSlash(name)
	if !filepath.IsLocal(rel) || strings.HasPrefix(rel, b.opts.Config.API+string(filepath.Separator)) || strings.HasPrefix(rel, catalog.TreeMarker) {
		return "", errors.New("site page " + name + " is outside the site")
	}
	return rel, nil
}

// computeTreeKey digests everything outside the version folders derives
// from: the format and the site's templates, the configuration, the keys
// (their public bytes), the release options, the category icons' states,
// and every version folder by its key.
func (b *build) computeTreeKey(keys []string) string {
	o, cfg := b.opts, b.opts.Config
	h := sha256.New()
	fmt.Fprintf(h, "format %d\nsite %s\nconfig %q %q %q %q %q %q %q\n", FormatVersion, site.Fingerprint(),
		cfg.Title, cfg.BaseURL, cfg.API, cfg.Product.Name, cfg.Product.Versions, cfg.Categories, cfg.Resources)
	if o.Signer != nil {
		var keys bytes.Buffer
		if err := o.Signer.PublicKeys(&keys, o.PublishKeys); err != nil {
			return "" // no key: never equal to a recorded one
		}
		fmt.Fprintf(h, "keys %x\n", sha256.Sum256(keys.Bytes()))
	}
	if r := o.Release; r != nil {
		fmt.Fprintf(h, "release %d %d\n", r.Time.Unix(), r.Valid)
		if r.Previous != nil {
			fmt.Fprintf(h, "previous %d\n", r.Previous.Serial)
		}
	}
	icons, _ := filepath.Glob(filepath.Join(o.repo(), "categories", "*", "icon.png"))
	for _, icon := range icons {
		if info, err := os.Lstat(icon); err == nil {
			st := stateOf(icon, info, true)
			fmt.Fprintf(h, "category icon %q %d %d %d %d\n", icon, st.Size, st.MTime, st.CTime, st.Inode)
		}
	}
	for i, v := range b.tree.Versions {
		fmt.Fprintf(h, "version %s %s\n", v.rel, keys[i])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// recordedEntries starts loading the catalog entries the previous build
// recorded, while the next steps ready the new tree: the build lists the
// versions the scan took as known from them, without reading their specs.
// Whatever reads them first waits for them (loadEntries).
func (b *build) recordedEntries(context.Context) error {
	go b.loadEntries()
	return nil
}

// loadEntries loads the recorded entries, once; a call while they load
// waits for them.
func (b *build) loadEntries() {
	b.entriesOnce.Do(func() {
		if err := b.prev.entries(); err != nil {
			b.opts.Reporter.Note(fmt.Sprintf("build cache: %v; the specs are read instead", err))
		}
	})
}

// loadSpec reads the spec.json of a version folder the scan took as known
// without reading it, when the build needs more of it than its entry: to
// write the folder.
func (b *build) loadSpec(v *Version) error {
	if v.Spec != nil {
		return nil
	}
	spec, err := b.readSpec(v)
	v.Spec = spec
	return err
}

// readSpec reads and parses the spec.json of a version folder the scan
// checked.
func (b *build) readSpec(v *Version) (*schema.Spec, error) {
	file := filepath.Join(v.Dir, SpecFile)
	data, err := b.root.ReadFile(path.Join(v.rel, SpecFile))
	if err != nil {
		return nil, err
	}
	spec, probs := schema.ParseChecked(file, data, b.opts.Now)
	return spec, probs.Err()
}

package publish

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/schema/problem"
)

// Defaults of Options.
const (
	// DefaultConcurrency is how many requests a publish has in flight.
	DefaultConcurrency = 8
	// DefaultMaxAttempts is how often one request is tried before the
	// publish fails: throttling (503 SlowDown) and 5xx answers are retried
	// with jittered exponential backoff.
	DefaultMaxAttempts = 8
	// DefaultMaxBackoff bounds the wait between two attempts.
	DefaultMaxBackoff = 20 * time.Second
)

// Options say what to publish where.
type Options struct {
	// Tree is the built tree (market build's --out).
	Tree string
	// To is the target: s3://BUCKET[/PREFIX], or a directory (a checked-out
	// gh-pages branch, say).
	To string
	// S3 configures an s3:// target.
	S3 S3Options
	// Concurrency bounds the requests in flight (default DefaultConcurrency).
	Concurrency int
	// DryRun plans only: it reads the target but writes nothing.
	DryRun bool
	// Prune deletes what the target holds and the tree does not, once the
	// new catalog is in place.
	Prune bool
	// AllowOverwrite lets a published version's file be replaced by
	// different bytes. Without it that is refused: a version is immutable.
	AllowOverwrite bool
	// CatalogMaxAge is the Cache-Control max-age of everything but the
	// files of a version (default DefaultCatalogMaxAge).
	CatalogMaxAge time.Duration
	// Reporter hears progress (default: nothing).
	Reporter Reporter
}

// Reporter hears a publish's progress. Its methods may be called from
// several goroutines at once.
type Reporter interface {
	// Planned is told what is about to be written, before anything is.
	Planned(uploads, deletes int, bytes int64)
	// Done is told of each object uploaded or deleted.
	Done(a Action)
	// Note is told of something worth a line that is not an error.
	Note(msg string)
}

type nopReporter struct{}

func (nopReporter) Planned(int, int, int64) {}
func (nopReporter) Done(Action)             {}
func (nopReporter) Note(string)             {}

// Op is what a publish does with one object.
type Op string

const (
	Upload Op = "upload"
	Skip   Op = "skip"
	Delete Op = "delete"
)

// Action is one step of a publish's plan.
type Action struct {
	Op   Op
	Path string // slash path inside the tree, and under the target
	Size int64
	// Why: new, changed, overwrite, signs a new file, re-signed, unchanged,
	// kept (a still-valid signature), not in the tree.
	Why string
}

// Summary is what a publish did, or with DryRun would do.
type Summary struct {
	Target string
	DryRun bool
	// Actions is the plan: uploads in the order they are made, then
	// deletions, then skips.
	Actions []Action
	// Uploaded, Deleted and Bytes (uploaded) count what was done; with
	// DryRun, what would be.
	Uploaded, Skipped, Deleted int
	Bytes                      int64
	// Left counts the target's objects that are not in the tree and were
	// left in place (no Prune).
	Left     int
	Duration time.Duration
}

// ConfigError is a problem with the command line or the environment rather
// than with the tree: a malformed target, no region or credentials, a
// bucket or directory that cannot be read.
type ConfigError struct {
	Target string
	Err    error
}

func (e *ConfigError) Error() string { return e.Target + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// RaceError says another writer changed the published catalog while this
// publish ran. The publish stops rather than replace their catalog.
type RaceError struct {
	// Catalog is where the catalog is published (s3://bucket/prefix/v1/packages.json).
	Catalog string
	// Seen is its version (S3: ETag; directory: sha256) when this publish
	// started, Found its version now; "" for no catalog.
	Seen, Found string
	// SHA256 and Modified describe the other writer's catalog, where known.
	SHA256   string
	Modified time.Time
	// Switched says whether product catalogs of this publish were already
	// in place when the race was lost (they were not if false).
	Switched bool
}

func (e *RaceError) Error() string {
	seen := "absent"
	if e.Seen != "" {
		seen = "version " + e.Seen
	}
	found := "is gone"
	if e.Found != "" {
		found = "is now version " + e.Found
		var about []string
		if e.SHA256 != "" {
			about = append(about, "sha256 "+e.SHA256)
		}
		if !e.Modified.IsZero() {
			about = append(about, "written "+e.Modified.UTC().Format(time.RFC3339))
		}
		if len(about) > 0 {
			found += " (" + strings.Join(about, ", ") + ")"
		}
	}
	state := "nothing of this publish's catalogs was switched"
	if e.Switched {
		state = "this publish's product catalogs were already in place, its packages.json was not"
	}
	return fmt.Sprintf("%s was changed by another writer during this publish: it was %s at the start and %s. Refusing to overwrite their catalog; %s. Check what the other writer published, then re-run market publish",
		e.Catalog, seen, found, state)
}

// remote is what a target knows of one object.
type remote struct {
	Size int64
	// ETag identifies the object's current bytes: S3's ETag, a directory
	// file's sha256.
	ETag     string
	SHA256   string // hex; "" until read
	Modified time.Time
}

// store is a publish target.
type store interface {
	// String names the target in messages.
	String() string
	// list returns every object of the target by its slash path, once.
	list(ctx context.Context) (map[string]*remote, error)
	// digest fills r.SHA256 for the object at rel.
	digest(ctx context.Context, rel string, r *remote) error
	// read returns the content of a small object.
	read(ctx context.Context, rel string, limit int64) ([]byte, error)
	// stat re-reads the object at rel; nil when there is none.
	stat(ctx context.Context, rel string) (*remote, error)
	// put writes f at f.Rel; with cond, only while the object there is
	// still cond.want, else it fails with errChanged.
	put(ctx context.Context, f *localFile, cond *ifSame) (*remote, error)
	// remove deletes the object at rel.
	remove(ctx context.Context, rel string) error
	// save keeps what the publish learned of the target (the S3 manifest).
	save(ctx context.Context, objects map[string]*remote) error
}

// ifSame makes a put conditional: it succeeds only while the object is
// still want (a nil want: while there is none).
type ifSame struct{ want *remote }

// protector is a store that holds files of its own that prune must leave.
type protector interface {
	protected(rel string) bool
}

// errChanged: a conditional put found the object changed.
var errChanged = errors.New("changed since read")

// Phases of a publish, in order: a reader never sees a catalog that names a
// file not yet uploaded.
const (
	phaseVersion    = iota // <api>/packages/<name>/<version>/*: immutable
	phaseAsset             // the rest of the API folder: schema, category icons
	phaseProduct           // <api>/<product version>/packages.json, <api>/deprecated.json
	phaseCatalog           // <api>/packages.json: the switch
	phaseCategories        // <api>/categories.json, <api>/metadata.json
	phaseKeys              // <api>/keys.asc
	phaseRelease           // <api>/release.json
	phaseSite              // everything outside the API folder
)

// phaseOf says in which phase the tree file rel (a signature's: the file
// it signs) is published.
func phaseOf(rel, api string) int {
	if IsVersioned(rel) {
		return phaseVersion
	}
	in, ok := strings.CutPrefix(rel, api+"/")
	if !ok {
		return phaseSite
	}
	switch {
	case in == "packages.json":
		return phaseCatalog
	case path.Base(in) == "packages.json" && strings.Count(in, "/") == 1 && !strings.HasPrefix(in, "packages/"),
		in == catalog.DeprecatedFile: // before the switch: a newly deprecated version is never in neither list
		return phaseProduct
	case in == "categories.json", in == catalog.MetadataFile:
		return phaseCategories
	case in == "keys.asc":
		return phaseKeys
	case in == "release.json":
		return phaseRelease
	}
	return phaseAsset
}

// Publish brings the target to the tree: it uploads what is new or
// changed, in an order that never shows a reader a catalog naming a file
// not yet there, and with Prune deletes what the tree no longer has.
//
// It returns problem.List when published version files would change (every
// one is named; nothing is written), *RaceError when another writer changed
// the catalog meanwhile, *ConfigError for a bad target or environment.
// The Summary is non-nil whenever a plan was made.
func Publish(ctx context.Context, opts Options) (*Summary, error) {
	return publishWith(ctx, opts, func(st store) store { return st })
}

// publishWith is Publish over the target's store as wrap makes it.
func publishWith(ctx context.Context, opts Options, wrap func(store) store) (*Summary, error) {
	start := time.Now()
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.CatalogMaxAge <= 0 {
		opts.CatalogMaxAge = DefaultCatalogMaxAge
	}
	if opts.Reporter == nil {
		opts.Reporter = nopReporter{}
	}
	st, err := openStore(ctx, opts)
	if err != nil {
		return nil, err
	}
	t, err := readTree(ctx, opts.Tree, opts.Concurrency)
	if err != nil {
		return nil, err
	}
	p := &publisher{opts: opts, tree: t, st: wrap(st)}
	sum, err := p.run(ctx)
	if sum != nil {
		sum.Duration = time.Since(start)
	}
	return sum, err
}

// openStore opens the target opts.To names.
func openStore(ctx context.Context, opts Options) (store, error) {
	if rest, ok := strings.CutPrefix(opts.To, "s3://"); ok {
		return openS3(ctx, rest, opts)
	}
	if i := strings.Index(opts.To, "://"); i > 0 && !strings.ContainsAny(opts.To[:i], `/\`) {
		return nil, &ConfigError{opts.To, errors.New("unknown target scheme: want s3://BUCKET[/PREFIX] or a directory")}
	}
	return openDir(opts.To, opts.Tree)
}

type publisher struct {
	opts Options
	tree *tree
	st   store

	remote map[string]*remote
	// catalog is the published packages.json as read at the start.
	catalog *remote
	mu      sync.Mutex
}

// planned is one upload or deletion with the phase it belongs to.
type planned struct {
	Action
	phase int
	sig   bool
}

func (p *publisher) run(ctx context.Context) (*Summary, error) {
	var err error
	if p.remote, err = p.st.list(ctx); err != nil {
		return nil, &ConfigError{p.st.String(), err}
	}
	catalogRel := p.tree.api + "/packages.json"
	if r := p.remote[catalogRel]; r != nil {
		if r.ETag == "" { // a directory's: its sha256
			if err := p.st.digest(ctx, catalogRel, r); err != nil {
				return nil, fmt.Errorf("reading %s: %w", p.where(catalogRel), err)
			}
		}
		c := *r
		p.catalog = &c
	}
	if err := p.digests(ctx); err != nil {
		return nil, err
	}
	uploads, skips, conflicts, err := p.decide(ctx)
	if err != nil {
		return nil, err
	}
	deletes, left := p.deletions()
	sum := &Summary{Target: p.st.String(), DryRun: p.opts.DryRun, Left: left}
	for _, u := range uploads {
		sum.Actions = append(sum.Actions, u.Action)
		sum.Uploaded++
		sum.Bytes += u.Size
	}
	for _, d := range deletes {
		sum.Actions = append(sum.Actions, d.Action)
		sum.Deleted++
	}
	sum.Actions = append(sum.Actions, skips...)
	sum.Skipped = len(skips)
	if len(conflicts) > 0 {
		return sum, conflicts.Sort()
	}
	if p.opts.DryRun {
		return sum, nil
	}
	p.opts.Reporter.Planned(len(uploads), len(deletes), sum.Bytes)
	done, err := p.execute(ctx, uploads, deletes)
	sum.Uploaded, sum.Deleted, sum.Bytes = done.uploaded, done.deleted, done.bytes
	return sum, err
}

// digests reads the published sha256 of every tree file whose size matches
// its object's: from the manifest where it still holds, else per object.
func (p *publisher) digests(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.opts.Concurrency)
	for _, rel := range p.tree.order {
		f, r := p.tree.files[rel], p.remote[rel]
		if r == nil || r.SHA256 != "" || r.Size != f.Size {
			continue
		}
		g.Go(func() error {
			if err := p.st.digest(gctx, rel, r); err != nil {
				return fmt.Errorf("reading %s: %w", p.where(rel), err)
			}
			return nil
		})
	}
	return g.Wait()
}

// decide sorts the tree's files into uploads (in publishing order) and
// skips, and lists the published version files that would change.
func (p *publisher) decide(ctx context.Context) (uploads []planned, skips []Action, conflicts problem.List, err error) {
	state := map[string]Op{}
	var checkSig []string
	for _, rel := range p.tree.order {
		f, r := p.tree.files[rel], p.remote[rel]
		if f.signs != "" {
			continue // after the file it signs
		}
		switch {
		case r == nil:
			state[rel] = Upload
			uploads = append(uploads, p.upload(f, "new"))
		case r.Size == f.Size && r.SHA256 == f.SHA256:
			state[rel] = Skip
			skips = append(skips, Action{Skip, rel, f.Size, "unchanged"})
		case IsVersioned(rel) && !p.opts.AllowOverwrite:
			state[rel] = ""
			conflicts.Add(p.where(rel), "", "%s; a published version is never changed: publish the change as a new version (or give --allow-overwrite)", differs(r, f))
		case IsVersioned(rel):
			state[rel] = Upload
			uploads = append(uploads, p.upload(f, "overwrite ("+differs(r, f)+")"))
		default:
			state[rel] = Upload
			uploads = append(uploads, p.upload(f, "changed"))
		}
	}
	for _, rel := range p.tree.order {
		f, r := p.tree.files[rel], p.remote[rel]
		if f.signs == "" {
			continue
		}
		switch base := state[f.signs]; {
		case base == "":
			// The file it signs is refused.
		case r != nil && r.Size == f.Size && r.SHA256 == f.SHA256:
			skips = append(skips, Action{Skip, rel, f.Size, "unchanged"})
		case base == Upload:
			uploads = append(uploads, p.upload(f, "signs a new file"))
		case r == nil:
			uploads = append(uploads, p.upload(f, "new"))
		default:
			checkSig = append(checkSig, rel)
		}
	}
	// A signature that differs from the published one over an unchanged
	// file (a rebuild without the cache re-signs everything, and
	// signatures are salted): keep the published one if it still
	// verifies against the tree's keys, as the builder keeps a still-valid
	// signature; else replace it.
	valid := make([]bool, len(checkSig))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.opts.Concurrency)
	for i, rel := range checkSig {
		g.Go(func() error {
			ok, err := p.stillValid(gctx, rel)
			valid[i] = ok
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, nil, err
	}
	for i, rel := range checkSig {
		f := p.tree.files[rel]
		if valid[i] {
			skips = append(skips, Action{Skip, rel, f.Size, "kept: the published signature still verifies"})
		} else {
			uploads = append(uploads, p.upload(f, "re-signed"))
		}
	}
	slices.SortStableFunc(uploads, func(a, b planned) int {
		return cmp.Or(cmp.Compare(a.phase, b.phase), compareBool(a.sig, b.sig), cmp.Compare(a.Path, b.Path))
	})
	slices.SortFunc(skips, func(a, b Action) int { return cmp.Compare(a.Path, b.Path) })
	return uploads, skips, conflicts, nil
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func (p *publisher) upload(f *localFile, why string) planned {
	base := f.Rel
	if f.signs != "" {
		base = f.signs
	}
	return planned{Action: Action{Upload, f.Rel, f.Size, why}, phase: phaseOf(base, p.tree.api), sig: f.signs != ""}
}

// differs says how a published object and a tree file differ.
func differs(r *remote, f *localFile) string {
	if r.Size != f.Size {
		return fmt.Sprintf("published with %d bytes, the tree has %d", r.Size, f.Size)
	}
	return fmt.Sprintf("published with sha256 %s, the tree has %s", r.SHA256, f.SHA256)
}

// stillValid says whether the published signature at rel verifies the
// tree's (unchanged) file it signs.
func (p *publisher) stillValid(ctx context.Context, rel string) (bool, error) {
	sig, err := p.st.read(ctx, rel, catalog.MaxSignatureSize)
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", p.where(rel), err)
	}
	f, err := os.Open(p.tree.files[p.tree.files[rel].signs].Path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	return sign.Verify(p.tree.keys, f, strings.NewReader(string(sig)), time.Time{}) == nil, nil
}

// deletions lists, with Prune, the objects the tree no longer has — never
// the signature of a file that stays, nor a dot-file (.well-known/…, a
// gh-pages checkout's .gitignore) — and counts those left without it.
func (p *publisher) deletions() (deletes []planned, left int) {
	for rel, r := range p.remote {
		if p.tree.files[rel] != nil {
			continue
		}
		if base, ok := strings.CutSuffix(rel, ".asc"); ok && p.tree.files[base] != nil {
			continue
		}
		if strings.HasPrefix(rel, ".") || strings.Contains(rel, "/.") {
			continue
		}
		if pr, ok := p.st.(protector); ok && pr.protected(rel) {
			continue
		}
		if !p.opts.Prune {
			left++
			continue
		}
		phase := phaseOf(strings.TrimSuffix(rel, ".asc"), p.tree.api)
		deletes = append(deletes, planned{Action: Action{Delete, rel, r.Size, "not in the tree"}, phase: phase})
	}
	// Site and catalogs first, version files last, each file before its
	// signature: all after the new catalog is in place.
	slices.SortFunc(deletes, func(a, b planned) int {
		return cmp.Or(cmp.Compare(b.phase, a.phase), cmp.Compare(a.Path, b.Path))
	})
	return deletes, left
}

type counts struct {
	uploaded, deleted int
	bytes             int64
}

// execute makes the uploads phase by phase (a file before its signature),
// checks that the catalog is still the one read before switching it, then
// deletes.
func (p *publisher) execute(ctx context.Context, uploads, deletes []planned) (c counts, err error) {
	defer func() {
		// Even after a failure: what was written is known.
		if c.uploaded+c.deleted == 0 {
			return
		}
		if serr := p.st.save(context.WithoutCancel(ctx), p.remote); serr != nil {
			p.opts.Reporter.Note(fmt.Sprintf("could not save the publish manifest (the next publish reads each object's digest instead): %v", serr))
		}
	}()
	catalogRel := p.tree.api + "/packages.json"
	checked, switched := false, false
	for len(uploads) > 0 {
		n := 1
		for n < len(uploads) && uploads[n].phase == uploads[0].phase && uploads[n].sig == uploads[0].sig {
			n++
		}
		step := uploads[:n]
		uploads = uploads[n:]
		if step[0].phase > phaseVersion && !checked {
			if err := p.checkCatalog(ctx); err != nil {
				return c, err
			}
			checked = true
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(p.opts.Concurrency)
		for _, u := range step {
			g.Go(func() error {
				f := p.tree.files[u.Path]
				var cond *ifSame
				if u.Path == catalogRel {
					cond = &ifSame{p.catalog}
				}
				r, err := p.st.put(gctx, f, cond)
				if errors.Is(err, errChanged) {
					return p.raceError(ctx, switched)
				}
				if err != nil {
					return p.failed(u, err)
				}
				p.mu.Lock()
				p.remote[u.Path] = r
				c.uploaded++
				c.bytes += u.Size
				p.mu.Unlock()
				p.opts.Reporter.Done(u.Action)
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return c, err
		}
		if step[0].phase >= phaseProduct {
			switched = true
		}
	}
	if len(deletes) > 0 && !checked {
		if err := p.checkCatalog(ctx); err != nil {
			return c, err
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.opts.Concurrency)
	for _, d := range deletes {
		g.Go(func() error {
			if err := p.st.remove(gctx, d.Path); err != nil {
				return fmt.Errorf("deleting %s: %w", p.where(d.Path), err)
			}
			p.mu.Lock()
			delete(p.remote, d.Path)
			c.deleted++
			p.mu.Unlock()
			p.opts.Reporter.Done(d.Action)
			return nil
		})
	}
	return c, g.Wait()
}

// failed words an upload that failed for good, saying what readers see.
func (p *publisher) failed(u planned, err error) error {
	state := "the published catalog is unchanged"
	switch {
	case u.phase == phaseProduct:
		state = "product catalogs may be partly updated; the published packages.json is unchanged"
	case u.phase == phaseCatalog && u.sig:
		state = "packages.json is in place but its signature may not be"
	case u.phase >= phaseCatalog:
		state = "the new catalog is in place; files that follow it may not be"
	}
	return fmt.Errorf("uploading %s: %w; %s: re-run market publish to finish", p.where(u.Path), err, state)
}

// checkCatalog makes sure the published catalog is still the one read at
// the start, before anything that switches to the new one is written.
func (p *publisher) checkCatalog(ctx context.Context) error {
	rel := p.tree.api + "/packages.json"
	now, err := p.st.stat(ctx, rel)
	if err != nil {
		return fmt.Errorf("re-reading %s: %w", p.where(rel), err)
	}
	if sameObject(now, p.catalog) {
		return nil
	}
	return p.raceFrom(now, false)
}

// raceError re-reads the catalog after a conditional put lost.
func (p *publisher) raceError(ctx context.Context, switched bool) error {
	now, err := p.st.stat(ctx, p.tree.api+"/packages.json")
	if err != nil {
		now = nil
	}
	return p.raceFrom(now, switched)
}

func (p *publisher) raceFrom(now *remote, switched bool) error {
	e := &RaceError{Catalog: p.where(p.tree.api + "/packages.json"), Switched: switched}
	if p.catalog != nil {
		e.Seen = p.catalog.ETag
	}
	if now != nil {
		e.Found, e.SHA256, e.Modified = now.ETag, now.SHA256, now.Modified
	}
	return e
}

func sameObject(a, b *remote) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ETag != "" && a.ETag == b.ETag
}

// where names the object at rel for a message.
func (p *publisher) where(rel string) string { return p.st.String() + "/" + rel }

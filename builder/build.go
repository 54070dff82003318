// Package builder turns a packages directory into a signed, static
// marketplace tree: Validate checks it, Build writes it.
package builder

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/schema/problem"
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
	// Jobs bounds the version folders written at once (default
	// GOMAXPROCS). Work that mostly states files (the scan, the plan,
	// checking a tree in place or a spare) runs twice as many (statJobs).
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

// statJobs bounds the goroutines of work that mostly states files: it
// waits in the kernel, and two goroutines a job kept both cores of a
// 2-core machine busier (rebuilds of 50,000 versions: no change 1.55 ->
// 1.37 s, one change 2.6 -> 2.45 s, measured back to back), where more
// writers at once would only hold more memory.
func (o *Options) statJobs() int { return 2 * o.Jobs }

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
	t, err := scanTree(opts.Packages, opts.Config, opts.Now, opts.statJobs(), prev)
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
//
// A build is the pipeline below, run in order; each step reads what the
// steps before it left in the build and adds its own result.
func Build(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	b := &build{opts: opts, prevAPI: filepath.Join(opts.Out, opts.Config.API)}
	defer b.close()
	for _, s := range pipeline {
		err := s.run(b, ctx)
		if errors.Is(err, errUnchanged) {
			break
		}
		if err != nil {
			return nil, err
		}
		StepHook(s.name)
	}
	t := b.tree
	return &Result{Out: opts.Out, Versions: len(t.Versions), Reused: b.reused, Recycled: int(b.recycled.Load()),
		Unchanged: b.unchanged, Problems: t.Problems, Duration: time.Since(start)}, nil
}

// step is one stage of a build.
type step struct {
	name string
	run  func(*build, context.Context) error
}

// pipeline is the route of every build. A step returning errUnchanged ends
// the build successfully: the tree in place already is the result.
var pipeline = []step{
	{"lock", (*build).lock},               // one build per output at a time
	{"load cache", (*build).loadCache},    // what the previous build recorded
	{"scan", (*build).scan},               // validate the packages directory
	{"plan", (*build).plan},               // key every version folder by its inputs
	{"decide", (*build).decide},           // errUnchanged when the record says nothing changed
	{"entries", (*build).recordedEntries}, // the recorded entries of the versions the scan took as known
	{"compare", (*build).compare},         // errUnchanged when the bytes say nothing changed
	{"prepare", (*build).prepare},         // a new tree beside out: the spare, or empty
	{"versions", (*build).writeVersions},  // version folders, written or kept
	{"catalogs", (*build).writeCatalogs},  // catalogs, keys, schema, release
	{"site", (*build).writeSite},          // the browse site
	{"cache", (*build).writeCache},        // the record the next build starts from
	{"swap", (*build).swap},               // the new tree in, atomically
	{"keep spare", (*build).keepSpare},    // the old tree, for the next build
}

// StepHook is called after each step of the pipeline, with its name. It
// does nothing unless a crash test sets it, to kill the process at a
// chosen step.
var StepHook = func(step string) {}

// FormatVersion changes whenever the same input would give different output bytes.
const FormatVersion = 1

// errUnchanged ends a build whose output is already in place.
var errUnchanged = errors.New("the tree is unchanged")

// build is one run of the pipeline: its options, then what each step found
// or made, in pipeline order.
type build struct {
	opts    Options
	prevAPI string // the previous tree's <api>, whose outputs may be reused

	unlock func()        // lock
	prev   *cache        // load cache: nil if none or not trusted
	tree   *Tree         // scan
	root   *os.Root      // plan: the packages directory
	plans  []versionPlan // plan: one per tree.Versions, same order

	treeKey   string      // decide
	unchanged bool        // decide, compare
	topStates []fileState // catalogs, or decide: the top-level files as written

	tmp, dir, api string       // prepare: the new tree (tmp is removed on failure)
	spare         *cache       // prepare: the recycled spare's record, nil if none
	recycled      atomic.Int64 // versions: kept in place in the spare
	entriesOnce   sync.Once    // entries: the recorded entries loaded (loadEntries)
	records       []*cachedVersion
	recordOut     *recordWriter   // versions: the new tree's record, being written
	nextSpare     spareSite       // versions, or decide and compare: the spare the new record describes
	entries       []catalog.Entry // versions: every version, deprecated ones too, in catalog order
	elems         [][]byte        // versions: each entry's catalog element (catalog.EncodeElement)
	reused        int
	top           []topFile            // catalogs
	cats          []catalog.Category   // catalogs
	pages         map[string]bool      // site: the pages, by path in the tree
	sparePages    map[string]fileState // site: the spare's pages, as its record has them
	siteKey       string               // site
	siteFiles     []fileState          // site
	pageKeys      map[string]string    // site: the digests its pages but the package pages are rendered from
}

// close undoes what a failed build left: its temporary tree and its lock.
func (b *build) close() {
	b.entriesOnce.Do(func() {}) // waits for entries being loaded
	b.recordOut.abort()
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
	}
	if b.root != nil {
		b.root.Close()
	}
	if b.unlock != nil {
		b.unlock()
	}
}

// lock checks where the build writes and takes the output's lock.
func (b *build) lock(ctx context.Context) error {
	opts := b.opts
	if err := checkOut(opts.Packages, opts.Out); err != nil {
		return err
	}
	if opts.Signer == nil && (opts.Release != nil || len(opts.PublishKeys) > 0) {
		return &ConfigError{"", errors.New("a release.json and published keys need a signing key")}
	}
	unlock, err := lockOut(ctx, opts.Out, opts.Reporter.Note)
	b.unlock = unlock
	return err
}

// loadCache reads the previous tree's record, unless --no-cache.
func (b *build) loadCache(context.Context) error {
	if b.opts.NoCache {
		return nil
	}
	var why string
	if b.prev, why = loadCache(b.opts.Out); why != "" {
		b.opts.Reporter.Note(why)
	}
	return nil
}

// scan validates the packages directory: its problems end the build.
func (b *build) scan(context.Context) error {
	t, err := scan(b.opts, b.prev)
	if err != nil {
		return err
	}
	b.tree = t
	return t.Problems.Err()
}

// prepare makes the directory the new tree is written into, beside out:
// the spare tree the previous build left, readied for reuse, when there is
// one; else an empty one.
func (b *build) prepare(context.Context) error {
	tmp, err := newTemp(b.opts.Out)
	if err != nil {
		return err
	}
	b.tmp = tmp
	if b.prev != nil {
		if b.spare = claimSpare(b.opts.Out, b.opts.Config.API, tmp+"-spare", b.prev); b.spare != nil {
			os.Remove(tmp)
			b.tmp = tmp + "-spare"
		}
	}
	b.dir, b.api = b.tmp, filepath.Join(b.tmp, b.opts.Config.API)
	b.opts.Reporter.Start(len(b.tree.Versions))
	if b.spare != nil {
		return b.recycle()
	}
	return nil
}

// writeCache records the new tree for the next build.
func (b *build) writeCache(context.Context) error {
	keys := make([]string, len(b.records)) // some were only known once written
	for i, r := range b.records {
		keys[i] = r.Key
	}
	b.treeKey = b.computeTreeKey(keys)
	return b.recordOut.finish(b.nextMeta()) // its records are being written
}

// nextMeta is the record of this build's tree but its versions' records
// (recordMap).
func (b *build) nextMeta() cacheBody {
	return cacheBody{SiteKey: b.siteKey, Site: b.siteFiles, PageKeys: b.pageKeys, ScanKey: scanKey(b.opts.Config), TreeKey: b.treeKey,
		Top: b.topStates, SiteWideKey: b.siteWideKey(), KeyBase: b.keyBase(), Spare: b.nextSpare}
}

// recordMap is every version folder's record, by its path.
func (b *build) recordMap() map[string]*cachedVersion {
	m := make(map[string]*cachedVersion, len(b.records))
	for i, v := range b.tree.Versions {
		m[v.rel] = b.records[i]
	}
	return m
}

// swap puts the new tree at out; the old one is now at b.tmp.
func (b *build) swap(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := swap(b.tmp, b.opts.Out); err != nil {
		return fmt.Errorf("replacing %s: %w", b.opts.Out, err)
	}
	return nil
}

// keepSpare keeps the tree just replaced as the next build's starting
// point; without a cache it is simply removed (by close).
func (b *build) keepSpare(context.Context) error {
	if _, err := os.Lstat(b.tmp); err == nil && !b.opts.NoCache && keepSpare(b.tmp, b.opts.Out) == nil {
		b.tmp = ""
	}
	return nil
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

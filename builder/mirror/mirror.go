// Package mirror makes verified copies of a marketplace (market mirror):
// it reads a marketplace over HTTP(S) or from a directory, verifies every
// catalog, signature, release and file against a keyring, and only then
// publishes the copy to a directory or an S3 bucket, where CDAP can use it
// as its market base URL and market fetch and verify as a source.
//
// Nothing reaches the target before everything the run needs is verified:
// versions are downloaded into a staging tree (the work directory), and
// the staging tree is published with package publish, which uploads
// version files first and the catalogs last. A run that fails or is killed
// before publishing leaves the target as it was; the next run reuses what
// the staging tree already holds (each file checked again) and completes.
//
// Without a signing key the copy is exact: every file and signature of the
// publisher, byte for byte, verified with the publisher's key. With one
// (Signer), the copy may be filtered by product version; its catalogs, and
// every signature, are then the organisation's, and upstream.json at the
// root of the target records the upstream release it was made from.
package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/builder/publish"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
)

// DefaultJobs is how many files are downloaded at once by default.
const DefaultJobs = 4

// Options say what to mirror where.
type Options struct {
	// Source is the marketplace: its API folder (https://hub.example.com/v2,
	// dist/v1) or its root (https://hub.example.com/, dist).
	Source string
	// To is the target: a directory, or s3://BUCKET[/PREFIX].
	To string
	// S3 configures an s3:// target; credentials come from the AWS chain.
	S3 publish.S3Options
	// Client configures reading the source: Keyring (required: the
	// publisher's keys), StateFile (the highest release serial seen),
	// API, RequireRelease, HTTP settings and limits.
	Client client.Options
	// Signer, when set, re-signs the copy with the organisation's key:
	// catalogs, every version file's signature, keys.asc (the
	// organisation's key), release.json and upstream.json. Nil: an
	// exact copy of the publisher's tree.
	Signer *sign.Signer
	// ProductVersions keep only the versions those product versions can
	// install (cdapVersion holds one of them, or no cdapVersion), and a
	// product catalog for each. Needs a Signer.
	ProductVersions []schema.Version
	// IncludeDeprecated keeps deprecated versions in a re-signed copy (an
	// exact copy always keeps them: it changes nothing).
	IncludeDeprecated bool
	// Work is where downloads are staged, kept across an interrupted run
	// (default: beside a directory target, .<name>.mirror; for S3, the
	// user's cache directory).
	Work string
	// Jobs bounds the files downloaded at once (default DefaultJobs).
	Jobs int
	// Concurrency bounds the publish's requests in flight (default publish's).
	Concurrency int
	// Reporter hears progress (default: nothing).
	Reporter Reporter
}

// Reporter hears a mirror's progress; its methods may be called from
// several goroutines at once. The publish step reports through the
// embedded publish.Reporter.
type Reporter interface {
	publish.Reporter
	// Staging is told what is about to be downloaded.
	Staging(versions, files int, bytes int64)
	// Fetched is told of each file staged: downloaded and verified, or
	// kept (resumed) from an interrupted run after checking it again.
	Fetched(rel string, size int64, resumed bool)
}

type nopReporter struct{}

func (nopReporter) Planned(int, int, int64)     {}
func (nopReporter) Done(publish.Action)         {}
func (nopReporter) Note(string)                 {}
func (nopReporter) Staging(int, int, int64)     {}
func (nopReporter) Fetched(string, int64, bool) {}

// Summary is what a mirror did.
type Summary struct {
	Source, Target, API string
	// Exact: the publisher's tree byte for byte (no Signer).
	Exact bool
	// Release is the upstream release mirrored; nil when it has none.
	Release *catalog.Release
	// Versions is how many versions the target holds now; Present how
	// many of them it held already (nothing downloaded), Staged how many
	// were staged by this run.
	Versions, Present, Staged int
	// Files and Bytes count the files downloaded; Resumed the files an
	// interrupted run had staged already.
	Files, Resumed int
	Bytes          int64
	// Work is the work directory: after a failed publish, it holds
	// everything verified, for the next run.
	Work string
	// Publish is what the publish step did.
	Publish  *publish.Summary
	Duration time.Duration
}

// ConfigError is a problem with the options or the environment rather than
// with the marketplace: no keyring, a filter without a key, a work
// directory in use, a target that is not a mirror.
type ConfigError struct {
	What string
	Err  error
}

func (e *ConfigError) Error() string { return e.What + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// RefusedError says the source failed verification (or could not be read)
// before anything was written: the target is as it was. Err is a
// *client.Error whose Kind says why (errors.Is(err, client.ErrHashMismatch)).
type RefusedError struct {
	Source, Target string
	Err            error
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s: %v; nothing was written to %s, which is as it was", e.Source, e.Err, e.Target)
}
func (e *RefusedError) Unwrap() error { return e.Err }

// Mirror verifies the marketplace at opts.Source and brings the target
// opts.To to a copy of it (see the package documentation).
func Mirror(ctx context.Context, opts Options) (*Summary, error) {
	start := time.Now()
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	w, err := openWork(opts.Work)
	if err != nil {
		return nil, err
	}
	defer w.unlock()
	refuse := func(err error) error { return &RefusedError{Source: opts.Source, Target: opts.To, Err: err} }
	up, err := readUpstream(ctx, &opts)
	if err != nil {
		return nil, refuse(err)
	}
	tgt, err := publish.OpenTarget(ctx, publish.Options{Tree: w.tree, To: opts.To, S3: opts.S3})
	if err != nil {
		return nil, err
	}
	dest, err := readDest(ctx, tgt, up, &opts)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, refuse(err)
	}
	sum := &Summary{Source: opts.Source, Target: tgt.String(), API: up.api, Exact: opts.Signer == nil, Release: up.release, Work: opts.Work}
	if err := stageAll(ctx, w, up, dest, &opts, sum); err != nil {
		return nil, refuse(err)
	}
	if err := writeTop(w, up, dest, &opts); err != nil {
		return nil, err
	}
	swapped := false
	if dest.isDir {
		if sum.Publish, swapped, err = swapInto(w, dest, &opts); err != nil {
			return sum, err
		}
	}
	if !swapped {
		if sum.Publish, err = publishTree(ctx, w, dest, &opts); err != nil {
			return sum, err
		}
	}
	if err := w.finish(); err != nil {
		opts.Reporter.Note(fmt.Sprintf("could not remove the staging tree %s: %v", w.tree, err))
	}
	sum.Duration = time.Since(start)
	return sum, nil
}

func (o *Options) defaults() error {
	switch {
	case o.Source == "":
		return &ConfigError{"source", errors.New("no marketplace to mirror")}
	case o.To == "":
		return &ConfigError{"target", errors.New("no target: want a directory or s3://BUCKET[/PREFIX]")}
	case len(o.Client.Keyring) == 0:
		return &ConfigError{"keyring", errors.New("no keyring: give the publisher's public keys, obtained out of band")}
	case len(o.ProductVersions) > 0 && o.Signer == nil:
		return &ConfigError{"product versions", errors.New("a filtered mirror changes the catalogs, which must then be signed: give the organisation's signing key")}
	}
	if o.Jobs <= 0 {
		o.Jobs = DefaultJobs
	}
	if o.Reporter == nil {
		o.Reporter = nopReporter{}
	}
	if o.Client.UserAgent == "" {
		o.Client.UserAgent = "market-mirror/1"
	}
	if o.Work == "" {
		work, err := defaultWork(o.To)
		if err != nil {
			return err
		}
		o.Work = work
	}
	return errors.Join(checkOverlap("the source", o.Source, o.To), checkOverlap("the work directory", o.Work, o.To),
		checkOverlap("the work directory", o.Work, o.Source))
}

// checkOverlap refuses two directories inside one another (the source,
// the work directory, the target): the mirror would write into what it
// reads, or publish its own staging tree.
func checkOverlap(what, dir, other string) error {
	if strings.Contains(dir, "://") || strings.Contains(other, "://") {
		return nil
	}
	a, err1 := filepath.Abs(dir)
	b, err2 := filepath.Abs(other)
	if err1 != nil || err2 != nil || !within(a, b) && !within(b, a) {
		return nil
	}
	return &ConfigError{other, fmt.Errorf("%s %s overlaps it", what, dir)}
}

// within says whether the clean absolute path p is dir or inside it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// defaultWork is the work directory of a target: a hidden sibling of a
// directory (the same file system), else a folder of the user's cache.
func defaultWork(to string) (string, error) {
	if !strings.HasPrefix(to, "s3://") {
		abs, err := filepath.Abs(to)
		if err != nil {
			return "", &ConfigError{to, err}
		}
		return filepath.Join(filepath.Dir(abs), "."+filepath.Base(abs)+".mirror"), nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", &ConfigError{"work directory", fmt.Errorf("no cache directory (%v): give one", err)}
	}
	sum := sha256.Sum256([]byte(to))
	return filepath.Join(cache, "market", "mirror", hex.EncodeToString(sum[:8])), nil
}

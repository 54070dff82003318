package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/market-dev/market/builder/publish"
)

// publishOptions are market publish's flags.
type publishOptions struct {
	opts    publish.Options
	quiet   bool
	changed func(flag string) bool
}

func newPublishCmd() *cobra.Command {
	o := &publishOptions{}
	c := &cobra.Command{
		Use:   "publish DIR --to s3://BUCKET[/PREFIX]|DIR",
		Short: "Upload a built tree to S3 (or a directory), changed files only",
		Long: `Bring the target up to the tree market build wrote to DIR, uploading only what
changed: each object's sha256 is stored in its metadata at upload and compared
with the tree's. The build's .market folder is never published.

Order: every version file (v1/packages/<name>/<version>/...) first, then the
product catalogs, packages.json and its signature, categories.json, keys.asc,
release.json and the site last, so a reader never sees a catalog naming a file
not yet uploaded; a file's signature goes right after it.

A published version is immutable: a version file whose published bytes differ
from the tree's is refused, every one named, before anything is written
(--allow-overwrite replaces them). Before switching the catalog, publish checks
that packages.json is still the one it read at the start (a conditional PUT,
If-Match on its ETag); if another writer changed it, publish stops with an
error naming their catalog. --prune deletes what the tree no longer has, after
the new catalog is in place, never the signature of a file that stays.

Targets: s3://BUCKET[/PREFIX] (--endpoint URL for S3-compatible stores, which
implies path-style addressing), or a directory such as a gh-pages checkout
(dot-files there, like .git, are left alone).

Credentials come from the AWS SDK's standard chain, never from flags: the
environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
AWS_PROFILE, AWS_REGION), shared config and SSO (aws sso login), web identity
(GitHub OIDC through aws-actions/configure-aws-credentials), instance roles.
Throttling and 5xx answers are retried with backoff.
`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, args []string) error { return o.run(c.Context(), streamsOf(c), args[0]) },
	}
	o.addFlags(c.Flags())
	return c
}

func (o *publishOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.opts.To, "to", "", "the target: s3://BUCKET[/PREFIX] or a directory")
	f.StringVar(&o.opts.S3.Region, "region", "", "the bucket's region (default: AWS_REGION or the shared config)")
	f.StringVar(&o.opts.S3.Endpoint, "endpoint", "", "base URL of an S3-compatible store (MinIO, R2, GCS interoperability)")
	f.BoolVar(&o.opts.S3.PathStyle, "path-style", false, "address the bucket in the URL path (default: on with --endpoint)")
	f.IntVar(&o.opts.Concurrency, "concurrency", publish.DefaultConcurrency, "requests in flight at once")
	f.BoolVar(&o.opts.DryRun, "dry-run", false, "print the plan (uploads, skips, deletes, with sizes) and write nothing")
	f.BoolVar(&o.opts.Prune, "prune", false, "delete objects the tree no longer has, once the new catalog is in place")
	f.BoolVar(&o.opts.AllowOverwrite, "allow-overwrite", false, "replace published version files whose bytes differ (a published version is otherwise immutable)")
	f.DurationVar(&o.opts.CatalogMaxAge, "catalog-max-age", publish.DefaultCatalogMaxAge, "Cache-Control max-age of catalogs, keys, release.json and the site (version files are immutable)")
	f.IntVar(&o.opts.S3.MaxAttempts, "max-attempts", publish.DefaultMaxAttempts, "attempts per request before giving up (throttling and 5xx are retried with backoff)")
	f.BoolVar(&o.quiet, "quiet", false, "print only errors and the final line")
	o.changed = f.Changed
}

func (o *publishOptions) run(ctx context.Context, s streams, tree string) error {
	o.opts.Tree = tree
	if err := o.check(); err != nil {
		return err
	}
	o.opts.Reporter = &publishReporter{w: s.errOut, quiet: o.quiet, start: time.Now()}
	sum, err := publish.Publish(ctx, o.opts)
	if sum != nil && o.opts.DryRun {
		printPlan(s.out, sum) // refusals, if any, follow on stderr
	}
	var ce *publish.ConfigError
	if errors.As(err, &ce) {
		return usageError{err}
	}
	if err != nil {
		if sum != nil && !o.opts.DryRun && sum.Uploaded+sum.Deleted > 0 {
			fmt.Fprintf(s.errOut, "market: before failing: %s\n", counts(sum))
		}
		return err
	}
	verb := "published " + tree + " to"
	if o.opts.DryRun {
		verb = "dry run, nothing written: would publish " + tree + " to"
	}
	fmt.Fprintf(s.out, "market: %s %s: %s in %.2fs\n", verb, sum.Target, counts(sum), sum.Duration.Seconds())
	return nil
}

// check refuses flags that cannot work, and turns on path-style addressing
// for --endpoint unless --path-style says otherwise.
func (o *publishOptions) check() error {
	if o.opts.To == "" {
		return usagef("--to is required: s3://BUCKET[/PREFIX] or a directory")
	}
	if !o.changed("path-style") && o.opts.S3.Endpoint != "" {
		o.opts.S3.PathStyle = true
	}
	if o.opts.Concurrency < 1 {
		return usagef("--concurrency %d: want at least 1", o.opts.Concurrency)
	}
	if o.opts.CatalogMaxAge < time.Second {
		return usagef("--catalog-max-age %v: want at least 1s", o.opts.CatalogMaxAge)
	}
	if o.opts.S3.MaxAttempts < 1 {
		return usagef("--max-attempts %d: want at least 1", o.opts.S3.MaxAttempts)
	}
	return nil
}

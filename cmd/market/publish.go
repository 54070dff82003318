package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/market-dev/market/builder/publish"
)

// progressEvery is how many objects a progress line stands for.
const progressEvery = 100

func newPublish() *cobra.Command {
	var opts publish.Options
	var quiet bool
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
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Tree = args[0]
			if opts.To == "" {
				return usagef("--to is required: s3://BUCKET[/PREFIX] or a directory")
			}
			if !cmd.Flags().Changed("path-style") && opts.S3.Endpoint != "" {
				opts.S3.PathStyle = true
			}
			if opts.Concurrency < 1 {
				return usagef("--concurrency %d: want at least 1", opts.Concurrency)
			}
			if opts.CatalogMaxAge < time.Second {
				return usagef("--catalog-max-age %v: want at least 1s", opts.CatalogMaxAge)
			}
			if opts.S3.MaxAttempts < 1 {
				return usagef("--max-attempts %d: want at least 1", opts.S3.MaxAttempts)
			}
			stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
			rep := &publishReporter{w: stderr, quiet: quiet, start: time.Now()}
			opts.Reporter = rep
			sum, err := publish.Publish(cmd.Context(), opts)
			if sum != nil && opts.DryRun {
				printPlan(stdout, sum) // refusals, if any, follow on stderr
			}
			var ce *publish.ConfigError
			if errors.As(err, &ce) {
				return usageError{err}
			}
			if err != nil {
				if sum != nil && !opts.DryRun && sum.Uploaded+sum.Deleted > 0 {
					fmt.Fprintf(stderr, "market: before failing: %s\n", counts(sum))
				}
				return err
			}
			verb := "published " + opts.Tree + " to"
			if opts.DryRun {
				verb = "dry run, nothing written: would publish " + opts.Tree + " to"
			}
			fmt.Fprintf(stdout, "market: %s %s: %s in %.2fs\n", verb, sum.Target, counts(sum), sum.Duration.Seconds())
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&opts.To, "to", "", "the target: s3://BUCKET[/PREFIX] or a directory")
	f.StringVar(&opts.S3.Region, "region", "", "the bucket's region (default: AWS_REGION or the shared config)")
	f.StringVar(&opts.S3.Endpoint, "endpoint", "", "base URL of an S3-compatible store (MinIO, R2, GCS interoperability)")
	f.BoolVar(&opts.S3.PathStyle, "path-style", false, "address the bucket in the URL path (default: on with --endpoint)")
	f.IntVar(&opts.Concurrency, "concurrency", publish.DefaultConcurrency, "requests in flight at once")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print the plan (uploads, skips, deletes, with sizes) and write nothing")
	f.BoolVar(&opts.Prune, "prune", false, "delete objects the tree no longer has, once the new catalog is in place")
	f.BoolVar(&opts.AllowOverwrite, "allow-overwrite", false, "replace published version files whose bytes differ (a published version is otherwise immutable)")
	f.DurationVar(&opts.CatalogMaxAge, "catalog-max-age", publish.DefaultCatalogMaxAge, "Cache-Control max-age of catalogs, keys, release.json and the site (version files are immutable)")
	f.IntVar(&opts.S3.MaxAttempts, "max-attempts", publish.DefaultMaxAttempts, "attempts per request before giving up (throttling and 5xx are retried with backoff)")
	f.BoolVar(&quiet, "quiet", false, "print only errors and the final line")
	return c
}

// counts words a summary's numbers.
func counts(s *publish.Summary) string {
	msg := fmt.Sprintf("%d uploaded (%s), %d skipped, %d deleted", s.Uploaded, size(s.Bytes), s.Skipped, s.Deleted)
	if s.Left > 0 {
		msg += fmt.Sprintf(", %d not in the tree left in place (--prune deletes them)", s.Left)
	}
	return msg
}

// printPlan prints a dry run's plan, one object a line.
func printPlan(w io.Writer, s *publish.Summary) {
	for _, a := range s.Actions {
		fmt.Fprintf(w, "%-6s %10s  %s  (%s)\n", a.Op, size(a.Size), a.Path, a.Why)
	}
}

func size(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 10<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// publishReporter prints a line per progressEvery objects written, and notes.
type publishReporter struct {
	w     io.Writer
	quiet bool
	start time.Time

	mu             sync.Mutex
	total, done    int
	bytes, total64 int64
}

func (r *publishReporter) Planned(uploads, deletes int, bytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total, r.total64 = uploads+deletes, bytes
	if !r.quiet && r.total > 0 {
		fmt.Fprintf(r.w, "market: %d upload(s) (%s), %d deletion(s) to make\n", uploads, size(bytes), deletes)
	}
}

func (r *publishReporter) Done(a publish.Action) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done++
	if a.Op == publish.Upload {
		r.bytes += a.Size
	}
	if !r.quiet && r.done%progressEvery == 0 && r.done < r.total {
		fmt.Fprintf(r.w, "market: %d/%d objects, %s of %s uploaded after %.1fs\n", r.done, r.total, size(r.bytes), size(r.total64), time.Since(r.start).Seconds())
	}
}

func (r *publishReporter) Note(msg string) {
	if r.quiet {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.w, "market: note: %s\n", strings.TrimSpace(msg))
}

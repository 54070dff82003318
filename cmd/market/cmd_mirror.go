package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/market-dev/market/builder/mirror"
	"github.com/market-dev/market/builder/publish"
	"github.com/market-dev/market/schema"
)

// mirrorOptions are market mirror's flags.
type mirrorOptions struct {
	consumer consumerFlags
	key      keyFlags
	opts     mirror.Options
	products []string
	quiet    bool
	changed  func(flag string) bool
}

func newMirrorCmd() *cobra.Command {
	o := &mirrorOptions{}
	c := &cobra.Command{
		Use:   "mirror SOURCE --to DIR|s3://BUCKET[/PREFIX] --keyring FILE",
		Short: "Make a verified copy of a marketplace, for CDAP clusters",
		Long: `Copy the marketplace at SOURCE (its API folder, https://hub.example.com/v2, or
its site root; a URL or a directory) to --to, a directory or an S3 bucket, after
verifying all of it: packages.json, deprecated.json and release.json against
--keyring (release.json's expiry, and its serial against --state and against the
release the target was mirrored from), the product catalogs, and every file of
every version against its signed digest and its own signature. Nothing reaches
the target before that: any failure exits 1 naming the file and why, and leaves
the target as it was. CDAP checks no signature; point market.base.url at the
mirror's API folder and it reads only what was verified.

Without --key the copy is exact: every file and signature of the publisher, byte
for byte (its consumers verify it with the publisher's key), deprecated versions
included (--include-deprecated changes nothing). With --key the copy is the
organisation's: --product-version V (repeatable) keeps only the versions those
product versions can install (cdapVersion holds V, or there is none) and writes a
product catalog for each; deprecated versions are left out (deprecated.json is
empty) unless --include-deprecated; every catalog and signature is made by --key,
keys.asc holds its public key, and upstream.json (+ .asc) at the root of the
target records the upstream release, serial and digests, it was made from.
(MARKET_SIGNING_KEY stands for --key only with --product-version: a key left in
the environment never turns an exact copy into a re-signed one.)

Runs are incremental: a version the target holds already, as its signed catalog
lists it, is not downloaded again. Downloads are staged in --work (default: a
hidden sibling .DIR.mirror of a directory target, the user cache for S3) and
published with market publish's order: version files first, the catalogs last;
then what the mirror no longer has is deleted. A run killed or cut off before
that leaves the target as it was; the next run reuses what was staged (checked
again) and completes it. Only the API folder is mirrored, not the browse site.

Targets: a directory, or s3://BUCKET[/PREFIX] (--endpoint for S3-compatible
stores; credentials from the AWS SDK's standard chain, as for market publish).
`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, args []string) error { return o.run(c.Context(), streamsOf(c), args[0]) },
	}
	o.addFlags(c.Flags())
	return c
}

func (o *mirrorOptions) addFlags(f *pflag.FlagSet) {
	o.consumer.addFlags(f)
	o.key.addFlags(f)
	f.StringVar(&o.opts.To, "to", "", "the target: a directory or s3://BUCKET[/PREFIX]")
	f.StringArrayVar(&o.products, "product-version", nil, "keep only what this product version can install (repeatable; needs --key)")
	f.BoolVar(&o.opts.IncludeDeprecated, "include-deprecated", false, "keep deprecated versions in a re-signed mirror (an exact one always keeps them)")
	f.StringVar(&o.opts.Work, "work", "", "where downloads are staged between runs (default: beside a directory target, or the user cache)")
	f.IntVar(&o.opts.Jobs, "jobs", mirror.DefaultJobs, "files downloaded at once")
	f.StringVar(&o.opts.S3.Region, "region", "", "the bucket's region (default: AWS_REGION or the shared config)")
	f.StringVar(&o.opts.S3.Endpoint, "endpoint", "", "base URL of an S3-compatible store (MinIO, R2, GCS interoperability)")
	f.BoolVar(&o.opts.S3.PathStyle, "path-style", false, "address the bucket in the URL path (default: on with --endpoint)")
	f.BoolVar(&o.quiet, "quiet", false, "print only errors and the final line")
	o.changed = f.Changed
}

func (o *mirrorOptions) run(ctx context.Context, s streams, source string) error {
	if err := o.check(s); err != nil {
		return err
	}
	o.opts.Source = source
	rep := &mirrorReporter{publishReporter: publishReporter{w: s.errOut, quiet: o.quiet, start: time.Now()}}
	o.opts.Reporter = rep
	sum, err := mirror.Mirror(ctx, o.opts)
	var ce *mirror.ConfigError
	var pe *publish.ConfigError
	switch {
	case errors.As(err, &ce) || errors.As(err, &pe):
		return usageError{err}
	case err != nil && sum != nil:
		// Verified and staged, but the publish failed part way.
		return fmt.Errorf("%w\nmarket: everything was verified and is kept in %s: re-run market mirror to finish", err, sum.Work)
	case err != nil:
		return err
	}
	fmt.Fprintf(s.out, "market: mirrored %s to %s%s: %s in %.2fs\n", source, sum.Target, mirrorMode(sum, o), mirrorCounts(sum), sum.Duration.Seconds())
	return nil
}

// check reads the flags that need reading: the keyring, the product
// versions and, for a re-signed mirror, the signing key.
func (o *mirrorOptions) check(s streams) error {
	if o.opts.To == "" {
		return usagef("--to is required: a directory or s3://BUCKET[/PREFIX]")
	}
	if o.opts.Jobs < 1 {
		return usagef("--jobs %d: want at least 1", o.opts.Jobs)
	}
	var err error
	if o.opts.Client, err = o.consumer.options(false); err != nil {
		return err
	}
	o.opts.Client.UserAgent = "market-mirror"
	for _, p := range o.products {
		for _, one := range strings.Split(p, ",") {
			v, err := schema.ParseVersion(strings.TrimSpace(one))
			if err != nil {
				return usagef("--product-version %q: %v", one, err)
			}
			o.opts.ProductVersions = append(o.opts.ProductVersions, v)
		}
	}
	// Only --key (or a filter) makes a re-signed mirror: a signing key
	// left in the environment never turns an exact copy into one.
	if o.key.file != "" || len(o.opts.ProductVersions) > 0 {
		if !o.key.isSet() {
			return usagef("--product-version changes the catalogs, which must be signed again: give --key FILE (the organisation's key)")
		}
		if o.opts.Signer, err = o.key.load(s.errOut); err != nil {
			return err
		}
	}
	if !o.changed("path-style") && o.opts.S3.Endpoint != "" {
		o.opts.S3.PathStyle = true
	}
	return nil
}

// mirrorMode says how the copy is signed and filtered.
func mirrorMode(sum *mirror.Summary, o *mirrorOptions) string {
	release := "no release.json"
	if r := sum.Release; r != nil {
		release = fmt.Sprintf("release serial %d, expires %s", r.Serial, r.Expires.Format(time.RFC3339))
	}
	if sum.Exact {
		return " (exact copy, " + release + ")"
	}
	filter := "every version"
	if len(o.opts.ProductVersions) > 0 {
		filter = "product versions " + strings.Join(o.products, ", ")
	}
	return fmt.Sprintf(" (re-signed by %s, %s; upstream %s)", o.opts.Signer.Fingerprint(), filter, release)
}

func mirrorCounts(sum *mirror.Summary) string {
	msg := fmt.Sprintf("%d version(s), %d already there, %d staged (%d file(s), %s downloaded", sum.Versions, sum.Present, sum.Staged, sum.Files, size(sum.Bytes))
	if sum.Resumed > 0 {
		msg += fmt.Sprintf(", %d resumed from an interrupted run", sum.Resumed)
	}
	return msg + "); " + counts(sum.Publish)
}

// mirrorReporter prints a line per progressEvery files staged, what the
// publish step prints, and a note for every published file the source
// changed.
type mirrorReporter struct {
	publishReporter
	stage         sync.Mutex
	fetched, todo int
}

func (r *mirrorReporter) Staging(versions, files int, bytes int64) {
	r.stage.Lock()
	r.todo = files
	r.stage.Unlock()
	if !r.quiet && files > 0 {
		fmt.Fprintf(r.w, "market: %d version(s) to stage: %d file(s), %s\n", versions, files, size(bytes))
	}
}

func (r *mirrorReporter) Fetched(rel string, n int64, resumed bool) {
	r.stage.Lock()
	defer r.stage.Unlock()
	r.fetched++
	if !r.quiet && r.fetched%progressEvery == 0 && r.fetched < r.todo {
		fmt.Fprintf(r.w, "market: %d/%d files staged after %.1fs\n", r.fetched, r.todo, time.Since(r.start).Seconds())
	}
}

func (r *mirrorReporter) Done(a publish.Action) {
	r.publishReporter.Done(a)
	if strings.HasPrefix(a.Why, "overwrite") {
		r.Note(fmt.Sprintf("%s: the source changed this published file (%s); caches may keep the old bytes", a.Path, a.Why))
	}
}

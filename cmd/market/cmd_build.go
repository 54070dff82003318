package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/sign"
)

// buildOptions are market build's flags.
type buildOptions struct {
	opts        builder.Options
	config      string
	key         keyFlags
	unsigned    bool
	quiet       bool
	cpuProfile  string
	memProfile  string
	stepTimes   bool
	rel         releaseFlags
	publishKeys []string
}

func newBuildCmd() *cobra.Command {
	o := &buildOptions{}
	c := &cobra.Command{
		Use:   "build (--key FILE | --unsigned)",
		Short: "Validate, then write the signed static tree",
		Long: `Validate every version folder; if there is no error, write the marketplace
tree to --out: per version spec.json, archive.zip and every resource with an
armored detached signature (.asc) verified right after signing; the signed
catalogs packages.json (all versions) and <product version>/packages.json;
categories.json, keys.asc and the spec schema. The tree is built beside --out
and swapped in at the end: a build that fails leaves the previous tree as it was.

The signing key comes from --key (an armored or binary secret key export, e.g.
gpg --armor --export-secret-keys ID) or the MARKET_SIGNING_KEY environment
variable; its passphrase from MARKET_KEY_PASSPHRASE or --passphrase-file, never
from the command line.
`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error { return o.run(c.Context(), streamsOf(c)) },
	}
	o.addFlags(c.Flags())
	return c
}

func (o *buildOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.opts.Packages, "packages", "packages", "the packages directory")
	f.StringVar(&o.opts.Out, "out", "", "the output directory (default: market.yaml's out, else dist beside the packages directory)")
	f.StringVar(&o.config, "config", "", "market.yaml to use (default: beside the packages directory, if any)")
	f.IntVar(&o.opts.Jobs, "jobs", 0, "version folders written at once (default: the number of CPUs; work that only states files runs twice as many)")
	f.BoolVar(&o.unsigned, "unsigned", false, "build without signatures (for local previews only)")
	f.BoolVar(&o.opts.NoCache, "no-cache", false, "rebuild every version folder, ignoring the previous build's cache")
	f.BoolVar(&o.quiet, "quiet", false, "print only problems and the final line")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile (go tool pprof) of the build to this file")
	f.MarkHidden("cpuprofile")
	f.StringVar(&o.memProfile, "memprofile", "", "write an allocation profile (go tool pprof) of the build to this file")
	f.MarkHidden("memprofile")
	f.BoolVar(&o.stepTimes, "step-times", false, "print how long each step of the build took")
	f.MarkHidden("step-times")
	f.StringArrayVar(&o.publishKeys, "publish-key", nil, "a public key file to add to keys.asc beside the signing key (repeatable; for key rotation)")
	o.key.addFlags(f)
	o.rel.addFlags(f)
}

func (o *buildOptions) run(ctx context.Context, s streams) error {
	stop, err := startProfiles(o.cpuProfile, o.memProfile)
	if err != nil {
		return err
	}
	defer stop()
	if err := o.prepare(ctx, s.errOut); err != nil {
		return err
	}
	if o.stepTimes {
		last := time.Now()
		builder.StepHook = func(step string) {
			fmt.Fprintf(s.errOut, "market: step %s %.3fs\n", step, time.Since(last).Seconds())
			last = time.Now()
		}
	}
	res, err := builder.Build(ctx, o.opts)
	if err != nil {
		return err
	}
	if !o.quiet {
		res.Problems.Write(s.errOut, "text")
	}
	signedBy := "unsigned"
	if o.opts.Signer != nil {
		signedBy = "signed by " + o.opts.Signer.SigningFingerprint()
	}
	unchanged := ""
	if res.Unchanged {
		unchanged = ", unchanged: nothing written"
	}
	fmt.Fprintf(s.out, "market: built %d version(s), %d reused from cache, into %s (%s%s) in %.2fs\n",
		res.Versions, res.Reused, res.Out, signedBy, unchanged, res.Duration.Seconds())
	return nil
}

// startProfiles profiles this process's CPU into cpu and its allocations
// into mem, either if set, until stop.
func startProfiles(cpu, mem string) (stop func(), err error) {
	var fc, fm *os.File
	if cpu != "" {
		if fc, err = os.Create(cpu); err != nil {
			return nil, usageError{err}
		}
		pprof.StartCPUProfile(fc)
	}
	if mem != "" {
		if fm, err = os.Create(mem); err != nil {
			return nil, usageError{err}
		}
	}
	return func() {
		if fc != nil {
			pprof.StopCPUProfile()
			fc.Close()
		}
		if fm != nil {
			pprof.Lookup("allocs").WriteTo(fm, 0)
			fm.Close()
		}
	}, nil
}

// prepare completes the builder options from the flags: the config, the
// signing key, the release, the keys to publish, the progress reporter.
func (o *buildOptions) prepare(ctx context.Context, stderr io.Writer) error {
	err := loadConfig(&o.opts, o.config)
	if err != nil {
		return err
	}
	if o.unsigned && o.key.isSet() {
		return usagef("--unsigned and --key (or %s) exclude each other", envSigningKey)
	}
	if !o.unsigned {
		if o.opts.Signer, err = o.key.load(stderr); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(stderr, "market: WARNING: --unsigned: this tree has no signatures and no keys.asc; consumers cannot verify it. Do not publish it.")
	}
	if o.opts.Release, err = o.rel.options(ctx); err != nil {
		return err
	}
	if o.opts.PublishKeys, err = readPublicKeys(o.publishKeys); err != nil {
		return err
	}
	o.opts.Reporter = wrapReporter(newReporter(stderr, o.quiet))
	return nil
}

// wrapReporter lets the crash tests hear each version folder written, to
// kill a build inside its versions step as well as between steps.
var wrapReporter = func(r builder.Reporter) builder.Reporter { return r }

// readPublicKeys reads the --publish-key files.
func readPublicKeys(files []string) (openpgp.EntityList, error) {
	var all openpgp.EntityList
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, usagef("--publish-key: %v", err)
		}
		keys, err := sign.ReadPublicKeys(data)
		if err != nil {
			return nil, fmt.Errorf("--publish-key %s: %w", file, err)
		}
		all = append(all, keys...)
	}
	return all, nil
}

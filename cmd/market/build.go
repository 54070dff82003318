package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/sign"
)

// Environment variables that carry secrets, so they never sit on a command line.
const (
	envSigningKey = "MARKET_SIGNING_KEY"
	envPassphrase = "MARKET_KEY_PASSPHRASE"
)

func newBuild() *cobra.Command {
	var opts builder.Options
	var config string
	var key keyFlags
	var unsigned, quiet bool
	var cpuProfile string
	var rel releaseFlags
	var publishKeys []string
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
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			stderr := cmd.ErrOrStderr()
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return usageError{err}
				}
				defer f.Close()
				pprof.StartCPUProfile(f)
				defer pprof.StopCPUProfile()
			}
			err := loadConfig(&opts, config)
			if err != nil {
				return err
			}
			if unsigned && key.isSet() {
				return usagef("--unsigned and --key (or %s) exclude each other", envSigningKey)
			}
			if !unsigned {
				s, err := key.load(stderr)
				if err != nil {
					return err
				}
				opts.Signer = s
			} else {
				fmt.Fprintln(stderr, "market: WARNING: --unsigned: this tree has no signatures and no keys.asc; consumers cannot verify it. Do not publish it.")
			}
			if opts.Release, err = rel.options(cmd.Context()); err != nil {
				return err
			}
			for _, file := range publishKeys {
				data, err := os.ReadFile(file)
				if err != nil {
					return usagef("--publish-key: %v", err)
				}
				keys, err := sign.ReadPublicKeys(data)
				if err != nil {
					return fmt.Errorf("--publish-key %s: %w", file, err)
				}
				opts.PublishKeys = append(opts.PublishKeys, keys...)
			}
			opts.Reporter = newReporter(stderr, quiet)
			res, err := builder.Build(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if !quiet {
				res.Problems.Write(stderr, "text")
			}
			signedBy := "unsigned"
			if opts.Signer != nil {
				signedBy = "signed by " + opts.Signer.SigningFingerprint()
			}
			unchanged := ""
			if res.Unchanged {
				unchanged = ", unchanged: nothing written"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "market: built %d version(s), %d reused from cache, into %s (%s%s) in %.2fs\n",
				res.Versions, res.Reused, res.Out, signedBy, unchanged, res.Duration.Seconds())
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Packages, "packages", "packages", "the packages directory")
	f.StringVar(&opts.Out, "out", "", "the output directory (default: market.yaml's out, else dist beside the packages directory)")
	f.StringVar(&config, "config", "", "market.yaml to use (default: beside the packages directory, if any)")
	f.IntVar(&opts.Jobs, "jobs", 0, "version folders processed at once (default: the number of CPUs)")
	f.BoolVar(&unsigned, "unsigned", false, "build without signatures (for local previews only)")
	f.BoolVar(&opts.NoCache, "no-cache", false, "rebuild every version folder, ignoring the previous build's cache")
	f.BoolVar(&quiet, "quiet", false, "print only problems and the final line")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (go tool pprof) of the build to this file")
	f.MarkHidden("cpuprofile")
	f.StringArrayVar(&publishKeys, "publish-key", nil, "a public key file to add to keys.asc beside the signing key (repeatable; for key rotation)")
	key.register(c)
	rel.register(c)
	return c
}

// keyFlags are the flags that pick and unlock the signing key.
type keyFlags struct {
	file, id, passphraseFile string
}

func (k *keyFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&k.file, "key", "", "secret key file, armored or binary (or set "+envSigningKey+")")
	c.Flags().StringVar(&k.id, "key-id", "", "fingerprint or long key ID of the key or signing subkey to use")
	c.Flags().StringVar(&k.passphraseFile, "passphrase-file", "", "file holding the key's passphrase (or set "+envPassphrase+")")
}

func (k *keyFlags) isSet() bool { return k.file != "" || os.Getenv(envSigningKey) != "" }

// load reads the key from --key or the environment and unlocks it.
func (k *keyFlags) load(stderr interface{ Write([]byte) (int, error) }) (*sign.Signer, error) {
	var data []byte
	var from string
	switch {
	case k.file != "":
		from = k.file
		info, err := os.Stat(k.file)
		if err != nil {
			return nil, usagef("--key: %v", err)
		}
		if info.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(stderr, "market: warning: %s is readable by group or others (mode %v); a secret key should be 0600\n", k.file, info.Mode().Perm())
		}
		data, err = os.ReadFile(k.file)
		if err != nil {
			return nil, usagef("--key: %v", err)
		}
	case os.Getenv(envSigningKey) != "":
		from = envSigningKey
		data = []byte(os.Getenv(envSigningKey))
	default:
		return nil, usagef("no signing key: give --key FILE or set %s (or build --unsigned for a local preview)", envSigningKey)
	}
	var pass []byte
	switch {
	case k.passphraseFile != "":
		p, err := os.ReadFile(k.passphraseFile)
		if err != nil {
			return nil, usagef("--passphrase-file: %v", err)
		}
		pass = []byte(strings.TrimSuffix(strings.TrimSuffix(string(p), "\n"), "\r"))
	case os.Getenv(envPassphrase) != "":
		pass = []byte(os.Getenv(envPassphrase))
	}
	s, err := sign.Load(data, sign.Options{KeyID: k.id, Passphrase: pass})
	// The secret bytes are not needed again: wipe this process's copies
	// (the Signer keeps only the parsed key) and keep them from any child.
	clear(data)
	clear(pass)
	os.Unsetenv(envSigningKey)
	os.Unsetenv(envPassphrase)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	return s, nil
}

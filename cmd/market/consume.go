package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/schema/problem"
)

// consumerFlags are what verify and fetch share: whom to trust, and what
// to remember between runs.
type consumerFlags struct {
	keyring        string
	state          string
	api            string
	requireRelease bool
}

func (f *consumerFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.keyring, "keyring", "", "the publisher's public keys (armored, or binary as from gpg --export)")
	c.Flags().StringVar(&f.state, "state", "", "file remembering the highest release serial seen, to refuse a rollback")
	c.Flags().StringVar(&f.api, "api", "", "the API folder (default: from the location, the tree, else v1)")
	c.Flags().BoolVar(&f.requireRelease, "require-release", false, "refuse a tree without a signed, unexpired release.json")
}

// options reads the keyring into client options; without one, keys may
// still come from the tree when trustTree is set.
func (f *consumerFlags) options(trustTree bool) (client.Options, error) {
	opts := client.Options{StateFile: f.state, API: f.api, RequireRelease: f.requireRelease, UserAgent: "market"}
	if f.keyring == "" {
		if trustTree {
			return opts, nil
		}
		return opts, usagef("--keyring FILE is required: the publisher's public keys, obtained out of band")
	}
	data, err := os.ReadFile(f.keyring)
	if err != nil {
		return opts, usagef("--keyring: %v", err)
	}
	keys, err := sign.ReadKeyRing(data)
	if err != nil || len(keys) == 0 {
		return opts, usagef("--keyring %s: not an OpenPGP keyring: %v", f.keyring, err)
	}
	opts.Keyring = keys
	return opts, nil
}

func newVerify() *cobra.Command {
	var cf consumerFlags
	var trustTree bool
	var format string
	c := &cobra.Command{
		Use:   "verify DIR|URL --keyring FILE",
		Short: "Check a built or published tree end to end",
		Long: `Check a whole tree, on disk or over HTTP(S): every signature against
--keyring (not against the tree's own keys.asc, unless --trust-tree-keys);
every file's SHA-256 and size against the signed catalog; that every catalog
entry has its files and, on disk, that every file belongs to an entry; that
each spec.json matches its catalog entry; that each archive opens, has only
safe names, matches its CRCs and the loose resources; that product catalogs
agree with packages.json; release.json's signature, expiry and serial (with
--state) when present. Every read is size-limited. Problems print one per line.
`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := problem.Format(format)
			if f != problem.Text && f != problem.JSON && f != problem.GitHub {
				return usagef("--format %q: want text, json or github", format)
			}
			opts, err := cf.options(trustTree)
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			if trustTree {
				fmt.Fprintln(stderr, "market: WARNING: --trust-tree-keys: the tree's own keys.asc is trusted; this proves the tree is consistent, NOT that its publisher made it")
			}
			rep, err := client.VerifyTree(cmd.Context(), args[0], client.VerifyOptions{Options: opts, TrustTreeKeys: trustTree})
			if err != nil {
				return usageError{err}
			}
			if err := rep.Problems.Write(cmd.OutOrStdout(), f); err != nil {
				return err
			}
			release := "no release.json"
			if r := rep.Release; r != nil {
				release = fmt.Sprintf("release serial %d, expires %s", r.Serial, r.Expires.Format(time.RFC3339))
			}
			errs := rep.Problems.Errors()
			fmt.Fprintf(stderr, "market: %s: %d version(s), %d file(s), %d signature(s) checked (%s): %d problem(s)\n",
				args[0], rep.Versions, rep.Files, rep.Signatures, release, errs)
			if errs > 0 {
				return reported{exitProblems}
			}
			return nil
		},
	}
	cf.register(c)
	c.Flags().BoolVar(&trustTree, "trust-tree-keys", false, "also trust the tree's own keys.asc (proves consistency, not authenticity)")
	c.Flags().StringVar(&format, "format", "text", "output format: text, json or github (workflow annotations)")
	return c
}

func newFetch() *cobra.Command {
	var cf consumerFlags
	var from, dest, product string
	var deprecated bool
	c := &cobra.Command{
		Use:   "fetch NAME[@VERSION|@RANGE] --from DIR|URL --keyring FILE",
		Short: "Resolve, download, verify and extract one package version",
		Long: `Open the marketplace at --from, verify its catalog against --keyring,
resolve the request (NAME: the newest version; NAME@1.2.0: exactly that one;
NAME@[1.0.0,2.0.0): the newest in the range), keeping only versions compatible
with --product-version and skipping deprecated ones unless asked or pinned
exactly; then download its files, check every digest and signature, and
extract the archive safely into DEST/NAME/VERSION.
`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" {
				return usagef("--from DIR|URL is required")
			}
			q, err := client.ParseQuery(args[0])
			if err != nil {
				return usageError{err}
			}
			ro := client.ResolveOptions{IncludeDeprecated: deprecated}
			if product != "" {
				pv, err := schema.ParseVersion(product)
				if err != nil {
					return usagef("--product-version: %v", err)
				}
				ro.ProductVersion = &pv
			}
			opts, err := cf.options(false)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			m, err := client.Open(cmd.Context(), from, opts)
			if err != nil {
				return err
			}
			release := "no release.json"
			if r := m.Release(); r != nil {
				release = fmt.Sprintf("release serial %d, expires %s", r.Serial, r.Expires.Format(time.RFC3339))
			}
			fmt.Fprintf(out, "market: %s: catalog signature good, %d version(s) (%s)\n", from, len(m.Packages()), release)
			e, err := m.Resolve(q, ro)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "market: %s resolves to %s@%s%s\n", q, e.Name, e.Version, deprecatedNote(e))
			dir := filepath.Join(dest, e.Name, e.Version)
			inst, err := m.Install(cmd.Context(), e, dir)
			if err != nil {
				return err
			}
			names := make([]string, 0, len(e.Files))
			for name := range e.Files {
				names = append(names, name)
			}
			slices.Sort(names)
			for _, name := range names {
				f := e.Files[name]
				sig := "hash only (unsigned display file)"
				if catalog.IsSigned(name) {
					sig = "signature good"
				}
				fmt.Fprintf(out, "  %-40s %10d bytes  sha256 %s…  %s\n", name, f.Size, f.SHA256[:16], sig)
			}
			fmt.Fprintf(out, "market: installed %s@%s into %s: %s\n", e.Name, e.Version, inst.Dir, strings.Join(inst.Files, ", "))
			return nil
		},
	}
	cf.register(c)
	c.Flags().StringVar(&from, "from", "", "the marketplace: a built tree's directory or its base URL")
	c.Flags().StringVar(&dest, "dest", ".", "where to install: DEST/NAME/VERSION is created")
	c.Flags().StringVar(&product, "product-version", "", "keep only versions compatible with this product version")
	c.Flags().BoolVar(&deprecated, "include-deprecated", false, "let a name or range resolve to a deprecated version")
	return c
}

func deprecatedNote(e *catalog.Entry) string {
	if e.Deprecated == "" {
		return ""
	}
	return " (DEPRECATED: " + e.Deprecated + ")"
}

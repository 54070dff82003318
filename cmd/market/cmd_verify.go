package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/market-dev/market/builder/client"
)

// verifyOptions are market verify's flags.
type verifyOptions struct {
	consumer  consumerFlags
	trustTree bool
	format    string
}

func newVerifyCmd() *cobra.Command {
	o := &verifyOptions{}
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
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, args []string) error { return o.run(c.Context(), streamsOf(c), args[0]) },
	}
	o.addFlags(c.Flags())
	return c
}

func (o *verifyOptions) addFlags(f *pflag.FlagSet) {
	o.consumer.addFlags(f)
	f.BoolVar(&o.trustTree, "trust-tree-keys", false, "also trust the tree's own keys.asc (proves consistency, not authenticity)")
	f.StringVar(&o.format, "format", "text", "output format: text, json or github (workflow annotations)")
}

func (o *verifyOptions) run(ctx context.Context, s streams, tree string) error {
	f, err := parseFormat(o.format)
	if err != nil {
		return err
	}
	opts, err := o.consumer.options(o.trustTree)
	if err != nil {
		return err
	}
	if o.trustTree {
		fmt.Fprintln(s.errOut, "market: WARNING: --trust-tree-keys: the tree's own keys.asc is trusted; this proves the tree is consistent, NOT that its publisher made it")
	}
	rep, err := client.VerifyTree(ctx, tree, client.VerifyOptions{Options: opts, TrustTreeKeys: o.trustTree})
	if err != nil {
		return usageError{err}
	}
	if err := rep.Problems.Write(s.out, f); err != nil {
		return err
	}
	release := "no release.json"
	if r := rep.Release; r != nil {
		release = fmt.Sprintf("release serial %d, expires %s", r.Serial, r.Expires.Format(time.RFC3339))
	}
	errs := rep.Problems.Errors()
	fmt.Fprintf(s.errOut, "market: %s: %d version(s), %d file(s), %d signature(s) checked (%s): %d problem(s)\n",
		tree, rep.Versions, rep.Files, rep.Signatures, release, errs)
	if errs > 0 {
		return reported{exitProblems}
	}
	return nil
}

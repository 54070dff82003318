package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
)

// fetchOptions are market fetch's flags.
type fetchOptions struct {
	consumer            consumerFlags
	from, dest, product string
	deprecated          bool
}

func newFetchCmd() *cobra.Command {
	o := &fetchOptions{}
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
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, args []string) error { return o.run(c.Context(), streamsOf(c), args[0]) },
	}
	o.addFlags(c.Flags())
	return c
}

func (o *fetchOptions) addFlags(f *pflag.FlagSet) {
	o.consumer.addFlags(f)
	f.StringVar(&o.from, "from", "", "the marketplace: a built tree's directory or its base URL")
	f.StringVar(&o.dest, "dest", ".", "where to install: DEST/NAME/VERSION is created")
	f.StringVar(&o.product, "product-version", "", "keep only versions compatible with this product version")
	f.BoolVar(&o.deprecated, "include-deprecated", false, "let a name or range resolve to a deprecated version")
}

func (o *fetchOptions) run(ctx context.Context, s streams, request string) error {
	q, ro, err := o.query(request)
	if err != nil {
		return err
	}
	opts, err := o.consumer.options(false)
	if err != nil {
		return err
	}
	m, err := client.Open(ctx, o.from, opts)
	if err != nil {
		return err
	}
	release := "no release.json"
	if r := m.Release(); r != nil {
		release = fmt.Sprintf("release serial %d, expires %s", r.Serial, r.Expires.Format(time.RFC3339))
	}
	fmt.Fprintf(s.out, "market: %s: catalog signature good, %d version(s) (%s)\n", o.from, len(m.Packages()), release)
	e, err := m.Resolve(q, ro)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "market: %s resolves to %s@%s%s\n", q, e.Name, e.Version, deprecatedNote(e))
	inst, err := m.Install(ctx, e, filepath.Join(o.dest, e.Name, e.Version))
	if err != nil {
		return err
	}
	printFiles(s.out, e)
	fmt.Fprintf(s.out, "market: installed %s@%s into %s: %s\n", e.Name, e.Version, inst.Dir, strings.Join(inst.Files, ", "))
	return nil
}

// query reads the request and the flags that narrow what it resolves to.
func (o *fetchOptions) query(request string) (client.Query, client.ResolveOptions, error) {
	ro := client.ResolveOptions{IncludeDeprecated: o.deprecated}
	if o.from == "" {
		return client.Query{}, ro, usagef("--from DIR|URL is required")
	}
	q, err := client.ParseQuery(request)
	if err != nil {
		return q, ro, usageError{err}
	}
	if o.product != "" {
		pv, err := schema.ParseVersion(o.product)
		if err != nil {
			return q, ro, usagef("--product-version: %v", err)
		}
		ro.ProductVersion = &pv
	}
	return q, ro, nil
}

// printFiles lists an installed entry's files with what vouched for each.
func printFiles(w io.Writer, e *catalog.Entry) {
	for _, name := range slices.Sorted(maps.Keys(e.Files)) {
		f := e.Files[name]
		fmt.Fprintf(w, "  %-40s %10d bytes  sha256 %s…  signature good\n", name, f.Size, f.SHA256[:16])
	}
}

func deprecatedNote(e *catalog.Entry) string {
	if e.Deprecated == "" {
		return ""
	}
	return " (DEPRECATED: " + e.Deprecated + ")"
}

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/market-dev/market/builder"
)

// resignOptions are market resign's flags.
type resignOptions struct {
	opts builder.ResignOptions
	key  keyFlags
	rel  releaseFlags
}

func newResignCmd() *cobra.Command {
	o := &resignOptions{}
	c := &cobra.Command{
		Use:   "resign --out DIR --key FILE --expires D",
		Short: "Refresh a built tree's release.json (expiry and serial) without rebuilding",
		Long: `Write a new release.json into a built tree: generated now (or at
SOURCE_DATE_EPOCH), valid for --expires, with a serial above the previous
one, over the catalogs as they are; sign it. Nothing else changes. Run it on a
schedule so consumers, who refuse an expired release.json, keep accepting a
marketplace that has no new packages. The tree is swapped in whole, as build does.
`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error { return o.run(c.Context(), streamsOf(c)) },
	}
	o.addFlags(c.Flags())
	return c
}

func (o *resignOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.opts.Out, "out", "dist", "the built tree")
	o.key.addFlags(f)
	o.rel.addFlags(f)
}

func (o *resignOptions) run(ctx context.Context, s streams) error {
	if o.rel.expires == "" {
		return usagef("resign needs --expires")
	}
	ro, err := o.rel.options(ctx)
	if err != nil {
		return err
	}
	if o.opts.Signer, err = o.key.load(s.errOut); err != nil {
		return err
	}
	o.opts.Release = *ro
	r, err := builder.Resign(o.opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "market: %s: release serial %d, generated %s, expires %s (signed by %s)\n",
		o.opts.Out, r.Serial, r.Generated.Format(time.RFC3339), r.Expires.Format(time.RFC3339), o.opts.Signer.SigningFingerprint())
	return nil
}

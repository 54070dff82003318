package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/problem"
)

func newValidate() *cobra.Command {
	var opts builder.Options
	var format, config string
	c := &cobra.Command{
		Use:   "validate",
		Short: "Check every package version folder; no key needed",
		Long: `Check every version folder under --packages against the spec rules: the
spec schema, version and range grammar, referenced files, icons, the folder
layout. Every problem is reported, one per line, as PATH[#/json/pointer]: message,
sorted. Warnings are printed but do not fail.
`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := problem.Format(format)
			if f != problem.Text && f != problem.JSON && f != problem.GitHub {
				return usagef("--format %q: want text, json or github", format)
			}
			if err := loadConfig(&opts, config); err != nil {
				return err
			}
			opts.Reporter = newReporter(cmd.ErrOrStderr(), false)
			tree, err := builder.Validate(opts)
			if err != nil {
				return err
			}
			if err := tree.Problems.Write(cmd.OutOrStdout(), f); err != nil {
				return err
			}
			errs := tree.Problems.Errors()
			fmt.Fprintf(cmd.ErrOrStderr(), "market: %d version(s) valid, %d error(s), %d warning(s)\n",
				len(tree.Versions), errs, len(tree.Problems)-errs)
			if errs > 0 {
				return reported{exitProblems}
			}
			return nil
		},
	}
	c.Flags().StringVar(&opts.Packages, "packages", "packages", "the packages directory")
	c.Flags().StringVar(&config, "config", "", "market.yaml to use (default: beside the packages directory, if any)")
	c.Flags().StringVar(&format, "format", "text", "output format: text, json or github (workflow annotations)")
	return c
}

// loadConfig reads --config, or market.yaml beside the packages directory.
func loadConfig(opts *builder.Options, path string) error {
	if path == "" {
		return nil // builder finds it
	}
	cfg, err := builder.LoadConfig(path)
	if err != nil {
		return err
	}
	if cfg.Path == "" {
		return usagef("--config %s: no such file", path)
	}
	opts.Config = cfg
	return nil
}

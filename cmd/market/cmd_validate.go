package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/schema/problem"
)

// validateOptions are market validate's flags.
type validateOptions struct {
	opts                           builder.Options
	format, config, folder, report string
	changed                        func(flag string) bool
}

func newValidateCmd() *cobra.Command {
	o := &validateOptions{}
	c := &cobra.Command{
		Use:   "validate [--package packages/NAME/VERSION] [--report junit FILE]",
		Short: "Check every package version folder, or one; no key needed",
		Long: `Check every version folder under --packages against the spec rules: the
spec schema, version and range grammar, referenced files, icons (and the
icons: rules of market.yaml), the folder layout. Every problem is reported, one
per line, as PATH[#/json/pointer]: message, sorted. Warnings are printed but do
not fail.

--package checks one version folder with everything a build checks, and says
what it found: the self-check to run before opening a pull request.
--report junit FILE also writes the result as JUnit XML, which CI systems display.
`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(c *cobra.Command, args []string) error { return o.run(c.Context(), streamsOf(c), args) },
	}
	o.addFlags(c.Flags())
	return c
}

func (o *validateOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.opts.Packages, "packages", "packages", "the packages directory")
	f.StringVar(&o.config, "config", "", "market.yaml to use (default: beside the packages directory, if any)")
	f.StringVar(&o.format, "format", "text", "output format: text, json or github (workflow annotations)")
	f.StringVar(&o.folder, "package", "", "check only this version folder (packages/NAME/VERSION), with a readable report")
	f.StringVar(&o.report, "report", "", "also write the result: --report junit FILE (JUnit XML)")
	o.changed = f.Changed
}

func (o *validateOptions) run(_ context.Context, s streams, args []string) error {
	f, err := parseFormat(o.format)
	if err != nil {
		return err
	}
	junit, err := o.junitFile(args)
	if err != nil {
		return err
	}
	tree, err := o.validate(s.errOut)
	if err != nil {
		return err
	}
	if o.folder != "" && f == problem.Text {
		describeVersion(s.out, filepath.Clean(o.folder), tree)
	}
	if err := tree.Problems.Write(s.out, f); err != nil {
		return err
	}
	if junit != "" {
		if err := writeJUnit(junit, tree, o.folders(tree)); err != nil {
			return usagef("--report: %v", err)
		}
	}
	o.summarize(s.errOut, tree)
	if tree.Problems.Errors() > 0 {
		return reported{exitProblems}
	}
	return nil
}

// junitFile reads --report junit FILE, or --report junit:FILE.
func (o *validateOptions) junitFile(args []string) (string, error) {
	switch kind, file, _ := strings.Cut(o.report, ":"); {
	case o.report == "" && len(args) == 0:
		return "", nil
	case kind == "junit" && file != "" && len(args) == 0:
		return file, nil
	case o.report == "junit" && len(args) == 1:
		return args[0], nil
	}
	return "", usagef("want --report junit FILE (validate takes no other argument)")
}

// validate checks the one version folder asked for, or every one.
func (o *validateOptions) validate(stderr io.Writer) (*builder.Tree, error) {
	if err := loadConfig(&o.opts, o.config); err != nil {
		return nil, err
	}
	o.opts.Reporter = newReporter(stderr, false)
	if o.folder == "" {
		return builder.Validate(o.opts)
	}
	if !o.changed("packages") {
		o.opts.Packages = ""
	}
	return builder.ValidateVersion(o.opts, o.folder)
}

// folders lists the version folders the validation looked at.
func (o *validateOptions) folders(t *builder.Tree) []string {
	if o.folder != "" {
		return []string{filepath.Clean(o.folder)}
	}
	return t.Folders()
}

// summarize prints the verdict: of the one folder, or the count of all.
func (o *validateOptions) summarize(stderr io.Writer, t *builder.Tree) {
	errs := t.Problems.Errors()
	if o.folder == "" {
		fmt.Fprintf(stderr, "market: %d version(s) valid, %d error(s), %d warning(s)\n",
			len(t.Versions), errs, len(t.Problems)-errs)
		return
	}
	verdict := "ready to submit"
	if errs > 0 {
		verdict = "NOT ready: fix the errors above"
	}
	fmt.Fprintf(stderr, "market: %s: %s (%d error(s), %d warning(s))\n", filepath.Clean(o.folder), verdict, errs, len(t.Problems)-errs)
}

// describeVersion says what a self-check found in one version folder.
func describeVersion(w io.Writer, folder string, t *builder.Tree) {
	fmt.Fprintf(w, "Checked %s\n", folder)
	if len(t.Versions) == 0 {
		return
	}
	for _, f := range t.Versions[0].Facts() {
		fmt.Fprintf(w, "  %-9s %s\n", f.Label, f.Value)
	}
}

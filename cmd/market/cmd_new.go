package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/schema"
)

// newOptions are market new's flags; the spec's fields are bound directly.
type newOptions struct {
	packages, config string
	spec             builder.Scaffold
}

func newNewCmd() *cobra.Command {
	o := &newOptions{}
	c := &cobra.Command{
		Use:   "new NAME VERSION",
		Short: "Start a package version folder with a spec.json that passes validate",
		Long: `Create packages/NAME/VERSION/spec.json: an informational package that
passes market validate, to fill in. Label, description, author, org and
categories come from the flags; on a terminal, market asks for what is
missing. Then add the files and actions the package needs, and check it with
market validate --package packages/NAME/VERSION.
`,
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(c *cobra.Command, args []string) error { return o.run(c.Context(), streamsOf(c), args[0], args[1]) },
	}
	o.addFlags(c.Flags())
	return c
}

func (o *newOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.packages, "packages", "packages", "the packages directory")
	f.StringVar(&o.config, "config", "", "market.yaml to use (default: beside the packages directory, if any)")
	f.StringVar(&o.spec.Label, "label", "", "the package's display name (default: from NAME)")
	f.StringVar(&o.spec.Description, "description", "", "one paragraph on what it does")
	f.StringVar(&o.spec.Author, "author", "", "who made it")
	f.StringVar(&o.spec.Org, "org", "", "the organisation behind it")
	f.StringArrayVar(&o.spec.Categories, "category", nil, "a category (repeatable)")
	f.StringVar(&o.spec.CDAPVersion, "cdap-version", "", "the product versions it works with, e.g. [6.5.0,7.0.0)")
}

func (o *newOptions) run(_ context.Context, s streams, name, version string) error {
	cfg, dir, err := o.target(name, version)
	if err != nil {
		return err
	}
	if isTerminal(s.in) {
		o.ask(s, name, cfg)
	}
	if err := o.checkGiven(cfg); err != nil {
		return err
	}
	o.spec.Complete(name, cfg, time.Now())
	file, err := o.spec.Write(dir)
	if err != nil {
		return usageError{err}
	}
	fmt.Fprintf(s.out, "market: wrote %s\n", file)
	t, err := builder.ValidateVersion(builder.Options{Packages: o.packages, Config: cfg}, dir)
	if err != nil {
		return err
	}
	t.Problems.Write(s.out, "text")
	if t.Problems.Errors() > 0 {
		return reported{exitProblems}
	}
	fmt.Fprintf(s.out, "market: it passes validate. Next: add the package's files and the actions that install them\n(the rules: %s), then check again:\n  market validate --package %s\n", specHelp(cfg), dir)
	return nil
}

// target checks the name and version and reads the config; it returns the
// version folder to create, which must not exist yet.
func (o *newOptions) target(name, version string) (*builder.Config, string, error) {
	if err := schema.CheckPackageName(name); err != nil {
		return nil, "", usagef("%v", err)
	}
	if _, err := schema.ParseVersion(version); err != nil {
		return nil, "", usagef("version: %v", err)
	}
	cfg, err := builder.LoadConfig(cmp.Or(o.config, filepath.Join(filepath.Dir(filepath.Clean(o.packages)), builder.ConfigFile)))
	if err != nil {
		return nil, "", err
	}
	dir := filepath.Join(o.packages, name, version)
	if _, err := os.Lstat(dir); err == nil {
		return nil, "", usagef("%s already exists", dir)
	}
	return cfg, dir, nil
}

// ask asks on the terminal for each field no flag gave.
func (o *newOptions) ask(s streams, name string, cfg *builder.Config) {
	in := bufio.NewReader(s.in)
	ask := func(field *string, question, def string) {
		if *field != "" {
			return
		}
		fmt.Fprintf(s.out, "%s [%s]: ", question, def)
		line, _ := in.ReadString('\n')
		*field = cmp.Or(strings.TrimSpace(line), def)
	}
	ask(&o.spec.Label, "Label", builder.DefaultLabel(name))
	ask(&o.spec.Description, "Description", builder.DefaultDescription(name))
	ask(&o.spec.Author, "Author", "")
	ask(&o.spec.Org, "Organisation", o.spec.Author)
	if len(o.spec.Categories) == 0 {
		var cat string
		ask(&cat, "Category"+allowed(cfg), firstOr(cfg.Categories, ""))
		o.spec.Categories = strings.Fields(strings.ReplaceAll(cat, ",", " "))
	}
}

// checkGiven refuses to go on without the fields market cannot guess.
func (o *newOptions) checkGiven(cfg *builder.Config) error {
	var missing []string
	if o.spec.Author == "" {
		missing = append(missing, "--author")
	}
	if o.spec.Org == "" {
		missing = append(missing, "--org")
	}
	if len(o.spec.Categories) == 0 {
		missing = append(missing, "--category"+allowed(cfg))
	}
	if len(missing) > 0 {
		return usagef("give %s (or run market new on a terminal to be asked)", strings.Join(missing, ", "))
	}
	return nil
}

func allowed(cfg *builder.Config) string {
	if len(cfg.Categories) == 0 {
		return ""
	}
	return " (one of " + strings.Join(cfg.Categories, ", ") + ")"
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}

func specHelp(cfg *builder.Config) string {
	if cfg.BaseURL != "" {
		return "the JSON Schema its $schema names, which editors use for completion"
	}
	return "the JSON Schema a build publishes at " + cfg.API + "/schema/" + schema.SpecSchemaName
}

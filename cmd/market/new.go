package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
)

// newSpec is the spec.json market new writes, in the order a person reads it.
type newSpec struct {
	Schema      string          `json:"$schema,omitempty"`
	SpecVersion string          `json:"specVersion"`
	Label       string          `json:"label"`
	Description string          `json:"description"`
	Author      string          `json:"author"`
	Org         string          `json:"org"`
	Created     int64           `json:"created"`
	Categories  []string        `json:"categories"`
	CDAPVersion string          `json:"cdapVersion,omitempty"`
	Actions     []schema.Action `json:"actions"`
}

func newNew() *cobra.Command {
	var packages, config, cdapVersion string
	var spec newSpec
	c := &cobra.Command{
		Use:   "new NAME VERSION",
		Short: "Start a package version folder with a spec.json that passes validate",
		Long: `Create packages/NAME/VERSION/spec.json: an informational package that
passes market validate, to fill in. Label, description, author, org and
categories come from the flags; on a terminal, market asks for what is
missing. Then add the files and actions the package needs, and check it with
market validate --package packages/NAME/VERSION.
`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, version := args[0], args[1]
			if err := schema.CheckPackageName(name); err != nil {
				return usagef("%v", err)
			}
			if _, err := schema.ParseVersion(version); err != nil {
				return usagef("version: %v", err)
			}
			cfg, err := builder.LoadConfig(cmp.Or(config, filepath.Join(filepath.Dir(filepath.Clean(packages)), builder.ConfigFile)))
			if err != nil {
				return err
			}
			dir := filepath.Join(packages, name, version)
			if _, err := os.Lstat(dir); err == nil {
				return usagef("%s already exists", dir)
			}
			if isTerminal(cmd.InOrStdin()) {
				in := bufio.NewReader(cmd.InOrStdin())
				ask := func(field *string, question, def string) {
					if *field != "" {
						return
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s [%s]: ", question, def)
					line, _ := in.ReadString('\n')
					*field = cmp.Or(strings.TrimSpace(line), def)
				}
				ask(&spec.Label, "Label", titleOf(name))
				ask(&spec.Description, "Description", "What "+titleOf(name)+" does.")
				ask(&spec.Author, "Author", "")
				ask(&spec.Org, "Organisation", spec.Author)
				if len(spec.Categories) == 0 {
					var cat string
					ask(&cat, "Category"+allowed(cfg), firstOr(cfg.Categories, ""))
					spec.Categories = strings.Fields(strings.ReplaceAll(cat, ",", " "))
				}
			}
			spec.Label = cmp.Or(spec.Label, titleOf(name))
			spec.Description = cmp.Or(spec.Description, "What "+titleOf(name)+" does.")
			var missing []string
			if spec.Author == "" {
				missing = append(missing, "--author")
			}
			if spec.Org == "" {
				missing = append(missing, "--org")
			}
			if len(spec.Categories) == 0 {
				missing = append(missing, "--category"+allowed(cfg))
			}
			if len(missing) > 0 {
				return usagef("give %s (or run market new on a terminal to be asked)", strings.Join(missing, ", "))
			}
			spec.SpecVersion, spec.Created, spec.CDAPVersion = "1.0", time.Now().Unix(), cdapVersion
			if cfg.BaseURL != "" {
				spec.Schema = strings.TrimSuffix(cfg.BaseURL, "/") + "/" + cfg.API + "/schema/" + schema.SpecSchemaName
			}
			steps, _ := json.Marshal([]string{"Describe, step by step, how to use " + spec.Label + "."}) // a []string always encodes
			spec.Actions = []schema.Action{{Type: "informational", Label: "Getting started", Arguments: []schema.Argument{
				{Name: "steps", Value: steps},
			}}}
			data, err := catalog.Encode(spec)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return usageError{err}
			}
			if err := os.WriteFile(filepath.Join(dir, builder.SpecFile), data, 0o644); err != nil {
				return usageError{err}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "market: wrote %s\n", filepath.Join(dir, builder.SpecFile))
			t, err := builder.ValidateVersion(builder.Options{Packages: packages, Config: cfg}, dir)
			if err != nil {
				return err
			}
			t.Problems.Write(out, "text")
			if t.Problems.Errors() > 0 {
				return reported{exitProblems}
			}
			fmt.Fprintf(out, "market: it passes validate. Next: add the package's files and the actions that install them\n(the rules: %s), then check again:\n  market validate --package %s\n", specHelp(cfg), dir)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&packages, "packages", "packages", "the packages directory")
	f.StringVar(&config, "config", "", "market.yaml to use (default: beside the packages directory, if any)")
	f.StringVar(&spec.Label, "label", "", "the package's display name (default: from NAME)")
	f.StringVar(&spec.Description, "description", "", "one paragraph on what it does")
	f.StringVar(&spec.Author, "author", "", "who made it")
	f.StringVar(&spec.Org, "org", "", "the organisation behind it")
	f.StringArrayVar(&spec.Categories, "category", nil, "a category (repeatable)")
	f.StringVar(&cdapVersion, "cdap-version", "", "the product versions it works with, e.g. [6.5.0,7.0.0)")
	return c
}

func titleOf(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
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

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && terminal(f)
}

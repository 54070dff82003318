package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/schema/problem"
)

func newValidate() *cobra.Command {
	var opts builder.Options
	var format, config, folder, report string
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
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := problem.Format(format)
			if f != problem.Text && f != problem.JSON && f != problem.GitHub {
				return usagef("--format %q: want text, json or github", format)
			}
			// --report junit FILE, or --report junit:FILE
			var junit string
			switch kind, file, _ := strings.Cut(report, ":"); {
			case report == "" && len(args) == 0:
			case kind == "junit" && file != "" && len(args) == 0:
				junit = file
			case report == "junit" && len(args) == 1:
				junit = args[0]
			default:
				return usagef("want --report junit FILE (validate takes no other argument)")
			}
			if err := loadConfig(&opts, config); err != nil {
				return err
			}
			opts.Reporter = newReporter(cmd.ErrOrStderr(), false)
			var tree *builder.Tree
			var err error
			if folder != "" {
				if !cmd.Flags().Changed("packages") {
					opts.Packages = ""
				}
				tree, err = builder.ValidateVersion(opts, folder)
			} else {
				tree, err = builder.Validate(opts)
			}
			if err != nil {
				return err
			}
			if folder != "" && f == problem.Text {
				describeVersion(cmd.OutOrStdout(), filepath.Clean(folder), tree)
			}
			if err := tree.Problems.Write(cmd.OutOrStdout(), f); err != nil {
				return err
			}
			if junit != "" {
				folders := versionFolders(tree, folder)
				if err := writeJUnit(junit, tree, folders); err != nil {
					return usagef("--report: %v", err)
				}
			}
			errs := tree.Problems.Errors()
			if folder != "" {
				verdict := "ready to submit"
				if errs > 0 {
					verdict = "NOT ready: fix the errors above"
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "market: %s: %s (%d error(s), %d warning(s))\n", filepath.Clean(folder), verdict, errs, len(tree.Problems)-errs)
			} else {
				fmt.Fprintf(cmd.ErrOrStderr(), "market: %d version(s) valid, %d error(s), %d warning(s)\n",
					len(tree.Versions), errs, len(tree.Problems)-errs)
			}
			if errs > 0 {
				return reported{exitProblems}
			}
			return nil
		},
	}
	c.Flags().StringVar(&opts.Packages, "packages", "packages", "the packages directory")
	c.Flags().StringVar(&config, "config", "", "market.yaml to use (default: beside the packages directory, if any)")
	c.Flags().StringVar(&format, "format", "text", "output format: text, json or github (workflow annotations)")
	c.Flags().StringVar(&folder, "package", "", "check only this version folder (packages/NAME/VERSION), with a readable report")
	c.Flags().StringVar(&report, "report", "", "also write the result: --report junit FILE (JUnit XML)")
	return c
}

// versionFolders lists the version folders a validation looked at: the one
// asked for, or every folder of the tree (valid or not).
func versionFolders(t *builder.Tree, folder string) []string {
	if folder != "" {
		return []string{filepath.Clean(folder)}
	}
	seen := map[string]bool{}
	for _, v := range t.Versions {
		seen[v.Dir] = true
	}
	for _, p := range t.Problems {
		rel, err := filepath.Rel(t.Dir, p.File)
		if err != nil {
			continue
		}
		if parts := strings.Split(rel, string(filepath.Separator)); len(parts) >= 2 && parts[0] != ".." {
			seen[filepath.Join(t.Dir, parts[0], parts[1])] = true
		}
	}
	var out []string
	for f := range seen {
		out = append(out, f)
	}
	return out
}

// describeVersion says what a self-check found in one version folder.
func describeVersion(w io.Writer, folder string, t *builder.Tree) {
	fmt.Fprintf(w, "Checked %s\n", folder)
	if len(t.Versions) == 0 {
		return
	}
	v := t.Versions[0]
	s := v.Spec
	fmt.Fprintf(w, "  package   %s %s: %q by %s (%s)\n", v.Name, v.Version, s.Label, s.Author, s.Org)
	var actions []string
	for _, a := range s.Actions {
		actions = append(actions, a.Type)
	}
	fmt.Fprintf(w, "  actions   %s\n", strings.Join(actions, ", "))
	if s.Range != nil {
		fmt.Fprintf(w, "  product   %s (%s)\n", s.CDAPVersion, s.Range.Describe())
	} else {
		fmt.Fprintf(w, "  product   any version (no cdapVersion)\n")
	}
	if len(v.Resources) > 0 {
		fmt.Fprintf(w, "  files     %s\n", strings.Join(v.Resources, ", "))
	}
	if v.Icon != "" {
		fmt.Fprintf(w, "  icon      %s\n", v.Icon)
	}
	if v.License {
		fmt.Fprintf(w, "  license   license.txt\n")
	}
	if s.Deprecated != "" {
		fmt.Fprintf(w, "  DEPRECATED: %s\n", s.Deprecated)
	}
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

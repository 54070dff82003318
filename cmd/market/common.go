package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/schema/problem"
)

// streams are where a command reads and writes: cobra's, which tests set.
type streams struct {
	in          io.Reader
	out, errOut io.Writer
}

func streamsOf(c *cobra.Command) streams {
	return streams{in: c.InOrStdin(), out: c.OutOrStdout(), errOut: c.ErrOrStderr()}
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

// parseFormat reads --format: text, json or github.
func parseFormat(format string) (problem.Format, error) {
	f := problem.Format(format)
	if f != problem.Text && f != problem.JSON && f != problem.GitHub {
		return "", usagef("--format %q: want text, json or github", format)
	}
	return f, nil
}

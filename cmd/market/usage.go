package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// usageError marks an error as a usage or configuration error (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// reported marks an error whose details were already printed.
type reported struct{ code int }

func (r reported) Error() string { return fmt.Sprintf("exit %d", r.code) }

// usageArgs types what a cobra argument validator refuses (a missing or
// extra argument) as a usage error: cobra returns those errors untyped.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := v(c, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// flagError is every command's FlagErrorFunc (cobra asks the root for
// it): a flag that does not parse (unknown, missing its value, not of its
// type) is a usage error.
func flagError(_ *cobra.Command, err error) error { return usageError{err} }

// group makes c, a command below the root that only holds others (market
// key), print its help when run alone and refuse an unknown subcommand as a
// usage error. Cobra checks for an unknown command only at the root (see
// run), and never checks the Args of a command that cannot run.
func group(c *cobra.Command) *cobra.Command {
	c.Args = unknownCommand
	c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	return c
}

// unknownCommand refuses an argument of a group: cobra found no subcommand
// by that name. The message and suggestions are cobra's.
func unknownCommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	var hint strings.Builder
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		hint.WriteString("\n\nDid you mean this?\n")
		for _, name := range s {
			fmt.Fprintf(&hint, "\t%v\n", name)
		}
	}
	return usagef("unknown command %q for %q%s", args[0], c.CommandPath(), hint.String())
}

// typeArgs types the argument errors of c and every command under it, for
// the commands cobra adds itself (completion).
func typeArgs(c *cobra.Command) {
	if c.Args != nil {
		c.Args = usageArgs(c.Args)
	}
	for _, sub := range c.Commands() {
		typeArgs(sub)
	}
}

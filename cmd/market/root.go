package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/problem"
)

// Exit statuses, as documented in every command's help.
const (
	exitOK       = 0
	exitProblems = 1 // the packages or the tree have problems
	exitUsage    = 2 // usage or configuration error
)

const exitStatusHelp = `
EXIT STATUS
  0  success
  1  the packages or the tree have problems (validation, verification)
  2  usage or configuration error (bad flag, unreadable key, wrong passphrase)
`

// usageError marks an error as a usage or configuration error (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// reported marks an error whose details were already printed.
type reported struct{ code int }

func (r reported) Error() string { return fmt.Sprintf("exit %d", r.code) }

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "market",
		Short: "Build, check and serve a signed, static package marketplace",
		Long: `market turns a git repository of package folders (packages/<name>/<version>/)
into a signed, static package marketplace that any static host can serve.
` + exitStatusHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newValidate(), newBuild(), newResign(), newVerify(), newFetch(), newNew(), newKey(), newServe(), newPublish())
	for _, c := range root.Commands() {
		if c.Long == "" {
			c.Long = c.Short + "\n"
		}
		c.Long += exitStatusHelp
	}
	return root
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var r reported
	if errors.As(err, &r) {
		return r.code
	}
	var probs problem.List
	if errors.As(err, &probs) {
		probs.Write(stderr, problem.Text)
		fmt.Fprintf(stderr, "market: %d error(s)\n", probs.Errors())
		return exitProblems
	}
	fmt.Fprintf(stderr, "market: %v\n", err)
	var ue usageError
	var ce *builder.ConfigError
	var ke *sign.KeyError
	if errors.As(err, &ue) || errors.As(err, &ce) || errors.As(err, &ke) || isCobraUsage(err) {
		return exitUsage
	}
	return exitProblems
}

// isCobraUsage recognises cobra's own argument errors (unknown command,
// wrong number of arguments), which it returns as plain errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires ", "invalid argument", "flag needs", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

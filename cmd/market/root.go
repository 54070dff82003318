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

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "market",
		Short: "Build, check and serve a signed, static package marketplace",
		Long: `market turns a git repository of package folders (packages/<name>/<version>/)
into a signed, static package marketplace that any static host can serve.
`,
		Version:       versionText(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newValidateCmd(), newBuildCmd(), newResignCmd(), newVerifyCmd(), newFetchCmd(),
		newNewCmd(), newKeyCmd(), newServeCmd(), newPublishCmd(), newMirrorCmd(), newVersionCmd())
	// Cobra adds these at Execute; added now, they get typed errors and
	// the exit statuses too.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			typeArgs(c)
		}
	}
	addExitStatus(root)
	return root
}

// addExitStatus ends the long help of c and of every command under it with
// the exit statuses.
func addExitStatus(c *cobra.Command) {
	if c.Long == "" {
		c.Long = c.Short
	}
	if !strings.HasSuffix(c.Long, "\n") {
		c.Long += "\n"
	}
	c.Long += exitStatusHelp
	for _, sub := range c.Commands() {
		addExitStatus(sub)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil && cmd.CalledAs() == "" {
		// Cobra's lookup refused the arguments before calling any command:
		// an unknown command (its legacyArgs check of the root, which keeps
		// cobra's suggestions and help topics). The error is untyped.
		err = usageError{err}
	}
	return exitCode(err, stderr)
}

// exitCode prints what err says, unless it was reported already, and
// gives the exit status it stands for.
func exitCode(err error, stderr io.Writer) int {
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
	if errors.As(err, &ue) || errors.As(err, &ce) || errors.As(err, &ke) {
		return exitUsage
	}
	return exitProblems
}

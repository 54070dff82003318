package main

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// versionOptions: market version has no flags.
type versionOptions struct{}

func newVersionCmd() *cobra.Command {
	o := &versionOptions{}
	return &cobra.Command{
		Use:   "version",
		Short: "Print market's version, VCS revision and Go version",
		Long: `Print the module version market was built as ("(devel)" for a build from a
checkout), the VCS revision and whether the checkout had local changes, when
the build recorded them, and the Go version it was built with. market
--version prints the same.
`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error { return o.run(c.Context(), streamsOf(c)) },
	}
}

func (o *versionOptions) run(_ context.Context, s streams) error {
	_, err := fmt.Fprintln(s.out, versionText())
	return err
}

// versionText says what this binary is, from what the Go toolchain recorded
// in it: the module version, vcs.revision and vcs.modified when the build
// stamped them (go build in a checkout does; go run and go test do not), and
// the Go version.
func versionText() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "market version unknown (no build information)\n  go        " + runtime.Version()
	}
	return buildInfoText(info)
}

func buildInfoText(info *debug.BuildInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "market version %s\n", cmp.Or(info.Main.Version, "(devel)"))
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			fmt.Fprintf(&b, "  revision  %s\n", s.Value)
		case "vcs.modified":
			fmt.Fprintf(&b, "  modified  %s\n", s.Value)
		}
	}
	fmt.Fprintf(&b, "  go        %s", cmp.Or(info.GoVersion, runtime.Version()))
	return b.String()
}

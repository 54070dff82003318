package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestUsageErrorsAreTyped checks that what cobra refuses exits 2 because
// it is typed where it arises, whatever cobra's message says.
func TestUsageErrorsAreTyped(t *testing.T) {
	for _, args := range [][]string{
		{"bogus"},                   // unknown command
		{"key", "bogus"},            // unknown command below the root
		{"build", "--bogus"},        // unknown flag
		{"build", "--jobs", "x"},    // a flag that does not parse
		{"verify"},                  // missing argument
		{"new", "a", "b", "c"},      // too many arguments
		{"build", "extra"},          // an argument where none is taken
		{"completion", "bash", "x"}, // cobra's own command
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != exitUsage {
			t.Errorf("market %s: exit %d, want %d", strings.Join(args, " "), code, exitUsage)
		}
	}
	// The exit status follows the error's type, not its words.
	for _, msg := range []string{`unknown command "x" for "market"`, "unknown flag: --x", "accepts 1 arg(s), received 0"} {
		if code := exitCode(errors.New(msg), io.Discard); code != exitProblems {
			t.Errorf("an untyped %q: exit %d, want %d", msg, code, exitProblems)
		}
	}
}

// TestBuildInfoText checks what version prints from the build information.
func TestBuildInfoText(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/market-dev/market", Version: "v1.2.3"}}
	info.Settings = []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}
	want := "market version v1.2.3\n  revision  abc123\n  modified  true\n  go        go1.26.8"
	if got := buildInfoText(info); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	info = &debug.BuildInfo{GoVersion: "go1.26.8"}
	if got, want := buildInfoText(info), "market version (devel)\n  go        go1.26.8"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestExitStatusInEveryHelp checks that the long help of every command,
// cobra's own included, ends with the exit statuses.
func TestExitStatusInEveryHelp(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !strings.HasSuffix(c.Long, exitStatusHelp) {
			t.Errorf("%s: the long help has no EXIT STATUS section", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot(io.Discard, io.Discard))
}

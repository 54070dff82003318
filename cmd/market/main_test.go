package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"market": func() {
			crashHooks()
			os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
		},
	})
}

// TestScripts runs the CLI scripts in testdata/script. Each runs in its own
// work directory with HOME and GNUPGHOME isolated; $KEYS is builder/sign/testdata/keys,
// $EXAMPLES the repository's packages/ and $CORPUS the CDAP corpus (builder/testdata/cdap-hub).
func TestScripts(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("KEYS", filepath.Join(repo, "builder", "sign", "testdata", "keys"))
			env.Setenv("EXAMPLES", filepath.Join(repo, "packages"))
			env.Setenv("CORPUS", filepath.Join(repo, "builder", "testdata", "cdap-hub", "packages"))
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("GNUPGHOME", filepath.Join(env.WorkDir, "gnupg"))
			env.Setenv("MARKET_SIGNING_KEY", "")
			env.Setenv("MARKET_KEY_PASSPHRASE", "")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits": exits,
		},
	})
}

// exits N PROG ARGS... runs PROG and fails unless it exits with status N;
// stdout and stderr are kept for the stdout and stderr commands that follow.
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N prog args...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %v", err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d\nstdout:\n%s\nstderr:\n%s", args[1], got, want, ts.ReadFile("stdout"), ts.ReadFile("stderr"))
	}
}

package main

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
			"exits":      exits,
			"mkjar":      mkjar,
			"mkjpeg":     mkjpeg,
			"nowarnings": nowarnings,
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

// mkjar FILE... writes each FILE as a small valid jar (a zip holding a
// manifest): a build refuses a .jar that does not open as a zip.
func mkjar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: mkjar file...")
	}
	for _, name := range args {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.Create("META-INF/MANIFEST.MF")
		ts.Check(err)
		_, err = io.WriteString(w, "Manifest-Version: 1.0\r\n\r\n")
		ts.Check(err)
		ts.Check(zw.Close())
		ts.Check(os.MkdirAll(filepath.Dir(ts.MkAbs(name)), 0o755))
		ts.Check(os.WriteFile(ts.MkAbs(name), buf.Bytes(), 0o644))
	}
}

// nowarnings fails (negated: passes only) when stdout holds a warning
// other than "the version has no icon", which most fixtures here have
// on purpose: they test something else.
func nowarnings(ts *testscript.TestScript, neg bool, args []string) {
	var found []string
	for _, line := range strings.Split(ts.ReadFile("stdout"), "\n") {
		if strings.Contains(line, ": warning: ") && !strings.Contains(line, "the version has no icon") {
			found = append(found, line)
		}
	}
	if (len(found) > 0) != neg {
		ts.Fatalf("warnings other than a missing icon: %q (negated: %v)", found, neg)
	}
}

// mkjpeg FILE... writes each FILE as a small real JPEG (16x16, one colour).
func mkjpeg(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: mkjpeg file...")
	}
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{0x33, 0x66, 0xcc, 0xff}), image.Point{}, draw.Src)
	var buf bytes.Buffer
	ts.Check(jpeg.Encode(&buf, img, nil))
	for _, name := range args {
		ts.Check(os.MkdirAll(filepath.Dir(ts.MkAbs(name)), 0o755))
		ts.Check(os.WriteFile(ts.MkAbs(name), buf.Bytes(), 0o644))
	}
}

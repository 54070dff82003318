package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The untampered example tree verifies over HTTP from market serve's handler
// exactly as it does from its directory, and fetch installs a package from
// it whose files are the source's.
func TestVerifyAndFetchOverServe(t *testing.T) {
	srv, dir := serveTree(t)
	keyring := "../../builder/sign/testdata/keys/demo.pub.asc"
	for _, loc := range []string{dir, srv.URL, srv.URL + "/v1/"} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"verify", loc, "--keyring", keyring}, &out, &errb); code != 0 {
			t.Fatalf("verify %s: exit %d\n%s%s", loc, code, out.String(), errb.String())
		}
		// Without a release.json to list them, product catalogs are only
		// found on disk: over HTTP, four catalogs and signatures fewer.
		// deprecated.json counts as one file and one signature, the two
		// icon.png made from icon.jpg and icon.svg as one file each; every
		// file of a version is signed, icons and licence too.
		want := "7 version(s), 40 file(s), 40 signature(s) checked (no release.json): 0 problem(s)"
		if loc != dir {
			want = "7 version(s), 36 file(s), 36 signature(s) checked (no release.json): 0 problem(s)"
		}
		if !strings.Contains(errb.String(), want) {
			t.Errorf("verify %s: %s", loc, errb.String())
		}
	}
	dest := t.TempDir()
	var out, errb bytes.Buffer
	args := []string{"fetch", "hydrator-plugin-demo-transform@0.9.0", "--from", srv.URL, "--keyring", keyring, "--dest", dest}
	if code := run(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("fetch: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "resolves to hydrator-plugin-demo-transform@0.9.0 (DEPRECATED") {
		t.Errorf("fetch printed:\n%s", out.String())
	}
	src := "../../packages/hydrator-plugin-demo-transform/0.9.0"
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		want, _ := os.ReadFile(filepath.Join(src, e.Name()))
		got, err := os.ReadFile(filepath.Join(dest, "hydrator-plugin-demo-transform", "0.9.0", e.Name()))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("installed %s differs from the source (%v)", e.Name(), err)
		}
	}
}

package publish_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/builder/sign"
)

// Publishing does not depend on the resource layout: a tree of each layout
// published to a directory is mirrored, and verifies there as a whole.
func TestPublishEveryLayout(t *testing.T) {
	pub, err := os.ReadFile(filepath.Join(filepath.Dir(keyFile), "demo.pub.asc"))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := sign.ReadKeyRing(pub)
	if err != nil {
		t.Fatal(err)
	}
	for _, layout := range []string{builder.ResourcesBoth, builder.ResourcesArchive, builder.ResourcesFiles} {
		t.Run(layout, func(t *testing.T) {
			repo := copyExamples(t)
			cfg, err := builder.LoadConfig(filepath.Join(repo, "market.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			cfg.Resources = layout
			tree := filepath.Join(repo, "dist")
			if _, err := builder.Build(context.Background(), builder.Options{Packages: filepath.Join(repo, "packages"), Out: tree, Signer: signer(t), Config: cfg}); err != nil {
				t.Fatal(err)
			}
			to := filepath.Join(t.TempDir(), "site")
			if _, err := publishDir(t, tree, to); err != nil {
				t.Fatal(err)
			}
			checkDirMirror(t, tree, to, dirExtras(t, tree, to)...)
			rep, err := client.VerifyTree(context.Background(), to, client.VerifyOptions{Options: client.Options{Keyring: ring, API: "v1"}})
			if err != nil || len(rep.Problems) > 0 || rep.Versions != 7 {
				t.Errorf("verify the published %s tree: %v, %d versions\n%v", layout, err, rep.Versions, rep.Problems)
			}
		})
	}
}

// dirExtras names what a directory target holds beyond the tree's served
// files: the tree's bookkeeping is not published.
func dirExtras(t *testing.T, tree, to string) []string {
	t.Helper()
	var extra []string
	for rel := range dirState(t, to) {
		if _, err := os.Stat(filepath.Join(tree, rel)); err != nil {
			extra = append(extra, rel)
		}
	}
	return extra
}

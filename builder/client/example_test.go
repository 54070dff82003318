package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema"
)

// exampleTree builds the repository's example packages, signed with the
// demo TEST key, into a temporary directory, as a publisher's CI would.
func exampleTree() (dir string, keyring []byte) {
	tmp, err := os.MkdirTemp("", "market-example-")
	if err != nil {
		log.Fatal(err)
	}
	key, err := os.ReadFile("../sign/testdata/keys/demo.sec.asc")
	if err != nil {
		log.Fatal(err)
	}
	s, err := sign.Load(key, sign.Options{})
	if err != nil {
		log.Fatal(err)
	}
	dir = filepath.Join(tmp, "dist")
	_, err = builder.Build(context.Background(), builder.Options{
		Packages: "../../packages", Out: dir, Signer: s,
		Release: &builder.ReleaseOptions{Valid: 30 * 24 * time.Hour, Time: time.Now()},
	})
	if err != nil {
		log.Fatal(err)
	}
	keyring, err = os.ReadFile("../sign/testdata/keys/demo.pub.asc")
	if err != nil {
		log.Fatal(err)
	}
	return dir, keyring
}

// Open a marketplace, resolve the newest version of a package that fits a
// product version, and install it: every byte is checked against the
// signed catalog before Install returns.
func Example() {
	tree, pub := exampleTree()
	defer os.RemoveAll(filepath.Dir(tree))

	keyring, err := sign.ReadKeyRing(pub) // obtained out of band, never from the tree
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	// A URL works the same way: client.Open(ctx, "https://hub.example.com/", ...).
	m, err := client.Open(ctx, tree, client.Options{
		Keyring:   keyring,
		StateFile: filepath.Join(filepath.Dir(tree), "market-state.json"), // refuses rollbacks
	})
	if err != nil {
		log.Fatal(err)
	}
	q, _ := client.ParseQuery("hydrator-plugin-demo-transform")
	pv, _ := schema.ParseVersion("6.4.0") // 1.1.0 needs 6.5.0 or later
	e, err := m.Resolve(q, client.ResolveOptions{ProductVersion: &pv})
	if err != nil {
		log.Fatal(err)
	}
	inst, err := m.Install(ctx, e, filepath.Join(filepath.Dir(tree), "installed"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Name, e.Version)
	fmt.Println(inst.Files)
	// Output:
	// hydrator-plugin-demo-transform 1.0.0
	// [demo-transform-1.0.0.jar demo-transform-1.0.0.json icon.png spec.json]
}

// Errors carry a kind to branch on.
func ExampleMarket_Resolve() {
	tree, pub := exampleTree()
	defer os.RemoveAll(filepath.Dir(tree))
	keyring, _ := sign.ReadKeyRing(pub)
	m, err := client.Open(context.Background(), tree, client.Options{Keyring: keyring})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range []string{"hydrator-plugin-demo-transform@[0.1.0,1.0.0)", "hydrator-plugin-demo-transform@0.9.0", "no-such-package"} {
		q, _ := client.ParseQuery(s)
		e, err := m.Resolve(q, client.ResolveOptions{})
		switch {
		case errors.Is(err, client.ErrNotFound):
			fmt.Println(s, "-> not found")
		case errors.Is(err, client.ErrNoCompatible):
			fmt.Println(s, "-> no compatible version (0.9.0 is deprecated)")
		case err != nil:
			log.Fatal(err)
		default:
			fmt.Println(s, "->", e.Version, "deprecated:", e.Deprecated != "")
		}
	}
	// Output:
	// hydrator-plugin-demo-transform@[0.1.0,1.0.0) -> no compatible version (0.9.0 is deprecated)
	// hydrator-plugin-demo-transform@0.9.0 -> 0.9.0 deprecated: true
	// no-such-package -> not found
}

// VerifyTree checks a whole tree, as market verify does.
func ExampleVerifyTree() {
	tree, pub := exampleTree()
	defer os.RemoveAll(filepath.Dir(tree))
	keyring, _ := sign.ReadKeyRing(pub)
	rep, err := client.VerifyTree(context.Background(), tree, client.VerifyOptions{Options: client.Options{Keyring: keyring}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(rep.Problems), "problems in", rep.Versions, "versions")
	// Output:
	// 0 problems in 7 versions
}

package mirror

import (
	"bytes"
	"context"
	"os"
	"path"
	"path/filepath"

	"github.com/market-dev/market/builder/publish"
	"github.com/market-dev/market/schema/catalog"
)

// treeFormat is the format of the tree marker the staging tree carries
// (the builder's FormatVersion): publish reads the API folder from it.
const treeFormat = 1

// writeTop writes the top-level files into the staging tree: the source's
// as verified (an exact copy), or the re-signed mirror's own, with
// upstream.json; then the tree marker.
func writeTop(w *work, up *upstream, d *dest, o *Options) error {
	files := up.files
	if o.Signer != nil {
		var err error
		if files, err = up.resigned(o, d.release); err != nil {
			return err
		}
		data, err := catalog.Encode(up.record(o))
		if err != nil {
			return err
		}
		if err := writeSigned(w.tree, RecordFile, topFile{data: data, sign: true}, o); err != nil {
			return err
		}
	}
	for name, f := range files {
		if err := writeSigned(w.tree, path.Join(up.api, name), f, o); err != nil {
			return err
		}
	}
	marker := catalog.Tree{Format: treeFormat, API: up.api}.Encode()
	return writeAtomic(filepath.Join(w.tree, catalog.TreeMarker, catalog.TreeFile), marker)
}

// writeSigned writes one file of the tree at rel and its signature: the
// one it came with, or (f.sign) a new one by the organisation's key.
func writeSigned(tree, rel string, f topFile, o *Options) error {
	file := filepath.Join(tree, filepath.FromSlash(rel))
	if err := writeAtomic(file, f.data); err != nil {
		return err
	}
	sig := f.sig
	if f.sign {
		var b bytes.Buffer
		if err := o.Signer.Sign(&b, bytes.NewReader(f.data)); err != nil {
			return err
		}
		sig = b.Bytes()
	}
	if sig == nil {
		return nil
	}
	return writeAtomic(file+".asc", sig)
}

// publishTree publishes the staging tree: version files first, catalogs
// last (package publish's order), then prunes what the mirror no longer
// has, leaving the folders of the versions the target held already. A
// directory target gets the tree marker, so that market verify and market
// publish find its API folder.
func publishTree(ctx context.Context, w *work, d *dest, o *Options) (*publish.Summary, error) {
	keep := func(rel string) bool { return d.keep[path.Dir(rel)] }
	sum, err := publish.PublishKeeping(ctx, publish.Options{
		Tree: w.tree, To: o.To, S3: o.S3, Concurrency: o.Concurrency, Reporter: o.Reporter,
		Prune: true,
		// The source's signed catalog is the authority: a version it
		// changed (published with --allow-overwrite) changes here too.
		AllowOverwrite: true,
	}, keep)
	if err != nil || !d.isDir {
		return sum, err
	}
	marker, err := os.ReadFile(filepath.Join(w.tree, catalog.TreeMarker, catalog.TreeFile))
	if err != nil {
		return sum, err
	}
	file := filepath.Join(o.To, catalog.TreeMarker, catalog.TreeFile)
	if had, err := os.ReadFile(file); err == nil && bytes.Equal(had, marker) {
		return sum, nil
	}
	return sum, writeAtomic(file, marker)
}

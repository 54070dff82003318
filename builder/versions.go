package builder

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"golang.org/x/sync/errgroup"

	"github.com/market-dev/market/builder/archive"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
)

// writeVersions puts every version folder into the new tree: kept where the
// recycled spare already holds it as it should be, linked from the
// previous tree when its inputs did not change, else written.
func (b *build) writeVersions(ctx context.Context) error {
	n := len(b.tree.Versions)
	b.entries = make([]catalog.Entry, n)
	b.records = make([]*cachedVersion, n)
	reused := make([]bool, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.opts.Jobs)
	for i, v := range b.tree.Versions {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			rec, kept, err := b.version(gctx, v, b.plans[i])
			if err != nil {
				return fmt.Errorf("%s: %w", v.Dir, err)
			}
			b.records[i], reused[i] = rec, kept
			b.entries[i] = catalog.NewEntry(v.Name, v.Version, v.Spec, rec.Files)
			b.opts.Reporter.Built(v.Name, v.Version.String(), kept)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, r := range reused {
		if r {
			b.reused++
		}
	}
	catalog.Sort(b.entries)
	return nil
}

// version puts one version folder into the new tree and records how; kept
// says its outputs came from an earlier tree.
func (b *build) version(ctx context.Context, v *Version, p versionPlan) (*cachedVersion, bool, error) {
	rel := filepath.Join("packages", v.Name, v.Version.String())
	dst := filepath.Join(b.api, rel)
	if p.key != "" {
		if kept := b.fromSpare(filepath.Join(v.Name, v.Version.String()), p.key); kept != nil {
			b.recycled.Add(1)
			return &cachedVersion{Key: p.key, Inputs: p.inputs, Outputs: kept.Outputs, Files: kept.Files}, true, nil
		}
	}
	if b.spare != nil {
		if err := os.RemoveAll(dst); err != nil {
			return nil, false, err
		}
	}
	if p.prev != nil && p.key != "" && p.prev.Key == p.key {
		if reuse(filepath.Join(b.prevAPI, rel), dst, p.prev) {
			return &cachedVersion{Key: p.key, Inputs: p.inputs, Outputs: p.prev.Outputs, Files: p.prev.Files}, true, nil
		}
		if err := os.RemoveAll(dst); err != nil {
			return nil, false, err
		}
	}
	files, err := b.write(ctx, b.root, v, dst)
	if err != nil {
		return nil, false, err
	}
	key := p.key
	if key == "" { // deferred: the digests of the copies just made
		for i := range p.inputs {
			in := &p.inputs[i]
			if in.Name == v.Icon { // icon.png may hold a conversion
				if in.SHA256, err = hashFile(b.root, path.Join(v.rel, in.Name)); err != nil {
					return nil, false, err
				}
				continue
			}
			in.SHA256 = files[in.Name].SHA256
		}
		key = b.key(p.inputs)
	}
	outputs, err := outputStates(dst)
	if err != nil {
		return nil, false, err
	}
	return &cachedVersion{Key: key, Inputs: p.inputs, Outputs: outputs, Files: files}, false, nil
}

// write makes a version folder's outputs from its inputs.
func (b *build) write(ctx context.Context, root *os.Root, v *Version, dst string) (catalog.Files, error) {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, err
	}
	files := catalog.Files{}
	src := func(name string) string { return path.Join(v.rel, name) }
	copyOne := func(name string, signed bool) error {
		f, err := b.copyFile(ctx, root, src(name), filepath.Join(dst, name), signed)
		if err != nil {
			return err
		}
		files[name] = f
		return nil
	}
	if err := copyOne(SpecFile, true); err != nil {
		return nil, err
	}
	if v.Icon != "" {
		if err := b.writeIcon(root, v, dst, files); err != nil {
			return nil, err
		}
	}
	if v.License {
		if err := copyOne(LicenseFile, false); err != nil {
			return nil, err
		}
	}
	layout := b.opts.Config.Resources
	for _, r := range v.Resources {
		// The licence file is served loose in every layout: the CDAP UI's
		// deploy wizard fetches it by the name spec.json gives.
		if layout == ResourcesBoth || layout == ResourcesFiles || r == v.Spec.License {
			if err := copyOne(r, true); err != nil {
				return nil, err
			}
		}
	}
	if (layout == ResourcesBoth || layout == ResourcesArchive) && len(v.Resources) > 0 {
		f, err := b.writeArchive(ctx, root, v, filepath.Join(dst, ArchiveFile))
		if err != nil {
			return nil, err
		}
		files[ArchiveFile] = f
	}
	return files, nil
}

// writeIcon serves the version's icon: the committed file as it is, and
// icon.png with PNG bytes, the only icon the CDAP UI requests (made from a
// JPEG or an SVG; a JPEG committed as icon.png is replaced by its PNG).
func (b *build) writeIcon(root *os.Root, v *Version, dst string, files catalog.Files) error {
	data, err := root.ReadFile(path.Join(v.rel, v.Icon))
	if err != nil {
		return err
	}
	png, err := iconPNG(v.Icon, data, b.opts.Config)
	if err != nil {
		return err
	}
	if v.Icon != IconPNG {
		if files[v.Icon], err = b.writeBytesFile(filepath.Join(dst, v.Icon), data, false); err != nil {
			return err
		}
	}
	files[IconPNG], err = b.writeBytesFile(filepath.Join(dst, IconPNG), png, false)
	return err
}

// writeBytesFile writes data to dst like writeFile.
func (b *build) writeBytesFile(dst string, data []byte, signed bool) (catalog.File, error) {
	return b.writeFile(dst, signed, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// copyFile copies src (inside root) to dst, hashing it, and signing it when
// signed is set, in one pass over the bytes.
func (b *build) copyFile(ctx context.Context, root *os.Root, src, dst string, signed bool) (catalog.File, error) {
	in, err := root.Open(src)
	if err != nil {
		return catalog.File{}, err
	}
	defer in.Close()
	return b.writeFile(dst, signed, func(w io.Writer) error {
		_, err := io.Copy(w, ctxReader{ctx, in})
		return err
	})
}

// ctxReader stops a long copy when the build is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type readCloser struct {
	io.Reader
	io.Closer
}

func (b *build) writeArchive(ctx context.Context, root *os.Root, v *Version, dst string) (catalog.File, error) {
	files := make([]archive.File, len(v.Resources))
	for i, name := range v.Resources {
		files[i] = archive.File{Name: name, Open: func() (io.ReadCloser, error) {
			f, err := root.Open(path.Join(v.rel, name))
			if err != nil {
				return nil, err
			}
			return readCloser{ctxReader{ctx, f}, f}, nil
		}}
	}
	return b.writeFile(dst, true, func(w io.Writer) error { return archive.Create(w, files) })
}

// writeFile creates dst with what fill writes, hashing the bytes on the way
// and, when signed is set and the build has a signer, signing them into
// dst.asc (verified before it is written).
func (b *build) writeFile(dst string, signed bool, fill func(io.Writer) error) (catalog.File, error) {
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return catalog.File{}, err
	}
	defer out.Close()
	h := sha256.New()
	buf := bufio.NewWriterSize(out, 256<<10) // archive/zip writes in small pieces
	sinks := []io.Writer{buf, h}
	var stream *sign.Stream
	if signed && b.opts.Signer != nil {
		if stream, err = b.opts.Signer.NewStream(); err != nil {
			return catalog.File{}, err
		}
		sinks = append(sinks, stream)
	}
	cw := &countWriter{w: io.MultiWriter(sinks...)}
	if err := fill(cw); err != nil {
		return catalog.File{}, err
	}
	if err := buf.Flush(); err != nil {
		return catalog.File{}, err
	}
	if err := out.Close(); err != nil {
		return catalog.File{}, err
	}
	if stream != nil {
		if _, err := writeFileFunc(dst+".asc", stream.Finish); err != nil {
			return catalog.File{}, fmt.Errorf("signing %s: %w", filepath.Base(dst), err)
		}
	}
	return catalog.File{SHA256: hex.EncodeToString(h.Sum(nil)), Size: cw.n}, nil
}

// writeFileFunc creates file with what fill writes.
func writeFileFunc(file string, fill func(io.Writer) error) (int64, error) {
	out, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	cw := &countWriter{w: out}
	if err := fill(cw); err != nil {
		out.Close()
		return 0, err
	}
	return cw.n, out.Close()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

package builder

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/market-dev/market/builder/archive"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
)

// writeVersions puts every version folder into the new tree: kept where the
// recycled spare already holds it as it should be, linked from the
// previous tree when its inputs did not change, else written.
func (b *build) writeVersions(ctx context.Context) error {
	b.loadEntries()
	n := len(b.tree.Versions)
	b.entries = make([]catalog.Entry, n)
	b.records = make([]*cachedVersion, n)
	reused := make([]bool, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.opts.Jobs)
	if b.spare != nil {
		g.SetLimit(b.opts.statJobs()) // mostly checking the spare's folders
	}
	for i, v := range b.tree.Versions {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			p := b.plans[i]
			rec, kept, err := b.version(gctx, v, p)
			if err != nil {
				return fmt.Errorf("%s: %w", v.Dir, err)
			}
			if p.prev != nil && slices.Equal(p.prev.Outputs, rec.Outputs) {
				rec.Spare = p.prev.Folder // the tree in place, the spare after the swap, holds the same files
			}
			b.records[i], reused[i] = rec, kept
			if b.entries[i], err = b.entry(v, rec); err != nil {
				return fmt.Errorf("%s: %w", v.Dir, err)
			}
			v.Spec = nil // read again for its page, if it is rendered: not held for 50,000 versions
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
	b.sortEntries()
	records := b.recordMap()
	b.nextSpare = spareOf(b.prev, records)
	b.recordOut = startRecords(b.dir, records, nil) // while the catalogs and site are made
	b.prev, b.plans = nil, nil                      // the records are made: what the previous build recorded is not needed past here
	return nil
}

// sortEntries puts the entries, and their elements with them, in catalog
// order (catalog.Sort).
func (b *build) sortEntries() {
	order := make([]int, len(b.entries))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		a, c := b.entries[i], b.entries[j]
		return cmp.Or(strings.Compare(a.Name, c.Name), c.SemVer.Compare(a.SemVer))
	})
	entries, elems := make([]catalog.Entry, len(order)), make([][]byte, len(order))
	for k, i := range order {
		entries[k], elems[k] = b.entries[i], b.records[i].entry
		entries[k].Files = nil // in the element; the site asks the records (versionFiles)
		b.records[i].catalogEntry = &entries[k]
	}
	b.entries, b.elems = entries, elems
}

// entry is the catalog entry of v, whose outputs rec records: made from
// the spec when the build read it (or the record has no entry), and kept
// in rec as its catalog element; else read from the element the previous
// build recorded (whose key, and so spec and files, are the same).
func (b *build) entry(v *Version, rec *cachedVersion) (catalog.Entry, error) {
	var e catalog.Entry
	if len(rec.entry) == 0 {
		if err := b.loadSpec(v); err != nil {
			return e, err
		}
	}
	if v.Spec != nil {
		e = catalog.NewEntry(v.Name, v.Version, v.Spec, rec.files())
		data, err := catalog.EncodeElement(e)
		rec.entry = data // its fields are encoded as the record is written (entryParts)
		return e, err
	}
	if err := decodeEntry(rec.fields, &e); err != nil {
		return e, fmt.Errorf("the build record's catalog entry: %w", err)
	}
	if e.Name != v.Name || e.Version != v.Version.String() {
		return e, fmt.Errorf("the build record's catalog entry is %s %s", e.Name, e.Version)
	}
	e.SemVer = v.Version.Semver()
	return e, nil
}

// version puts one version folder into the new tree and records how; kept
// says its outputs came from an earlier tree.
func (b *build) version(ctx context.Context, v *Version, p versionPlan) (*cachedVersion, bool, error) {
	rel := filepath.Join("packages", v.Name, v.Version.String())
	dst := filepath.Join(b.api, rel)
	if p.key != "" {
		if kept := b.fromSpare(filepath.Join(v.Name, v.Version.String()), p.key); kept != nil {
			b.recycled.Add(1)
			return b.record(v, p, kept.Outputs, kept.Folder), true, nil
		}
	}
	if b.spare != nil {
		if err := os.RemoveAll(dst); err != nil {
			return nil, false, err
		}
	}
	if p.prev != nil && p.key != "" && p.prev.Key == p.key {
		if folder, ok := reuse(filepath.Join(b.prevAPI, rel), dst, p.prev); ok {
			return b.record(v, p, p.prev.Outputs, folder), true, nil
		}
		if err := os.RemoveAll(dst); err != nil {
			return nil, false, err
		}
	}
	if err := b.loadSpec(v); err != nil {
		return nil, false, err
	}
	w, err := b.write(ctx, v, dst)
	if err != nil {
		return nil, false, err
	}
	key := p.key
	if key == "" { // deferred: the digests of the copies just made
		for i := range p.inputs {
			in := &p.inputs[i]
			if in.Name == v.Icon { // icon.png may hold a conversion
				in.SHA256 = w.iconSum
				continue
			}
			in.SHA256 = w.sum(in.Name)
		}
		key = b.key(p.inputs)
	}
	slices.SortFunc(w.outputs, func(a, b fileState) int { return strings.Compare(a.Name, b.Name) })
	p.key = key
	return b.record(v, p, slices.Clone(w.outputs), w.folder), false, nil // cloned: kept for every version, not the writer's doubled capacity
}

// record is the record of a version with these outputs; a version the
// scan took as known keeps the catalog entry recorded with it.
func (b *build) record(v *Version, p versionPlan, outputs []fileState, folder fileState) *cachedVersion {
	rec := &cachedVersion{Key: p.key, Inputs: p.inputs, Outputs: outputs, Folder: folder, Source: v.source, Warnings: v.warnings}
	if v.Spec == nil {
		rec.entry, rec.fields = p.prev.entry, p.prev.fields
	}
	return rec
}

// versionWriter writes one version folder's outputs: inputs opened from
// its source folder, outputs created in its new folder, each by one openat
// relative to the folder's handle; it records every file it creates.
type versionWriter struct {
	b       *build
	ctx     context.Context
	v       *Version
	in, out *dirHandle
	outputs []fileState // served files with their digest
	iconSum digest      // of the committed icon
	folder  fileState   // the output folder, once written
}

// sum is the digest of the output name.
func (w *versionWriter) sum(name string) digest {
	for _, out := range w.outputs {
		if out.Name == name {
			return out.SHA256
		}
	}
	return digest{}
}

// write makes a version folder's outputs from its inputs.
func (b *build) write(ctx context.Context, v *Version, dst string) (*versionWriter, error) {
	in, err := openInputDir(b.root, v.rel)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	out, err := makeOutputDir(dst)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	w := &versionWriter{b: b, ctx: ctx, v: v, in: in, out: out}
	if err := w.writeAll(); err != nil {
		return nil, err
	}
	w.folder, err = out.folderState()
	return w, err
}

func (w *versionWriter) writeAll() error {
	v := w.v
	if err := w.copy(SpecFile, true); err != nil {
		return err
	}
	if v.Icon != "" {
		if err := w.icon(); err != nil {
			return err
		}
	}
	if v.License {
		if err := w.copy(LicenseFile, true); err != nil {
			return err
		}
	}
	layout := w.b.opts.Config.Resources
	for _, r := range v.Resources {
		// The licence file is served loose in every layout: the CDAP UI's
		// deploy wizard fetches it by the name spec.json gives.
		if layout == ResourcesBoth || layout == ResourcesFiles || r == v.Spec.License {
			if err := w.copy(r, true); err != nil {
				return err
			}
		}
	}
	if (layout == ResourcesBoth || layout == ResourcesArchive) && len(v.Resources) > 0 {
		return w.archive()
	}
	return nil
}

// icon serves the version's icon: the committed file as it is, and
// icon.png with PNG bytes, the only icon the CDAP UI requests (made from a
// JPEG or an SVG; a JPEG committed as icon.png is replaced by its PNG).
func (w *versionWriter) icon() error {
	data, err := w.in.readFile(w.v.Icon, MaxIconSize)
	if err != nil {
		return err
	}
	w.iconSum = sha256.Sum256(data)
	png, err := iconPNG(w.v.Icon, data, w.b.opts.Config)
	if err != nil {
		return err
	}
	if w.v.Icon != IconPNG {
		if err := w.bytes(w.v.Icon, data, true); err != nil {
			return err
		}
	}
	return w.bytes(IconPNG, png, true)
}

// bytes writes data as name.
func (w *versionWriter) bytes(name string, data []byte, signed bool) error {
	return w.file(name, signed, func(dst io.Writer) error {
		_, err := dst.Write(data)
		return err
	})
}

// copy copies the input file name, hashing it, and signing it when signed
// is set, in one pass over the bytes.
func (w *versionWriter) copy(name string, signed bool) error {
	in, err := w.in.open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	return w.file(name, signed, func(dst io.Writer) error {
		buf := copyBufs.Get().(*[]byte)
		defer copyBufs.Put(buf)
		_, err := io.CopyBuffer(dst, ctxReader{w.ctx, in}, *buf)
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

// archive writes archive.zip of the resources.
func (w *versionWriter) archive() error {
	files := make([]archive.File, len(w.v.Resources))
	for i, name := range w.v.Resources {
		files[i] = archive.File{Name: name, Open: func() (io.ReadCloser, error) {
			f, err := w.in.open(name)
			if err != nil {
				return nil, err
			}
			return readCloser{ctxReader{w.ctx, f}, f}, nil
		}}
	}
	return w.file(ArchiveFile, true, func(dst io.Writer) error { return archive.Create(dst, files) })
}

// copyBufs are io.CopyBuffer's buffers: io.Copy between two plain
// readers and writers allocates 32 KiB per call, which for 300,000 small
// files was half of what a build allocated.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// bufPool holds the write buffers of output files (archive/zip writes in
// small pieces), so that thousands of small files do not each allocate one.
var bufPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 256<<10) }}

// file creates name with what fill writes, hashing the bytes on the way
// and, when signed is set and the build has a signer, signing them into
// name.asc (verified before it is written).
func (w *versionWriter) file(name string, signed bool, fill func(io.Writer) error) error {
	out, err := w.out.create(name)
	if err != nil {
		return err
	}
	defer out.Close()
	h := sha256.New()
	buf := bufPool.Get().(*bufio.Writer)
	buf.Reset(out)
	defer func() { buf.Reset(nil); bufPool.Put(buf) }()
	sinks := []io.Writer{buf, h}
	var stream *sign.Stream
	if signer := w.b.opts.Signer; signed && signer != nil {
		if stream, err = signer.NewStream(); err != nil {
			return err
		}
		sinks = append(sinks, stream)
	}
	cw := &countWriter{w: io.MultiWriter(sinks...)}
	if err := fill(cw); err != nil {
		return err
	}
	if err := buf.Flush(); err != nil {
		return err
	}
	if err := w.done(out, name, digest(h.Sum(nil))); err != nil {
		return err
	}
	if stream == nil {
		return nil
	}
	// The armored signature is made in memory and written at once: the
	// armor encoder writes a line at a time.
	var armored bytes.Buffer
	if err := stream.Finish(&armored); err != nil {
		return fmt.Errorf("signing %s: %w", name, err)
	}
	sig, err := w.out.create(name + ".asc")
	if err != nil {
		return err
	}
	defer sig.Close()
	if _, err := sig.Write(armored.Bytes()); err != nil {
		return err
	}
	return w.done(sig, name+".asc", digest{})
}

// done records a file just written as an output, with its digest when it
// is served (listed in the catalogs).
func (w *versionWriter) done(f fdFile, name string, sum digest) error {
	st, err := f.state(name)
	st.SHA256 = sum
	w.outputs = append(w.outputs, st)
	return err
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

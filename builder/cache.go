package builder

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/schema/problem"
	"golang.org/x/sync/errgroup"
)

// CacheFile is where a tree remembers how each version folder was built, so
// the next build can reuse what did not change. It is bookkeeping inside
// catalog.TreeMarker, never part of the served API.
const CacheFile = "cache.json"

// cache is the build record of a tree (its file layout: loadCache). A
// cache whose checksum does not match (edited, truncated, written by
// another format) is ignored whole, never trusted.
type cache struct {
	Format int `json:"format"`
	Layout int `json:"layout"` // cacheLayout
	// Rules are the spec rules (schema.Rules) the recorded specs passed.
	Rules     string `json:"rules"`
	cacheBody `json:"-"`

	file   string   // where it was read from
	order  []string // the recorded versions, in the file's order
	ents   section  // the entries section
	loaded bool     // the entries are loaded
	// partial, of a spare's record (spareRecord): spareSite.Partial.
	partial map[string]bool
}

// section is a part of the cache file read only when needed, and checked
// against the digest the rest of the file (checked whole) gives for it.
type section struct {
	at, len int64
	sum     uint32 // its CRC-32C
}

// cacheBody is what the checksum covers.
type cacheBody struct {
	Versions map[string]*cachedVersion
	// SiteKey digests everything the browse site is rendered from
	// (build.siteKey); Site are its files as written, by path in the tree.
	SiteKey string
	Site    []fileState
	// PageKeys are the digests the site's pages but the package pages were
	// rendered from (site.Data.PageKey), by path in the tree: a page whose
	// digest is as recorded is kept from the spare, not rendered.
	PageKeys map[string]string
	// ScanKey digests what the scan's verdict on a version folder depends
	// on besides its files (build.scanKey): while it holds, a folder whose
	// files are all as recorded is not read again, its warnings replayed.
	ScanKey string
	// TreeKey digests everything outside the version folders derives from
	// (build.treeKey); Top are those files (catalogs, keys, signatures,
	// release, category icons) as written, by path in the tree.
	TreeKey string
	Top     []fileState
	// SiteWideKey digests what every page of the site shows besides its own
	// package's versions (build.siteWideKey): while it holds, a package
	// page whose versions are keyed as recorded is kept, not rendered.
	SiteWideKey string
	// KeyBase digests what every version's key holds besides its inputs
	// (build.keyBase).
	KeyBase string
	// Spare is what the record of the spare tree said of its site.
	Spare spareSite
}

// spareSite is the site of the spare tree (the tree a build replaced) as
// that tree's own record has it, kept in the record of the tree that
// replaced it: with each version's Spare, a build knows the spare without
// reading the spare's record (spareRecord).
type spareSite struct {
	Known       bool // false: the spare is not known, and not recycled
	Site        []fileState
	PageKeys    map[string]string
	SiteWideKey string
	// Partial are the packages some of whose versions in the spare the
	// record does not list (no Spare: gone since, or written anew): their
	// pages in the spare may show versions the record cannot tell of.
	Partial []string
}

// spareRecord is the record of the spare tree that c's build left, as c
// has it: the versions whose spare folders hold c's outputs, and the
// spare's site. Nil when c does not know the spare.
func (c *cache) spareRecord() *cache {
	if c == nil || !c.Spare.Known {
		return nil
	}
	s := &cache{cacheBody: cacheBody{Versions: map[string]*cachedVersion{}, Site: c.Spare.Site,
		PageKeys: c.Spare.PageKeys, SiteWideKey: c.Spare.SiteWideKey}, partial: map[string]bool{}}
	for rel, v := range c.Versions {
		if v.Spare.Inode != 0 {
			s.Versions[rel] = &cachedVersion{Key: v.Key, Outputs: v.Outputs, Folder: v.Spare}
		}
	}
	for _, pkg := range c.Spare.Partial {
		s.partial[pkg] = true
	}
	return s
}

// spareOf is the spare site a build that replaces the tree prev records
// (the spare-to-be is prev's tree) with the records next.
func spareOf(prev *cache, next map[string]*cachedVersion) spareSite {
	if prev == nil {
		return spareSite{}
	}
	partial := map[string]bool{}
	for rel := range prev.Versions {
		if v := next[rel]; v == nil || v.Spare.Inode == 0 {
			pkg, _, _ := strings.Cut(rel, "/")
			partial[pkg] = true
		}
	}
	return spareSite{Known: true, Site: prev.Site, PageKeys: prev.PageKeys, SiteWideKey: prev.SiteWideKey,
		Partial: slices.Sorted(maps.Keys(partial))}
}

// cacheLayout changes with the layout of cache.json itself.
const cacheLayout = 17

// cachedVersion records one version folder: the key of its inputs, the
// state of its input files (to skip rehashing what did not change), and the
// output files it produced as they were on disk when written (to refuse
// reuse of anything touched since), each served one with its digest.
type cachedVersion struct {
	Key     string
	Inputs  []fileState
	Outputs []fileState
	// Folder is the output folder's own state (folderState): any file
	// added, removed or renamed in it since changes it.
	Folder fileState
	// Spare is the state of the version's folder in the spare tree (the
	// tree this one replaced) when that folder holds these very outputs
	// (the same files, linked); zero when it does not. With
	// cacheBody.Spare it stands for the spare's own record.
	Spare fileState
	// Source is the input folder's own state when the scan listed it
	// (Version.source): while it holds, the folder holds the files of
	// Inputs and no others. Zero when the scan took it too close to a
	// change to tell a later one from it.
	Source fileState
	// Warnings the scan gave the folder, its path left out (Problem.File
	// is relative to the folder).
	Warnings []problem.Problem
	// entry is the folder's catalog entry as the catalogs list it
	// (catalog.EncodeElement), so that a build lists the version without
	// reading its spec or encoding it again; nil until cache.entries
	// loads it.
	entry []byte
	// fields are the entry's fields but its files (encodeEntry), which a
	// build reads back many times faster than the element's JSON; nil for
	// a version built afresh, whose catalogEntry gives them.
	fields       []byte
	catalogEntry *catalog.Entry
}

// entryParts are what the entries section holds of the version: its
// element and its fields, each behind its length.
func (c *cachedVersion) entryParts() [][]byte {
	fields := c.fields
	if fields == nil && c.entry != nil && c.catalogEntry != nil {
		fields = encodeEntry(*c.catalogEntry) // not held for 50,000 versions built afresh
	}
	return [][]byte{binary.AppendUvarint(nil, uint64(len(c.entry))), c.entry,
		binary.AppendUvarint(nil, uint64(len(fields))), fields}
}

// files are the served files of the version and their digests, as the
// catalogs list them: every output but the signatures.
func (c *cachedVersion) files() catalog.Files {
	files := make(catalog.Files, len(c.Outputs)/2+1)
	for _, out := range c.Outputs {
		if out.SHA256 != (digest{}) {
			files[out.Name] = catalog.File{SHA256: out.SHA256.String(), Size: out.Size}
		}
	}
	return files
}

// digest is a SHA-256; the zero value is none.
type digest [sha256.Size]byte

func (d digest) String() string { return hex.EncodeToString(d[:]) }

// fileState identifies the bytes of a file without reading it: if name,
// size, modification time, inode and (for inputs) change time are the same,
// the content is taken to be the same, as git's index does.
type fileState struct {
	Name   string
	Size   int64
	MTime  int64
	CTime  int64
	Inode  uint64
	SHA256 digest // inputs, and outputs that are served (not signatures)
}

func stateOf(name string, info fs.FileInfo, withCTime bool) fileState {
	st := fileState{Name: name, Size: info.Size(), MTime: info.ModTime().UnixNano()}
	if sys, ok := info.Sys().(*syscall.Stat_t); ok {
		st.Inode = sys.Ino
		if withCTime {
			st.CTime = sys.Ctim.Nano()
		}
	}
	return st
}

func (a fileState) sameFile(b fileState) bool {
	return a.Name == b.Name && a.Size == b.Size && a.MTime == b.MTime && a.CTime == b.CTime && a.Inode == b.Inode && a.Inode != 0
}

// The cache file is a JSON header line ({"format", "layout", "rules"}),
// then a binary body (cachecodec.go): the records, one per version folder
// behind its length (its path and cachedVersion but the entry); the
// entries section, each version's entry and fields behind their lengths,
// in the same order; the meta (the keys, the site's and top-level files,
// the number of records and the entries' digest); a footer of three
// fixed-width lengths (the records', the entries', the meta's); then a
// trailer line, the CRC-32C (hex) of everything before it but the
// entries. The records come first so a build writes them, once, while its
// catalogs and site are still being made (recordWriter). The entries are
// only read when a build writes (cache.entries): a rebuild that changes
// nothing decides from the records alone.
const (
	cacheTrailer = 2*crc32.Size + 1
	cacheFooter  = 3 * 8
)

// The cache's checksums are CRC-32C, not SHA-256: they catch a damaged or
// hand-edited file, which is all a checksum anyone may recompute can do,
// and the hardware computes them at several GB/s where SHA-256 of the
// records and entries took a tenth of a one-change rebuild at 50,000
// versions.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func newChecksum() hash.Hash32 { return crc32.New(castagnoli) }

// loadCache reads the previous tree's cache; any problem means no cache,
// and a note naming the file says why.
func loadCache(out string) (*cache, string) {
	file := filepath.Join(out, catalog.TreeMarker, CacheFile)
	c, why := readCacheFile(file)
	if why != "" {
		return nil, fmt.Sprintf("build cache %s ignored: %s", file, why)
	}
	return c, ""
}

// readCacheFile reads the cache file; nil and why if it is not to be
// trusted, nil alone if there is none.
func readCacheFile(file string) (*cache, string) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ""
	}
	if err != nil {
		return nil, err.Error()
	}
	defer f.Close()
	const damaged = "its checksum does not match (edited or damaged)"
	info, err := f.Stat()
	if err != nil || info.Size() < cacheTrailer+cacheFooter {
		return nil, damaged
	}
	h := newChecksum()
	c, why := readCache(f, info.Size()-cacheTrailer, h)
	// The entries are checked against their digest when they are read.
	want := make([]byte, cacheTrailer)
	if _, err := f.ReadAt(want, info.Size()-cacheTrailer); err != nil || string(want[:cacheTrailer-1]) != hex.EncodeToString(h.Sum(nil)) {
		return nil, damaged
	}
	if c != nil {
		c.file = file
	}
	return c, why
}

// readCache decodes a cache's header, records and meta, the file f but
// its trailer being size bytes, leaving the entries unread; h hashes what
// it read, what the trailer's checksum covers.
func readCache(f *os.File, size int64, h io.Writer) (*cache, string) {
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, size), 1<<16)
	head, err := r.ReadBytes('\n')
	h.Write(head)
	var c cache
	if err != nil || json.Unmarshal(head, &c) != nil {
		return nil, "its header is not valid JSON"
	}
	if c.Format != FormatVersion || c.Layout != cacheLayout {
		return nil, fmt.Sprintf("written by format %d.%d, this is format %d.%d", c.Format, c.Layout, FormatVersion, cacheLayout)
	}
	const broken = "its body does not decode"
	footer := make([]byte, cacheFooter)
	if int64(len(head))+cacheFooter > size {
		return nil, broken // the header runs into the footer
	}
	if _, err := f.ReadAt(footer, size-cacheFooter); err != nil {
		return nil, broken
	}
	var lens [3]uint64 // the records', the entries', the meta's
	for i := range lens {
		lens[i] = binary.BigEndian.Uint64(footer[8*i:])
	}
	rest := uint64(size) - cacheFooter - uint64(len(head))
	if lens[0] > rest || lens[1] > rest-lens[0] || lens[2] != rest-lens[0]-lens[1] {
		return nil, broken
	}
	meta := make([]byte, lens[2])
	if _, err := f.ReadAt(meta, size-cacheFooter-int64(lens[2])); err != nil {
		return nil, broken
	}
	d := &decoder{data: meta}
	c.SiteKey, c.ScanKey, c.TreeKey, c.SiteWideKey, c.KeyBase = d.string(), d.string(), d.string(), d.string(), d.string()
	c.Site, c.Top = d.states(), d.states()
	c.PageKeys = d.pageKeys()
	c.Spare = spareSite{Known: d.uint() == 1, Site: d.states(), PageKeys: d.pageKeys(), SiteWideKey: d.string(), Partial: d.strings()}
	n := d.uint()
	c.ents = section{int64(len(head)) + int64(lens[0]), int64(lens[1]), uint32(d.uint())}
	if d.err != nil || len(d.data) != 0 || n > lens[0] {
		return nil, broken
	}
	var ok bool
	if c.Versions, c.order, ok = readRecords(r, n, lens[0], h); !ok {
		return nil, broken
	}
	h.Write(meta)
	h.Write(footer)
	return &c, ""
}

// recordChunk is how many records number their file names afresh (see
// encoder.name): the records are decoded a chunk at a time, the chunks on
// every core at once, while the next are read.
const recordChunk = 1024

// readRecords reads n records, length bytes in all, from r, hashing them
// into h as they are read. It reports false if they do not decode.
func readRecords(r *bufio.Reader, n, length uint64, h io.Writer) (map[string]*cachedVersion, []string, bool) {
	type chunk struct {
		rels []string
		vs   []*cachedVersion
		ok   bool
	}
	chunks := make([]chunk, (n+recordChunk-1)/recordChunk)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	// A chunk's bytes are decoded into values of their own, so its buffer
	// is used again: growing one per chunk allocated ten times the records.
	free := make(chan []byte, runtime.GOMAXPROCS(0)+1)
	left := length
	for i := range chunks {
		count := min(recordChunk, n-uint64(i)*recordChunk)
		var data []byte // the chunk's records, each behind its length
		select {
		case data = <-free:
		default:
		}
		for range count {
			size, err := binary.ReadUvarint(r)
			at := len(data)
			data = binary.AppendUvarint(data, size)
			if err != nil || uint64(len(data)-at)+size > left {
				g.Wait()
				return nil, nil, false
			}
			left -= uint64(len(data)-at) + size
			at = len(data)
			data = slices.Grow(data, int(size))[:at+int(size)]
			if _, err := io.ReadFull(r, data[at:]); err != nil {
				g.Wait()
				return nil, nil, false
			}
		}
		h.Write(data)
		g.Go(func() error {
			c := &chunks[i]
			c.rels, c.vs, c.ok = decodeRecords(data, int(count))
			select {
			case free <- data[:0]:
			default:
			}
			return nil
		})
	}
	g.Wait()
	versions := make(map[string]*cachedVersion, int(n))
	order := make([]string, 0, int(n))
	for _, c := range chunks {
		if !c.ok {
			return nil, nil, false
		}
		for j, rel := range c.rels {
			versions[rel] = c.vs[j]
		}
		order = append(order, c.rels...)
	}
	return versions, order, left == 0
}

// entries loads every recorded version's catalog entry (cachedVersion.entry)
// from the entries section, once. An error leaves them unloaded: the build
// reads the specs instead.
func (c *cache) entries() error {
	if c == nil || c.loaded || c.file == "" {
		return nil
	}
	f, err := os.Open(c.file)
	if err != nil {
		return err
	}
	defer f.Close()
	data := make([]byte, c.ents.len)
	if _, err := f.ReadAt(data, c.ents.at); err != nil || crc32.Checksum(data, castagnoli) != c.ents.sum {
		return fmt.Errorf("%s: its entries changed since it was read", c.file)
	}
	d := &decoder{data: data}
	entries := make([][2][]byte, len(c.order))
	for i := range c.order {
		entries[i] = [2][]byte{d.bytes(), d.bytes()}
	}
	if d.err != nil || len(d.data) != 0 {
		return fmt.Errorf("%s: its entries do not decode", c.file)
	}
	for i, rel := range c.order {
		v := c.Versions[rel]
		v.entry, v.fields = entries[i][0], entries[i][1]
	}
	c.loaded = true
	return nil
}

// write writes c into the tree dir.
func (c *cache) write(dir string) error {
	return startRecords(dir, c.Versions, nil).finish(c.cacheBody)
}

// recordWriter writes a cache file in two parts: the records and entries,
// final once the version folders are written, in the background; then,
// once the catalogs and the site are made, the meta.
type recordWriter struct {
	file     string // where the record goes
	f        *os.File
	w        *bufio.Writer
	h        hash.Hash32 // what the trailer's checksum covers
	n        int
	recs     int64 // the records' length
	ents     int64 // the entries' length
	entsSum  uint32
	done     chan struct{}
	err      error
	finished bool
}

// startRecords starts writing the cache file of the tree dir with these
// records. They must not change until finish or abort returns. With
// entriesOf, a record whose versions are these, keyed the same, the
// entries are copied from its file as they are, under its digest, instead
// of from the records: a rebuild that only refreshes input states holds
// no entry in memory.
func startRecords(dir string, versions map[string]*cachedVersion, entriesOf *cache) *recordWriter {
	file := filepath.Join(dir, catalog.TreeMarker, CacheFile)
	rw := &recordWriter{file: file, h: newChecksum(), n: len(versions), done: make(chan struct{})}
	go func() {
		defer close(rw.done)
		rw.err = rw.body(versions, entriesOf)
	}()
	return rw
}

// body writes the header, the records and the entries, into a file beside
// the record's, which finish renames into place.
func (rw *recordWriter) body(versions map[string]*cachedVersion, entriesOf *cache) error {
	if err := os.MkdirAll(filepath.Dir(rw.file), 0o755); err != nil {
		return err
	}
	head, err := json.Marshal(cache{Format: FormatVersion, Layout: cacheLayout, Rules: schema.Rules()})
	if err != nil {
		return err
	}
	if rw.f, err = os.Create(rw.file + ".new"); err != nil {
		return err
	}
	rw.w = bufio.NewWriterSize(rw.f, 1<<16)
	rw.hashed(append(head, '\n'))
	rels := slices.Sorted(maps.Keys(versions))
	var e encoder
	for i, rel := range rels {
		if i%recordChunk == 0 {
			e.names = nil // each chunk numbers its names afresh
		}
		if err := e.record(rel, versions[rel]); err != nil {
			return err
		}
		size := binary.AppendUvarint(nil, uint64(len(e.buf)))
		rw.hashed(size)
		rw.hashed(e.buf)
		rw.recs += int64(len(size) + len(e.buf))
	}
	if entriesOf != nil {
		return rw.copyEntries(entriesOf)
	}
	ents := newChecksum()
	for _, rel := range rels {
		for _, part := range versions[rel].entryParts() {
			ents.Write(part)
			rw.w.Write(part)
			rw.ents += int64(len(part))
		}
	}
	rw.entsSum = ents.Sum32()
	return nil
}

// hashed writes part, which the trailer's checksum covers.
func (rw *recordWriter) hashed(part []byte) {
	rw.h.Write(part)
	rw.w.Write(part)
}

// copyEntries writes c's entries section as c's file has it, under the
// digest c recorded: entries damaged since are still found out when read.
func (rw *recordWriter) copyEntries(c *cache) error {
	f, err := os.Open(c.file)
	if err != nil {
		return err
	}
	defer f.Close()
	if n, err := io.Copy(rw.w, io.NewSectionReader(f, c.ents.at, c.ents.len)); err != nil || n != c.ents.len {
		return cmp.Or(err, fmt.Errorf("%s: its entries changed since it was read", c.file))
	}
	rw.ents, rw.entsSum = c.ents.len, c.ents.sum
	return nil
}

// finish writes the meta of m after the records, and the checksum.
func (rw *recordWriter) finish(m cacheBody) error {
	<-rw.done
	rw.finished = true
	if rw.f != nil {
		defer rw.f.Close()
	}
	if rw.err != nil {
		return rw.err
	}
	var meta encoder
	meta.string(m.SiteKey)
	meta.string(m.ScanKey)
	meta.string(m.TreeKey)
	meta.string(m.SiteWideKey)
	meta.string(m.KeyBase)
	meta.states(m.Site)
	meta.states(m.Top)
	meta.pageKeys(m.PageKeys)
	meta.uint(flags(m.Spare.Known))
	meta.states(m.Spare.Site)
	meta.pageKeys(m.Spare.PageKeys)
	meta.string(m.Spare.SiteWideKey)
	meta.strings(m.Spare.Partial)
	meta.uint(uint64(rw.n))
	meta.uint(uint64(rw.entsSum))
	footer := make([]byte, 0, cacheFooter)
	for _, n := range []int64{rw.recs, rw.ents, int64(len(meta.buf))} {
		footer = binary.BigEndian.AppendUint64(footer, uint64(n))
	}
	rw.hashed(meta.buf)
	rw.hashed(footer)
	fmt.Fprintf(rw.w, "%x\n", rw.h.Sum(nil))
	if err := rw.w.Flush(); err != nil {
		return err
	}
	if err := rw.f.Close(); err != nil {
		return err
	}
	return os.Rename(rw.file+".new", rw.file)
}

// abort waits for the records being written and leaves the file as it is
// (the tree it lies in is being removed); a finished writer is left alone.
func (rw *recordWriter) abort() {
	if rw == nil || rw.finished {
		return
	}
	<-rw.done
	if rw.f != nil {
		rw.f.Close()
	}
}

// checked returns c when its files were checked under the rules in force,
// else nil.
func (c *cache) checked() *cache {
	if c == nil || c.Rules != schema.Rules() {
		return nil
	}
	return c
}

// inputKey digests everything a version folder's outputs depend on: the
// output format, the signing key, the layout, and every input file's name
// and bytes.
func inputKey(signer, layout string, inputs []fileState) string {
	h := sha256.New()
	fmt.Fprintf(h, "market format %d\nsigner %s\nlayout %s\n", FormatVersion, signer, layout)
	for _, in := range inputs {
		fmt.Fprintf(h, "%q %s\n", in.Name, in.SHA256.String())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hashInputs states a version folder's files and, when hash is set, hashes
// them, reusing the hash a previous build recorded for a file whose state
// is unchanged. The folder is opened only when a file must be read. same
// says every file is as recorded: the states returned are the record's.
func hashInputs(root *os.Root, v *Version, prev *cachedVersion, hash bool) (states []fileState, same bool, err error) {
	names := v.inputs()
	if prev != nil && len(prev.Inputs) == len(names) {
		same = true
		for i, in := range prev.Inputs {
			same = same && in.Name == names[i] && in.sameFile(v.state(in.Name))
		}
		if same {
			return prev.Inputs, true, nil
		}
	}
	states = make([]fileState, 0, len(names))
	if slices.EqualFunc(v.states, names, func(st fileState, name string) bool { return st.Name == name }) {
		states = v.states[:0] // the folder's files are its inputs: fill in the scan's states
	}
	var d *dirHandle
	defer func() {
		if d != nil {
			d.Close()
		}
	}()
	for _, name := range names {
		st := v.state(name) // as the scan found it
		if st.Name == "" {
			return nil, false, fmt.Errorf("%s: not seen by the scan", name)
		}
		if old, ok := prev.input(name); ok && old.sameFile(st) {
			st.SHA256 = old.SHA256
		} else if hash {
			if d == nil {
				if d, err = openInputDir(root, v.rel); err != nil {
					return nil, false, err
				}
			}
			if st.SHA256, err = hashFile(d, name); err != nil {
				return nil, false, err
			}
		}
		states = append(states, st)
	}
	return states, false, nil
}

// input is the recorded state of the input file name.
func (c *cachedVersion) input(name string) (fileState, bool) {
	if c == nil {
		return fileState{}, false
	}
	for _, in := range c.Inputs {
		if in.Name == name {
			return in, true
		}
	}
	return fileState{}, false
}

func hashFile(d *dirHandle, name string) (digest, error) {
	f, err := d.open(name)
	if err != nil {
		return digest{}, err
	}
	defer f.Close()
	h := sha256.New()
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	if _, err := io.CopyBuffer(h, f, *buf); err != nil {
		return digest{}, err
	}
	return digest(h.Sum(nil)), nil
}

// inputs lists the version folder's files, sorted.
func (v *Version) inputs() []string {
	names := append([]string{SpecFile}, v.Resources...)
	if v.Icon != "" {
		names = append(names, v.Icon)
	}
	if v.License {
		names = append(names, LicenseFile)
	}
	slices.Sort(names)
	return names
}

// reuse links the outputs a previous build made for this version into the
// new tree, when every one of them is still on disk as it was written.
// It returns false, having linked nothing that matters, otherwise.
// It returns the new folder's state.
func reuse(prevDir, newDir string, prev *cachedVersion) (fileState, bool) {
	if !intactDir(prevDir, prev) {
		return fileState{}, false
	}
	if err := os.MkdirAll(newDir, 0o755); err != nil {
		return fileState{}, false
	}
	for _, out := range prev.Outputs {
		if err := os.Link(filepath.Join(prevDir, out.Name), filepath.Join(newDir, out.Name)); err != nil {
			return fileState{}, false
		}
	}
	info, err := os.Lstat(newDir)
	if err != nil {
		return fileState{}, false
	}
	return stateOf(".", info, true), true // as folderState states it
}

// intact reports whether every output a previous build recorded for a
// version is still on disk as it was written.
func intact(prevDir string, prev *cachedVersion) bool {
	for _, out := range prev.Outputs {
		info, err := os.Lstat(filepath.Join(prevDir, out.Name))
		if err != nil || !info.Mode().IsRegular() || !stateOf(out.Name, info, false).sameFile(out) {
			return false
		}
	}
	return true
}

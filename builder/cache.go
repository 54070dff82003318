package builder

import (
	"bufio"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/schema/problem"
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
}

// cacheBody is what the checksum covers.
type cacheBody struct {
	Versions map[string]*cachedVersion
	// SiteKey digests everything the browse site is rendered from
	// (build.siteKey); Site are its files as written, by path in the tree.
	SiteKey string
	Site    []fileState
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
}

// cacheLayout changes with the layout of cache.json itself.
const cacheLayout = 6

// cachedVersion records one version folder: the key of its inputs, the
// state of its input files (to skip rehashing what did not change), and the
// output files it produced as they were on disk when written (to refuse
// reuse of anything touched since).
type cachedVersion struct {
	Key     string
	Inputs  []fileState
	Outputs []fileState
	Files   catalog.Files
	// Warnings the scan gave the folder, its path left out (Problem.File
	// is relative to the folder).
	Warnings []problem.Problem
}

// fileState identifies the bytes of a file without reading it: if name,
// size, modification time, inode and (for inputs) change time are the same,
// the content is taken to be the same, as git's index does.
type fileState struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	MTime  int64  `json:"mtime"`
	CTime  int64  `json:"ctime,omitempty"`
	Inode  uint64 `json:"inode"`
	SHA256 string `json:"sha256,omitempty"`
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
// then a gob stream: the cacheMeta, then one cacheRecord per version, so
// that it is read a record at a time, never whole; then a trailer line,
// the SHA-256 (hex) of everything before it.
type cacheMeta struct {
	SiteKey, ScanKey, TreeKey, SiteWideKey string
	Site, Top                              []fileState
	Versions                               int
}

type cacheRecord struct {
	Rel     string
	Version *cachedVersion
}

// loadCache reads the previous tree's cache; any problem means no cache.
func loadCache(out string) (*cache, string) {
	f, err := os.Open(filepath.Join(out, catalog.TreeMarker, CacheFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ""
	}
	if err != nil {
		return nil, fmt.Sprintf("build cache ignored: %v", err)
	}
	defer f.Close()
	info, err := f.Stat()
	const trailer = 2*sha256.Size + 1
	if err != nil || info.Size() < trailer {
		return nil, "build cache ignored: its checksum does not match (edited or damaged)"
	}
	h := sha256.New()
	r := bufio.NewReaderSize(io.TeeReader(io.NewSectionReader(f, 0, info.Size()-trailer), h), 1<<16)
	c, why := readCache(r)
	io.Copy(io.Discard, r)
	want := make([]byte, trailer)
	if _, err := f.ReadAt(want, info.Size()-trailer); err != nil || string(want[:trailer-1]) != hex.EncodeToString(h.Sum(nil)) {
		return nil, "build cache ignored: its checksum does not match (edited or damaged)"
	}
	return c, why
}

// readCache decodes a cache's header and body.
func readCache(r *bufio.Reader) (*cache, string) {
	head, err := r.ReadBytes('\n')
	var c cache
	if err != nil || json.Unmarshal(head, &c) != nil {
		return nil, "build cache ignored: its header is not valid JSON"
	}
	if c.Format != FormatVersion || c.Layout != cacheLayout {
		return nil, fmt.Sprintf("build cache ignored: written by format %d.%d, this is format %d.%d", c.Format, c.Layout, FormatVersion, cacheLayout)
	}
	dec := gob.NewDecoder(r)
	var meta cacheMeta
	if err := dec.Decode(&meta); err != nil {
		return nil, "build cache ignored: its body does not decode"
	}
	c.SiteKey, c.ScanKey, c.TreeKey, c.SiteWideKey, c.Site, c.Top = meta.SiteKey, meta.ScanKey, meta.TreeKey, meta.SiteWideKey, meta.Site, meta.Top
	c.Versions = make(map[string]*cachedVersion, meta.Versions)
	for range meta.Versions {
		var rec cacheRecord
		if err := dec.Decode(&rec); err != nil || rec.Version == nil {
			return nil, "build cache ignored: its body does not decode"
		}
		c.Versions[rec.Rel] = rec.Version
	}
	return &c, ""
}

func (c *cache) write(dir string) error {
	file := filepath.Join(dir, catalog.TreeMarker, CacheFile)
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<16)
	c.Format, c.Layout, c.Rules = FormatVersion, cacheLayout, schema.Rules()
	head, err := json.Marshal(c)
	if err != nil {
		return err
	}
	w.Write(append(head, '\n'))
	enc := gob.NewEncoder(w)
	meta := cacheMeta{SiteKey: c.SiteKey, ScanKey: c.ScanKey, TreeKey: c.TreeKey, SiteWideKey: c.SiteWideKey, Site: c.Site, Top: c.Top, Versions: len(c.Versions)}
	if err := enc.Encode(meta); err != nil {
		return err
	}
	for _, rel := range slices.Sorted(maps.Keys(c.Versions)) {
		if err := enc.Encode(cacheRecord{rel, c.Versions[rel]}); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "%x\n", h.Sum(nil)); err != nil {
		return err
	}
	return f.Close()
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
		fmt.Fprintf(h, "%q %s\n", in.Name, in.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hashInputs states a version folder's files and, when hash is set, hashes
// them, reusing the hash a previous build recorded for a file whose state
// is unchanged. The folder is opened only when a file must be read.
func hashInputs(root *os.Root, v *Version, prev *cachedVersion, hash bool) ([]fileState, error) {
	names := v.inputs()
	states := make([]fileState, 0, len(names))
	var known map[string]fileState
	if prev != nil {
		known = make(map[string]fileState, len(prev.Inputs))
		for _, s := range prev.Inputs {
			known[s.Name] = s
		}
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
			return nil, fmt.Errorf("%s: not seen by the scan", name)
		}
		if old, ok := known[name]; ok && old.sameFile(st) {
			st.SHA256 = old.SHA256
		} else if hash {
			var err error
			if d == nil {
				if d, err = openInputDir(root, v.rel); err != nil {
					return nil, err
				}
			}
			if st.SHA256, err = hashFile(d, name); err != nil {
				return nil, err
			}
		}
		states = append(states, st)
	}
	return states, nil
}

func hashFile(d *dirHandle, name string) (string, error) {
	f, err := d.open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
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
func reuse(prevDir, newDir string, prev *cachedVersion) bool {
	if !intactDir(prevDir, prev) {
		return false
	}
	if err := os.MkdirAll(newDir, 0o755); err != nil {
		return false
	}
	for _, out := range prev.Outputs {
		if err := os.Link(filepath.Join(prevDir, out.Name), filepath.Join(newDir, out.Name)); err != nil {
			return false
		}
	}
	return true
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

// emptyDir removes everything inside dir.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

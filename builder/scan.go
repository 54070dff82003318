package builder

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/market-dev/market/builder/archive"
	"github.com/market-dev/market/builder/icon"
	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/schema/problem"
)

// Names a version folder may hold beside its resources.
const (
	SpecFile    = catalog.SpecName
	LicenseFile = "license.txt"
	ArchiveFile = catalog.ArchiveName
)

// IconFiles are the icon names a version folder may hold, at most one of them.
var IconFiles = []string{IconPNG, "icon.jpg", "icon.svg"}

// IconPNG is the icon every version with an icon serves: the CDAP UI
// requests no other.
const IconPNG = "icon.png"

// Version is one valid version folder, ready to build.
type Version struct {
	Name      string // package folder name
	Version   schema.Version
	Dir       string // path of the folder, as given (for messages)
	rel       string // name/version, inside the packages root
	Spec      *schema.Spec
	Icon      string      // "" or one of IconFiles
	License   bool        // license.txt present
	Resources []string    // every other file, sorted
	Size      int64       // bytes of all its files
	states    []fileState // each file as the scan stated it, in name order
	// source is the folder's own state when the scan listed it, if it is
	// settled (settled); zero if not.
	source fileState
	// known: the folder's files are all as the previous build recorded
	// them, so the scan read none of them; Spec is loaded later (build.specs).
	known    bool
	warnings []problem.Problem // the scan's warnings, File relative to Dir
}

// state is the file name as the scan stated it (zero if it has none): a
// slice searched in place, since a version folder holds a few files and a
// map per folder weighed 30 MB for 50,000 of them.
func (v *Version) state(name string) fileState {
	for _, st := range v.states {
		if st.Name == name {
			return st
		}
	}
	return fileState{}
}

// Tree is a validated packages directory.
type Tree struct {
	Dir      string
	Versions []*Version // by name, then version newest first
	Problems problem.List
}

// Scan reads and checks every version folder under dir, collecting all
// problems. Versions with errors are left out of the tree.
// Package folders are read by up to jobs goroutines (0: GOMAXPROCS).
func Scan(dir string, cfg *Config, now time.Time, jobs int) (*Tree, error) {
	return scanTree(dir, cfg, now, jobs, nil)
}

// scanTree is Scan, taking what the previous build recorded as checked:
// spec.json files with the same SHA-256 skip the structural checks
// (schema.ParseChecked), files in the same state the content checks.
func scanTree(dir string, cfg *Config, now time.Time, jobs int, prev *cache) (*Tree, error) {
	t := &Tree{Dir: dir}
	info, err := os.Lstat(filepath.Clean(dir)) // "packages/" would follow a link
	if err != nil {
		return nil, &ConfigError{dir, fmt.Errorf("cannot read the packages directory: %w", err)}
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		return nil, &ConfigError{filepath.Clean(dir), fmt.Errorf("the packages directory is a symbolic link; links are refused, never followed")}
	}
	if !info.IsDir() {
		return nil, &ConfigError{dir, fmt.Errorf("the packages directory is not a directory")}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, &ConfigError{dir, err}
	}
	defer root.Close()
	top, err := openInputDir(root, ".")
	if err != nil {
		return nil, &ConfigError{dir, err}
	}
	defer top.Close()
	s := scanner{root: root, top: top, dir: dir, cfg: cfg, now: now, started: time.Now(), probs: &t.Problems, prev: prev.checked(), key: scanKey(cfg)}
	var names []string
	for _, e := range s.folders(top, dir, "only package folders may sit in the packages directory") {
		names = append(names, e.name)
	}
	clash := s.caseCollisions(dir, names)
	// Each package folder is read on its own, into its own slots.
	found := make([][]*Version, len(names))
	probs := make([]problem.List, len(names))
	var g errgroup.Group
	g.SetLimit(cmp.Or(jobs, runtime.GOMAXPROCS(0)))
	for i, name := range names {
		if clash[name] {
			continue
		}
		if err := schema.CheckPackageName(name); err != nil {
			s.probs.Add(filepath.Join(dir, name), "", "%v", err)
			continue
		}
		g.Go(func() error {
			ps := s
			ps.probs = &probs[i]
			found[i] = ps.pkg(name)
			return nil
		})
	}
	g.Wait()
	var total int64
	for i := range names {
		t.Versions = append(t.Versions, found[i]...)
		t.Problems = append(t.Problems, probs[i]...)
		for _, v := range found[i] {
			total += v.Size
		}
	}
	if total > MaxTreeSize {
		t.Problems.Add(dir, "", "holds %d bytes, over the %d-byte limit (MaxTreeSize)", total, MaxTreeSize)
	}
	slices.SortFunc(t.Versions, func(a, b *Version) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), b.Version.Compare(a.Version))
	})
	t.Problems = t.Problems.Sort()
	return t, nil
}

type scanner struct {
	root *os.Root
	top  *dirHandle // the root folder, whose subfolders are opened relative to it
	dir  string
	cfg  *Config
	now  time.Time
	// started is when the scan began, by the clock file times come from
	// (now may be set otherwise, for a reproducible build).
	started time.Time
	probs   *problem.List
	prev    *cache // the previous build's record, when its rules are these; read-only
	key     string // scanKey of the configuration
}

// entries lists the folder d, reporting symlinks and anything that is
// neither a regular file nor a directory. Each entry is stated once,
// relative to the folder.
func (s *scanner) entries(d *dirHandle, shown string) []listed {
	names, err := d.names()
	if err != nil {
		s.probs.Add(shown, "", "cannot read: %v", err)
		return nil
	}
	slices.Sort(names)
	var ok []listed
	for _, n := range names {
		p := func() string { return filepath.Join(shown, n) } // joined only for a problem
		st, err := d.stat(n)
		t := fileType(st.Mode)
		switch {
		case err != nil:
			s.probs.Add(p(), "", "cannot read: %v", err)
		case t == fs.ModeSymlink:
			s.probs.Add(p(), "", "is a symbolic link; links are refused, never followed")
		case !t.IsDir() && !t.IsRegular():
			s.probs.Add(p(), "", "is not a regular file or folder (%v)", t)
		case !utf8.ValidString(n):
			s.probs.Add(p(), "", "name is not valid UTF-8")
		default:
			ok = append(ok, listed{n, st})
		}
	}
	return ok
}

// fileType is the type bits of a stat mode as fs.FileMode.
func fileType(mode uint32) fs.FileMode {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return 0
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFLNK:
		return fs.ModeSymlink
	case unix.S_IFIFO:
		return fs.ModeNamedPipe
	case unix.S_IFSOCK:
		return fs.ModeSocket
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return fs.ModeDevice
	}
	return fs.ModeIrregular
}

// listed is an entry of a listed folder, as stated relative to it.
type listed struct {
	name string
	st   unix.Stat_t
}

func (e *listed) Name() string { return e.name }
func (e *listed) IsDir() bool  { return e.st.Mode&unix.S_IFMT == unix.S_IFDIR }

// folders returns the subfolders of d, reporting any file as stray.
func (s *scanner) folders(d *dirHandle, shown, why string) []listed {
	var dirs []listed
	for _, e := range s.entries(d, shown) {
		if !e.IsDir() {
			s.probs.Add(filepath.Join(shown, e.Name()), "", "stray file: %s", why)
			continue
		}
		dirs = append(dirs, e)
	}
	return dirs
}

// caseCollisions reports names in one folder that differ only in case (they
// collide on case-insensitive file systems and CDNs) and returns them all.
func (s *scanner) caseCollisions(shown string, names []string) map[string]bool {
	seen := map[string]string{}
	clash := map[string]bool{}
	for _, n := range names {
		k := strings.ToLower(n)
		if other, ok := seen[k]; ok {
			s.probs.Add(filepath.Join(shown, n), "", "name differs from %q only in case", other)
			clash[n], clash[other] = true, true
			continue
		}
		seen[k] = n
	}
	return clash
}

func (s *scanner) pkg(name string) []*Version {
	shown := filepath.Join(s.dir, name)
	var vs []*Version
	seen := map[string]string{}
	d, err := s.top.openDir(name)
	if err != nil {
		s.probs.Add(shown, "", "cannot read: %v", err)
		return nil
	}
	defer d.Close()
	dirs := s.folders(d, shown, "only version folders may sit in a package folder")
	if len(dirs) == 0 {
		s.probs.Add(shown, "", "package folder has no version folders")
	}
	for _, dir := range dirs {
		vname := dir.name
		vshown := filepath.Join(shown, vname)
		ver, err := schema.ParseVersion(vname)
		if err != nil {
			s.probs.Add(vshown, "", "version folder: %v", err)
			continue
		}
		key := ver.Semver().String()
		if other, ok := seen[key]; ok {
			s.probs.Add(vshown, "", "version %s is the same version as %s", vname, other)
			continue
		}
		seen[key] = vname
		before := len(*s.probs)
		if v := s.version(d, name, &dir, ver, vshown); v != nil && (*s.probs)[before:].Errors() == 0 {
			if !v.known {
				v.warnings = relativeTo(v.Dir, (*s.probs)[before:])
			}
			vs = append(vs, v)
		}
	}
	return vs
}

// version scans the version folder dir of package name, inside the package
// folder pkg.
func (s *scanner) version(pkg *dirHandle, name string, dir *listed, ver schema.Version, shown string) *Version {
	rel := path.Join(name, ver.String())
	v := &Version{Name: name, Version: ver, Dir: shown, rel: rel}
	if s.unlisted(pkg, dir, v) {
		return v
	}
	d, err := pkg.openDir(dir.name)
	if err != nil {
		s.probs.Add(shown, "", "cannot read: %v", err)
		return nil
	}
	defer d.Close()
	if st, err := d.folderState(); err == nil && settled(st, s.started) {
		v.source = st // stated before listing: a change in between is seen next time
	}
	names, err := d.names()
	if err != nil {
		s.probs.Add(shown, "", "cannot read: %v", err)
		return nil
	}
	slices.Sort(names)
	files := s.versionFiles(v, d, names)
	if !s.versionLimits(v, files) {
		return nil
	}
	if s.knownVersion(v, files) {
		return v
	}
	specPath := filepath.Join(shown, SpecFile)
	if !slices.Contains(files, SpecFile) {
		if len(names) == 0 {
			s.probs.Add(shown, "", "empty version folder: it needs a spec.json")
		} else {
			s.probs.Add(specPath, "", "missing: every version folder needs a spec.json")
		}
		return nil
	}
	data, err := s.readSpec(d, specPath)
	if err != nil {
		return nil
	}
	parse := schema.Parse
	if s.specChecked(v.rel, sha256.Sum256(data)) {
		parse = schema.ParseChecked
	}
	spec, probs := parse(specPath, data, s.now)
	*s.probs = append(*s.probs, probs...)
	if spec == nil {
		return nil
	}
	v.Spec = spec
	named := s.checkSpec(v, files, specPath)
	s.sortFiles(v, d, files, named)
	if v.Icon == "" {
		s.probs.Warn(specPath, "", "the version has no icon (icon.png, icon.jpg or icon.svg): the CDAP UI shows the label's first letter instead")
	}
	s.checkContent(v, d, slices.DeleteFunc(files, func(f string) bool { return f == SpecFile }))
	return v
}

// specChecked reports whether the previous build recorded the version
// folder rel with a spec.json of these bytes (their SHA-256): under the
// same rules they need not be checked for structure again.
func (s *scanner) specChecked(rel string, sum digest) bool {
	if s.prev == nil || s.prev.Versions[rel] == nil {
		return false
	}
	for _, in := range s.prev.Versions[rel].Inputs {
		if in.Name == SpecFile {
			return in.SHA256 == sum
		}
	}
	return false
}

// knownVersion takes a version folder whose files are all as the previous
// build recorded them, under the same scan key, for what it was: its files
// sorted by name alone, its recorded warnings replayed, nothing read.
func (s *scanner) knownVersion(v *Version, files []string) bool {
	cv := s.record(v.rel)
	if cv == nil || len(cv.Inputs) != len(files) {
		return false
	}
	for _, in := range cv.Inputs {
		if !in.sameFile(v.state(in.Name)) {
			return false
		}
	}
	s.asRecorded(v, cv, files)
	return true
}

// record is what the previous build recorded of the version folder rel,
// when it scanned under the same rules; else nil.
func (s *scanner) record(rel string) *cachedVersion {
	if s.prev == nil || s.prev.ScanKey != s.key {
		return nil
	}
	return s.prev.Versions[rel]
}

// unlisted is knownVersion for a version folder whose own state is as the
// previous build recorded it: no file was added, removed or renamed in it
// since, so it holds the recorded files and needs no listing, only a stat
// of each, relative to the package folder pkg. The folder dir is as the
// package folder's listing stated it.
// It reports false, having recorded nothing, when the folder must be
// listed and read.
func (s *scanner) unlisted(pkg *dirHandle, dir *listed, v *Version) bool {
	cv := s.record(v.rel)
	if cv == nil || cv.Source.Inode == 0 || !statState(".", &dir.st).sameFile(cv.Source) {
		return false
	}
	files := make([]string, len(cv.Inputs))
	var size int64
	for i, in := range cv.Inputs {
		st, err := pkg.statIn(dir.name, in.Name)
		if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink > 1 || st.Size > MaxFileSize ||
			!statState(in.Name, &st).sameFile(in) {
			return false
		}
		files[i], size = in.Name, size+st.Size
	}
	if size > MaxVersionSize || len(files) > archive.MaxFiles {
		return false // the listing reports it
	}
	v.Size, v.source = size, cv.Source
	s.asRecorded(v, cv, files)
	return true
}

// settled reports whether a folder's state, taken by a scan that started
// at started, can tell a later change from it: its times are a second
// older than the scan, where file times (coarse, of the kernel's clock
// tick) of any later change must differ. A folder changed in the very
// tick the scan saw it could otherwise keep its recorded times. A file
// system that keeps whole seconds only (FAT keeps two) is never trusted:
// a time on the second, to the nanosecond, is taken for one.
func settled(st fileState, started time.Time) bool {
	limit := started.Add(-time.Second).UnixNano()
	return st.MTime < limit && st.CTime < limit && st.MTime%int64(time.Second) != 0
}

// asRecorded takes v, holding files, as the previous build recorded it
// (cv): its files sorted by name alone, its recorded warnings replayed.
func (s *scanner) asRecorded(v *Version, cv *cachedVersion, files []string) {
	for _, f := range files {
		switch {
		case f == SpecFile:
		case f == LicenseFile:
			v.License = true
		case slices.Contains(IconFiles, f):
			v.Icon = f
		default:
			v.Resources = append(v.Resources, f)
		}
	}
	v.known, v.warnings = true, cv.Warnings
	v.states = cv.Inputs // the same states, held once
	for _, w := range cv.Warnings {
		w.File = filepath.Join(v.Dir, w.File)
		*s.probs = append(*s.probs, w)
	}
}

// relativeTo returns the warnings among probs, their files made relative to dir.
func relativeTo(dir string, probs problem.List) []problem.Problem {
	var out []problem.Problem
	for _, p := range probs {
		if rel, err := filepath.Rel(dir, p.File); err == nil && p.Severity == problem.Warning {
			p.File = rel
			out = append(out, p)
		}
	}
	return out
}

// scanKey digests what the scan's verdict on a version folder depends on
// besides its files: the format, the spec rules, and market.yaml's
// categories, icon rules and resource layout.
func scanKey(cfg *Config) string {
	h := sha256.New()
	fmt.Fprintf(h, "format %d\nrules %s\n", FormatVersion, schema.Rules())
	if cfg != nil {
		fmt.Fprintf(h, "categories %q\nicons %+v\nresources %q\n", cfg.Categories, cfg.Icons, cfg.Resources)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// versionFiles returns the names of a version folder's files, refusing
// links, subfolders and anything but regular files, the names the build
// writes, and unsafe names. Each entry is stated once, relative to the
// folder (ReadDir would state it again on file systems without d_type).
func (s *scanner) versionFiles(v *Version, d *dirHandle, names []string) []string {
	files := make([]string, 0, len(names))
	v.states = make([]fileState, 0, len(names))
	for _, n := range names {
		p := func() string { return filepath.Join(v.Dir, n) } // joined only for a problem
		st, err := d.stat(n)
		switch {
		case err != nil:
			s.probs.Add(p(), "", "cannot read: %v", err)
		case st.Mode&unix.S_IFMT == unix.S_IFLNK:
			s.probs.Add(p(), "", "is a symbolic link; links are refused, never followed")
		case st.Mode&unix.S_IFMT == unix.S_IFDIR:
			s.probs.Add(p(), "", "subfolders are not allowed: resources are flat files in the version folder")
		case st.Mode&unix.S_IFMT != unix.S_IFREG:
			s.probs.Add(p(), "", "is not a regular file or folder (%v)", fileType(st.Mode))
		case !utf8.ValidString(n):
			s.probs.Add(p(), "", "name is not valid UTF-8")
		case !s.checkFile(&st, n, v):
		case n == ArchiveFile:
			s.probs.Add(p(), "", "%s is written by the build; remove it from the source folder", ArchiveFile)
		case strings.HasSuffix(strings.ToLower(n), ".asc"):
			s.probs.Add(p(), "", "signatures (.asc) are written by the build; remove this stale one from the source folder")
		case schema.CheckFileName(n) != "":
			s.probs.Add(p(), "", "file name %s", schema.CheckFileName(n))
		default:
			files = append(files, n)
		}
	}
	return files
}

// versionLimits reports whether a version folder keeps to the size and
// file-count limits and has no names that differ only in case.
func (s *scanner) versionLimits(v *Version, files []string) bool {
	if len(s.caseCollisions(v.Dir, files)) > 0 {
		return false
	}
	if v.Size > MaxVersionSize {
		s.probs.Add(v.Dir, "", "holds %d bytes, over the %d-byte limit (MaxVersionSize)", v.Size, MaxVersionSize)
		return false
	}
	if len(files) > archive.MaxFiles {
		s.probs.Add(v.Dir, "", "holds %d files, over the %d-file limit (archive.MaxFiles)", len(files), archive.MaxFiles)
		return false
	}
	return true
}

// checkSpec checks what spec.json says against the folder and the
// configuration, and returns the files it names.
func (s *scanner) checkSpec(v *Version, files []string, specPath string) map[string]bool {
	spec := v.Spec
	named := map[string]bool{}
	for _, ref := range spec.Files() {
		named[ref.Name] = true
		if schema.CheckFileName(ref.Name) == "" && !slices.Contains(files, ref.Name) {
			s.probs.Add(specPath, ref.Pointer, "names file %q, which is not in the version folder", ref.Name)
		}
	}
	s.checkLicense(spec, files, specPath)
	s.archiveOnly(spec, specPath)
	named[spec.License] = spec.License != ""
	for _, ref := range spec.VersionArguments() {
		if ref.Name != v.Version.String() {
			s.probs.Warn(specPath, ref.Pointer, "version argument %q differs from the folder's version %q", ref.Name, v.Version.String())
		}
	}
	for i, c := range spec.Categories {
		if len(s.cfg.Categories) > 0 && !slices.Contains(s.cfg.Categories, c) {
			s.probs.Add(specPath, fmt.Sprintf("/categories/%d", i), "category %q is not one of the categories in %s (%s)", c, ConfigFile, strings.Join(s.cfg.Categories, ", "))
		}
	}
	return named
}

// sortFiles sorts a version's files into its icon, licence and resources,
// checking the icon and warning about files no action names.
func (s *scanner) sortFiles(v *Version, d *dirHandle, files []string, named map[string]bool) {
	for _, f := range files {
		shown := filepath.Join(v.Dir, f)
		switch {
		case f == SpecFile:
		case f == LicenseFile:
			v.License = true
		case slices.Contains(IconFiles, f):
			if v.Icon != "" {
				s.probs.Add(shown, "", "a version folder holds at most one icon; %s is there too", v.Icon)
				continue
			}
			v.Icon = f
			s.versionIcon(v, d, f, shown)
		case activeContent(f):
			s.probs.Add(shown, "", "a browser runs this kind of file (%s) on the marketplace's own origin when it is opened; put it in a zip or use another format", path.Ext(f))
		default:
			v.Resources = append(v.Resources, f)
			if !named[f] {
				s.probs.Warn(shown, "", "no action names this file; it is published all the same")
			}
		}
		if r := nonASCII(f); r != "" {
			s.probs.Warn(shown, "", "file name has non-ASCII characters (%s): a look-alike of another name is possible; prefer ASCII", r)
		}
	}
}

// versionIcon checks a version's icon and, unless the previous build saw
// it in this state, that it converts to the icon.png the CDAP UI requests
// (re-encoded from a JPEG, rasterized from an SVG).
func (s *scanner) versionIcon(v *Version, d *dirHandle, f, shown string) {
	if v.state(f).Size > MaxIconSize {
		s.probs.Add(shown, "", "is over the %d-byte limit (MaxIconSize)", MaxIconSize)
		return
	}
	data, err := d.readFile(f, MaxIconSize)
	if err != nil {
		s.probs.Add(shown, "", "cannot read: %v", err)
		return
	}
	if s.lfsPointer(data, shown) {
		return
	}
	if s.checkIcon(data, f, shown) == "" || s.known(v, f) {
		return
	}
	if _, err := iconPNG(f, data, s.cfg); err != nil {
		s.probs.Add(shown, "", "cannot be made into the icon.png the CDAP UI requests (the only icon it reads): %s; commit an icon.png instead", strings.TrimPrefix(err.Error(), f+": "))
	}
}

// archiveOnly warns, under resources: archive, about each action that
// names a file: the CDAP UI installs it from the loose file (a plugin's jar
// and config, a pipeline's config), which that layout does not publish.
func (s *scanner) archiveOnly(spec *schema.Spec, specPath string) {
	if s.cfg == nil || s.cfg.Resources != ResourcesArchive {
		return
	}
	done := map[string]bool{}
	for _, ref := range spec.Files() {
		action, _, _ := strings.Cut(strings.TrimPrefix(ref.Pointer, "/actions/"), "/")
		if done[action] {
			continue
		}
		done[action] = true
		s.probs.Warn(specPath, "/actions/"+action, "%s has resources: archive, so %q is served only inside archive.zip: the CDAP UI requests the loose file and cannot install this action (use resources: both)", ConfigFile, ref.Name)
	}
}

// checkLicense checks that spec.json's license names a file of the version
// folder: the CDAP UI's deploy wizard fetches <version>/<license> and, when
// that fails, waits forever.
func (s *scanner) checkLicense(spec *schema.Spec, files []string, specPath string) {
	if spec.License == "" || slices.Contains(files, spec.License) {
		return
	}
	hint := `"licenseInfo": {"name": ..., "url": ...}`
	if spec.LicenseInfo == nil {
		hint = fmt.Sprintf(`"licenseInfo": {"name": %q, "url": ...}`, spec.License)
	}
	s.probs.Add(specPath, "/license", "names file %q, which is not in the version folder: license is the file the CDAP UI fetches and shows (e.g. %s, committed beside spec.json); a licence name belongs in %s", spec.License, LicenseFile, hint)
}

var errTooBig = errors.New("over a limit")

// hardLinked refuses a file with more than one name: another name may lie
// outside the repository, where a link-following copy would publish it.
func hardLinked(info fs.FileInfo, shown string, probs *problem.List) bool {
	sys, ok := info.Sys().(*syscall.Stat_t)
	if !ok || sys.Nlink <= 1 {
		return false
	}
	probs.Add(shown, "", "is hard-linked (%d names); market cannot tell whether another name lies outside the repository: replace it with a copy", sys.Nlink)
	return true
}

// checkFile refuses a file over MaxFileSize or with more than one name
// (hardLinked), and records its size and state in v (the build compares
// the state with its cache).
func (s *scanner) checkFile(st *unix.Stat_t, name string, v *Version) bool {
	if st.Nlink > 1 {
		s.probs.Add(filepath.Join(v.Dir, name), "", "is hard-linked (%d names); market cannot tell whether another name lies outside the repository: replace it with a copy", st.Nlink)
		return false
	}
	if st.Size > MaxFileSize {
		s.probs.Add(filepath.Join(v.Dir, name), "", "is %d bytes, over the %d-byte limit (MaxFileSize)", st.Size, MaxFileSize)
		return false
	}
	v.Size += st.Size
	v.states = append(v.states, statState(name, st))
	return true
}

// activeContent reports whether a browser renders a file of this name as a
// page that can run scripts (HTML, XHTML, SVG), whatever it holds: served
// loose beside the site, it would run with the marketplace's origin.
func activeContent(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm", ".shtml", ".xhtml", ".xht", ".svg", ".svgz", ".mht", ".mhtml":
		return true
	}
	return false
}

// nonASCII lists the non-ASCII characters of a name, or "".
func nonASCII(name string) string {
	var out []string
	for _, r := range name {
		if r > unicode.MaxASCII {
			out = append(out, fmt.Sprintf("%q U+%04X", r, r))
		}
	}
	return strings.Join(out, ", ")
}

func (s *scanner) readSpec(d *dirHandle, shown string) ([]byte, error) {
	f, err := d.open(SpecFile)
	if err != nil {
		s.probs.Add(shown, "", "cannot read: %v", err)
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, schema.MaxSpecSize+1))
	if err != nil {
		s.probs.Add(shown, "", "cannot read: %v", err)
		return nil, err
	}
	if len(data) > schema.MaxSpecSize {
		size := int64(len(data))
		if st, err := f.state(SpecFile); err == nil {
			size = st.Size
		}
		s.probs.Add(shown, "", "is %d bytes, over the %d-byte limit (MaxSpecSize)", size, schema.MaxSpecSize)
		return nil, errTooBig
	}
	return data, nil
}

// checkCategories checks the repository's categories/<category>/icon.png,
// which the build publishes: no links (the folder, a category, an icon), no
// hard links, at most MaxIconSize, a PNG (or a JPEG, warned).
func checkCategories(repo string) problem.List {
	var probs problem.List
	dir := filepath.Join(repo, "categories")
	info, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		probs.Add(dir, "", "cannot read: %v", err)
		return probs
	case info.Mode()&fs.ModeSymlink != 0:
		probs.Add(dir, "", "is a symbolic link; links are refused, never followed")
		return probs
	case !info.IsDir():
		return nil
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		probs.Add(dir, "", "cannot read: %v", err)
		return probs
	}
	defer root.Close()
	top, err := openInputDir(root, ".")
	if err != nil {
		probs.Add(dir, "", "cannot read: %v", err)
		return probs
	}
	defer top.Close()
	s := scanner{root: root, probs: &probs}
	for _, c := range s.entries(top, dir) {
		if !c.IsDir() {
			continue
		}
		icon := path.Join(c.Name(), "icon.png")
		shown := filepath.Join(dir, c.Name(), "icon.png")
		info, err := root.Lstat(icon)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			probs.Add(shown, "", "cannot read: %v", err)
			continue
		case info.Mode()&fs.ModeSymlink != 0:
			probs.Add(shown, "", "is a symbolic link; links are refused, never followed")
			continue
		case !info.Mode().IsRegular():
			probs.Add(shown, "", "is not a regular file (%v)", info.Mode().Type())
			continue
		}
		if hardLinked(info, shown, &probs) {
			continue
		}
		if info.Size() > MaxIconSize {
			probs.Add(shown, "", "is over the %d-byte limit (MaxIconSize)", MaxIconSize)
			continue
		}
		data, err := root.ReadFile(icon)
		if err != nil {
			probs.Add(shown, "", "cannot read: %v", err)
			continue
		}
		if got := s.checkIcon(data, icon, shown); got == "svg" || got == "jpg" {
			probs.Add(shown, "", "is a%s; category icons are published as they are, and the CDAP UI wants PNG bytes: use a PNG", map[string]string{"svg": "n SVG", "jpg": " JPEG"}[got])
		}
	}
	return probs
}

// iconPNG is the icon.png served for an icon file: the file itself when it
// is a PNG, else its conversion, rasterized (an SVG) at icon.DefaultSize
// within market.yaml's icon rules.
func iconPNG(name string, data []byte, cfg *Config) ([]byte, error) {
	size := icon.DefaultSize
	if cfg != nil {
		if r := cfg.Icons; r.MaxSize > 0 {
			size = min(size, r.MaxSize)
		}
		if r := cfg.Icons; r.MinSize > 0 {
			size = max(size, r.MinSize)
		}
	}
	return icon.PNG(name, data, size)
}

// checkIcon checks an icon and returns the format its bytes are in (png,
// jpg, svg, or "" when none or unreadable). It warns when that is not the
// format its name says (the CDAP Hub holds dozens of JPEGs named icon.png).
func (s *scanner) checkIcon(data []byte, rel, shown string) string {
	got := sniffImage(data[:min(len(data), 512)])
	want := strings.TrimPrefix(path.Ext(rel), ".")
	switch {
	case got == "":
		s.probs.Add(shown, "", "is not a PNG, JPEG or SVG image")
	case got != want:
		what := "it is published as it is, and icon.png is made from its bytes"
		if want == "png" {
			what = "icon.png is served re-encoded as a PNG"
		}
		s.probs.Warn(shown, "", "is a %s image named .%s; %s", strings.ToUpper(got), want, what)
	}
	if got == "svg" {
		if err := checkSVG(data); err != nil {
			s.probs.Add(shown, "", "SVG refused: %v (an icon is shown on the marketplace's own origin)", err)
		}
	}
	if s.cfg != nil && got != "" {
		s.iconRules(data, got, shown)
	}
	return got
}

// iconRules checks an icon against market.yaml's icons: rules.
func (s *scanner) iconRules(data []byte, format, shown string) {
	r := s.cfg.Icons
	if r.MaxBytes > 0 && int64(len(data)) > r.MaxBytes {
		s.probs.Add(shown, "", "is %d bytes; %s icons: maxBytes is %d", len(data), ConfigFile, r.MaxBytes)
	}
	if !r.Square && r.MinSize == 0 && r.MaxSize == 0 {
		return
	}
	w, h, err := iconSize(data, format)
	if err != nil {
		s.probs.Add(shown, "", "cannot tell its size: %v", err)
		return
	}
	var wants []string
	if r.Square && w != h {
		wants = append(wants, "square")
	}
	if r.MinSize > 0 && min(w, h) < r.MinSize {
		wants = append(wants, fmt.Sprintf("at least %d pixels a side", r.MinSize))
	}
	if r.MaxSize > 0 && max(w, h) > r.MaxSize {
		wants = append(wants, fmt.Sprintf("at most %d pixels a side", r.MaxSize))
	}
	if len(wants) > 0 {
		s.probs.Add(shown, "", "is %dx%d pixels; %s icons: wants %s", w, h, ConfigFile, strings.Join(wants, ", "))
	}
}

// sniffImage names the image format of the leading bytes: png, jpg, svg or "".
func sniffImage(head []byte) string {
	switch http.DetectContentType(head) {
	case "image/png":
		return "png"
	case "image/jpeg":
		return "jpg"
	}
	t := bytes.TrimSpace(bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF")))
	if bytes.HasPrefix(t, []byte("<svg")) || (bytes.HasPrefix(t, []byte("<?xml")) || bytes.HasPrefix(t, []byte("<!--"))) && bytes.Contains(head, []byte("<svg")) {
		return "svg"
	}
	return ""
}

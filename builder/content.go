package builder

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/market-dev/market/builder/archive"
	"github.com/market-dev/market/schema"
)

// lfsPointer starts every Git LFS pointer file. A checkout made without the
// LFS objects (no `git lfs pull`, actions/checkout without lfs: true) holds
// these in place of the files; published, a CDAP cluster would install a
// hundred-odd bytes of text as a plugin.
const lfsPointer = "version https://git-lfs.github.com/spec/"

// maxLFSPointer is the size above which a file cannot be a pointer: the
// Git LFS specification caps pointer files at 1024 bytes.
const maxLFSPointer = 1024

// MaxConfigSize is the largest action config a build parses as JSON.
const MaxConfigSize = 64 << 20

// checkContent checks what the bytes of a version's files must be, as the
// CDAP UI and backend will use them: no Git LFS pointer in place of a file,
// a .jar or .zip resource that opens as a zip archive with safe entry
// names, and an action's config that is a JSON object. A file whose state
// the previous build recorded (and so checked) is not read again; a small
// one (which alone can be a pointer) is read once for all the checks. The
// icon is checked where it is read (versionIcon).
func (s *scanner) checkContent(v *Version, d *dirHandle, files []string) {
	configs := map[string]string{}
	for _, ref := range configRefs(v.Spec) {
		configs[ref.Name] = ref.Pointer
	}
	for _, f := range files {
		if f == v.Icon || s.known(v, f) {
			continue
		}
		shown := filepath.Join(v.Dir, f)
		var data []byte // the whole file when small
		if size := v.state(f).Size; size <= maxLFSPointer {
			var err error
			if data, err = d.readFile(f, maxLFSPointer); err != nil {
				s.probs.Add(shown, "", "cannot read: %v", err)
				continue
			}
			if s.lfsPointer(data, shown) {
				continue
			}
		}
		if ext := strings.ToLower(path.Ext(f)); ext == ".jar" || ext == ".zip" {
			if err := checkZip(d, f, v.state(f).Size, data); err != nil {
				s.probs.Add(shown, "", "is not a usable %s archive: %v (CDAP opens it as a zip)", ext, err)
			}
		}
		if ptr, ok := configs[f]; ok {
			if err := checkConfig(d, f, data); err != nil {
				s.probs.Add(shown, "", "is not a JSON object: %v (the action at spec.json#%s installs it as its config)", err, ptr)
			}
		}
	}
}

// known reports whether the previous build recorded file f of v in the
// state it has now: its content passed these checks then.
func (s *scanner) known(v *Version, f string) bool {
	if s.prev == nil {
		return false
	}
	cv := s.prev.Versions[v.rel]
	if cv == nil {
		return false
	}
	for _, in := range cv.Inputs {
		if in.Name == f {
			return in.sameFile(v.state(f))
		}
	}
	return false
}

// lfsPointer reports (as an error) a file whose bytes are a Git LFS pointer.
func (s *scanner) lfsPointer(data []byte, shown string) bool {
	if len(data) > maxLFSPointer || !bytes.HasPrefix(data, []byte(lfsPointer)) {
		return false
	}
	s.probs.Add(shown, "", "is a Git LFS pointer, not the file: run `git lfs pull`, or check out with `lfs: true` (actions/checkout)")
	return true
}

// checkZip opens name (its bytes, when already read) as a zip archive: its
// central directory must read and every entry name must be one a consumer
// can extract (archive.CheckName).
func checkZip(d *dirHandle, name string, size int64, data []byte) error {
	var r io.ReaderAt = bytes.NewReader(data)
	if data == nil {
		f, err := d.open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return err
	}
	for _, e := range zr.File {
		name := strings.TrimSuffix(e.Name, "/") // folder entries are fine
		if err := archive.CheckName(name); err != nil {
			return fmt.Errorf("unsafe entry: %v", err)
		}
	}
	return nil
}

// checkConfig parses name (its bytes, when already read) as one JSON object.
func checkConfig(d *dirHandle, name string, data []byte) error {
	if data == nil {
		var err error
		if data, err = d.readFile(name, MaxConfigSize); err != nil {
			return fmt.Errorf("unreadable (at most %d bytes, MaxConfigSize): %v", MaxConfigSize, err)
		}
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return err
	}
	if obj == nil {
		return fmt.Errorf("null")
	}
	return nil
}

// configRefs are the files an action installs as its config (a plugin's
// or driver's properties, a pipeline's definition): JSON objects all.
func configRefs(s *schema.Spec) []schema.FileRef {
	var refs []schema.FileRef
	for i, a := range s.Actions {
		for j, arg := range a.Arguments {
			var name string
			if arg.Name == "config" && json.Unmarshal(arg.Value, &name) == nil {
				refs = append(refs, schema.FileRef{Name: name, Pointer: fmt.Sprintf("/actions/%d/arguments/%d/value", i, j)})
			}
		}
	}
	return refs
}

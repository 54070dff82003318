// Package archive writes deterministic zip files: the same files give the
// same bytes on any machine, whatever their mtimes, modes or order on disk.
package archive

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/market-dev/market/schema"
)

// MaxFiles is the most entries one archive may hold.
const MaxFiles = 10000

// SampleSize is how many leading bytes of a file decide its method: a file
// whose first SampleSize bytes deflate to more than StoreRatio of their size
// is stored, not deflated (jars, images and other compressed data).
const SampleSize = 64 << 10

// StoreRatio is the compressed/raw ratio of the sample above which a file is stored.
const StoreRatio = 0.9

// File is one entry to put in an archive.
type File struct {
	Name string                        // flat name inside the archive
	Open func() (io.ReadCloser, error) // its bytes
}

// CheckName reports why name cannot be an archive entry, or nil. A name
// is slash-separated elements, each a file name schema.CheckFileName
// accepts (no "", ".", "..", backslash, control or format character,
// invalid UTF-8, over schema.MaxFileNameLength), with no drive letter: the
// rules the client's extraction enforces, so whatever Create writes, a
// consumer can extract.
func CheckName(name string) error {
	if name == "" {
		return fmt.Errorf("empty file name")
	}
	if len(name) >= 2 && name[1] == ':' {
		return fmt.Errorf("file name %q has a drive letter", name)
	}
	for _, elem := range strings.Split(name, "/") {
		if msg := schema.CheckFileName(elem); msg != "" {
			return fmt.Errorf("file name %q: element %q %s", name, elem, msg)
		}
	}
	return nil
}

// Create writes a zip of files to w, entries sorted by name. Each entry
// carries its name, a method chosen from its bytes, a fixed time
// (1980-01-01 00:00) and mode 0644: nothing from the disk it came from.
// Names are checked, including for collisions that differ only in case.
func Create(w io.Writer, files []File) error {
	if len(files) > MaxFiles {
		return fmt.Errorf("%d files, over the %d-file limit (archive.MaxFiles)", len(files), MaxFiles)
	}
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	folded := map[string]string{}  // folded name -> the file of that name
	folders := map[string]string{} // folded folder -> a file inside it
	for _, f := range sorted {
		if err := CheckName(f.Name); err != nil {
			return err
		}
		key := strings.ToLower(f.Name)
		if other, ok := folded[key]; ok {
			return fmt.Errorf("file names %q and %q differ only in case", other, f.Name)
		}
		if inside, ok := folders[key]; ok {
			return fmt.Errorf("%q is a file, and %q needs it to be a folder", f.Name, inside)
		}
		folded[key] = f.Name
		for d := path.Dir(key); d != "."; d = path.Dir(d) {
			if other, ok := folded[d]; ok {
				return fmt.Errorf("%q is a file, and %q needs it to be a folder", other, f.Name)
			}
			folders[d] = f.Name
		}
	}
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		fw := deflaters.Get().(*flate.Writer)
		fw.Reset(out)
		return pooledDeflater{fw}, nil
	})
	for _, f := range sorted {
		if err := add(zw, f); err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	return zw.Close()
}

// dosDate1980 is 1980-01-01 in MS-DOS date format, the earliest zip can say.
const dosDate1980 = 1<<5 | 1

func add(zw *zip.Writer, f File) error {
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	buf := samples.Get().(*[]byte)
	defer samples.Put(buf)
	sample := *buf
	n, err := io.ReadFull(r, sample)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return err
	}
	sample = sample[:n]
	hdr := &zip.FileHeader{
		Name:         f.Name,
		Method:       Method(sample),
		ModifiedDate: dosDate1980,
	}
	hdr.SetMode(0o644)
	ew, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	if _, err := ew.Write(sample); err != nil || n < len(*buf) {
		return err // or the whole file was the sample
	}
	_, err = io.CopyBuffer(ew, r, *buf) // the sample is written: its buffer is free
	return err
}

// Method picks Deflate or Store for a file from its leading bytes.
func Method(sample []byte) uint16 {
	if len(sample) == 0 {
		return zip.Store
	}
	var c counter
	fw := samplers.Get().(*flate.Writer)
	fw.Reset(&c)
	fw.Write(sample)
	fw.Close()
	samplers.Put(fw)
	if float64(c) > StoreRatio*float64(len(sample)) {
		return zip.Store
	}
	return zip.Deflate
}

// A flate.Writer holds hundreds of kilobytes of tables: building one per
// file was most of what a build of many small files allocated. Reset makes
// a pooled one equivalent to a new one, so the bytes do not change.
var (
	deflaters = sync.Pool{New: func() any { fw, _ := flate.NewWriter(nil, flate.DefaultCompression); return fw }}
	samplers  = sync.Pool{New: func() any { fw, _ := flate.NewWriter(nil, flate.BestSpeed); return fw }}
	samples   = sync.Pool{New: func() any { b := make([]byte, SampleSize); return &b }}
)

// pooledDeflater returns its writer to the pool once the entry is closed.
type pooledDeflater struct{ *flate.Writer }

func (p pooledDeflater) Close() error {
	err := p.Writer.Close()
	p.Writer.Reset(nil)
	deflaters.Put(p.Writer)
	return err
}

type counter int64

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

// Bytes is a convenience for tests and small inputs: a File over b.
func Bytes(name string, b []byte) File {
	return File{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
}

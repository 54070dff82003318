package builder

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/schema/problem"
)

// The body of cache.json is binary: a record of 50,000 version folders is
// read on every build, and decoding it as gob or JSON cost more than the
// rest of a no-change rebuild. Integers are varints, digests raw bytes,
// strings length-prefixed, and a file name repeated across folders
// (spec.json, archive.zip.asc, ...) is written once and then referred to by
// its number.

// encoder appends the cache body to buf.
type encoder struct {
	buf   []byte
	names map[string]uint64
}

func (e *encoder) uint(x uint64) { e.buf = binary.AppendUvarint(e.buf, x) }
func (e *encoder) int(x int64)   { e.buf = binary.AppendVarint(e.buf, x) }

func (e *encoder) string(s string) {
	e.uint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// name writes a file name: 0 and the name the first time, its number
// (from 1) after that.
func (e *encoder) name(s string) {
	if n, ok := e.names[s]; ok {
		e.uint(n)
		return
	}
	if e.names == nil {
		e.names = map[string]uint64{}
	}
	e.names[s] = uint64(len(e.names) + 1)
	e.uint(0)
	e.string(s)
}

// digest writes a SHA-256: a byte saying whether it is set, then its bytes.
func (e *encoder) digest(d digest) {
	if d == (digest{}) {
		e.buf = append(e.buf, 0)
		return
	}
	e.buf = append(e.buf, 1)
	e.buf = append(e.buf, d[:]...)
}

func (e *encoder) states(states []fileState) {
	e.uint(uint64(len(states)))
	for _, s := range states {
		e.name(s.Name)
		e.int(s.Size)
		e.int(s.MTime)
		e.int(s.CTime)
		e.uint(s.Inode)
		e.digest(s.SHA256)
	}
}

func (e *encoder) strings(ss []string) {
	e.uint(uint64(len(ss)))
	for _, s := range ss {
		e.string(s)
	}
}

// pageKeys writes the site's page keys, sorted by page.
func (e *encoder) pageKeys(keys map[string]string) {
	e.uint(uint64(len(keys)))
	for _, name := range slices.Sorted(maps.Keys(keys)) {
		e.string(name)
		e.string(keys[name])
	}
}

// record encodes the record of the version folder rel into buf, afresh.
func (e *encoder) record(rel string, v *cachedVersion) error {
	key, err := hex.DecodeString(v.Key)
	if err != nil || len(key) != sha256.Size {
		return fmt.Errorf("cache: %s: key %q is not a SHA-256", rel, v.Key)
	}
	e.buf = e.buf[:0] // names are numbered across a chunk's records
	e.string(rel)
	e.digest(digest(key))
	e.states(v.Inputs)
	e.states(v.Outputs)
	e.states([]fileState{v.Folder})
	e.states([]fileState{v.Spare})
	e.states([]fileState{v.Source})
	e.problems(v.Warnings)
	return nil
}

func (e *encoder) problems(probs []problem.Problem) {
	e.uint(uint64(len(probs)))
	for _, p := range probs {
		e.string(p.File)
		e.string(p.Pointer)
		e.string(string(p.Severity))
		e.string(p.Message)
	}
}

// decoder reads what encoder wrote, from data; the first error sticks and
// every later read returns zero values.
type decoder struct {
	data  []byte
	names []string
	err   error
	slab  []fileState // the states decoded so far, where the next are allocated
}

var errCacheBody = errors.New("the cache body does not decode")

func (d *decoder) fail() { d.err, d.data = errCacheBody, nil }

func (d *decoder) uint() uint64 {
	x, n := binary.Uvarint(d.data)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.data = d.data[n:]
	return x
}

func (d *decoder) int() int64 {
	x, n := binary.Varint(d.data)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.data = d.data[n:]
	return x
}

// count reads a length, refusing one larger than the bytes left could hold.
func (d *decoder) count() int {
	n := d.uint()
	if n > uint64(len(d.data)) || n > math.MaxInt32 {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.count()
	s := string(d.data[:n])
	d.data = d.data[n:]
	return s
}

// bytes reads a length and as many bytes, kept in place; nil if none.
func (d *decoder) bytes() []byte {
	n := d.count()
	if n == 0 {
		return nil
	}
	b := d.data[:n:n]
	d.data = d.data[n:]
	return b
}

func (d *decoder) name() string {
	n := d.uint()
	switch {
	case d.err != nil:
		return ""
	case n == 0:
		s := d.string()
		d.names = append(d.names, s)
		return s
	case n > uint64(len(d.names)):
		d.fail()
		return ""
	}
	return d.names[n-1]
}

func (d *decoder) digest() digest {
	var out digest
	switch {
	case len(d.data) > 0 && d.data[0] == 0:
		d.data = d.data[1:]
	case len(d.data) > len(out) && d.data[0] == 1:
		copy(out[:], d.data[1:])
		d.data = d.data[1+len(out):]
	default:
		d.fail()
	}
	return out
}

func (d *decoder) states() []fileState {
	n := d.count()
	if n == 0 {
		return nil
	}
	if cap(d.slab)-len(d.slab) < n { // one allocation for many records' states
		d.slab = make([]fileState, 0, max(n, 4096))
	}
	at := len(d.slab)
	d.slab = d.slab[:at+n]
	out := d.slab[at : at+n : at+n]
	for i := range out {
		out[i] = d.state()
	}
	return out
}

func (d *decoder) state() fileState {
	return fileState{Name: d.name(), Size: d.int(), MTime: d.int(), CTime: d.int(), Inode: d.uint(), SHA256: d.digest()}
}

// one reads a list of one state, as states wrote it.
func (d *decoder) one() fileState {
	if d.count() != 1 {
		d.fail()
		return fileState{}
	}
	return d.state()
}

// decodeRecords decodes count records from data, each behind its length,
// as recordWriter wrote them: one chunk, its names numbered afresh.
func decodeRecords(data []byte, count int) ([]string, []*cachedVersion, bool) {
	d := &decoder{data: data}
	rels := make([]string, count)
	vs := make([]*cachedVersion, count)
	for i := range count {
		size := d.count()
		end := len(d.data) - size
		rels[i] = d.string()
		v := &cachedVersion{Key: d.digest().String(), Inputs: d.states(), Outputs: d.states(), Folder: d.one(), Spare: d.one(), Source: d.one()}
		v.Warnings = d.problems()
		if d.err != nil || len(d.data) != end {
			return nil, nil, false
		}
		vs[i] = v
	}
	return rels, vs, len(d.data) == 0
}

func (d *decoder) strings() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.string()
	}
	return ss
}

func (d *decoder) pageKeys() map[string]string {
	n := d.count()
	if n == 0 {
		return nil
	}
	keys := make(map[string]string, n)
	for range n {
		name := d.string()
		keys[name] = d.string()
	}
	return keys
}

func (d *decoder) problems() []problem.Problem {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]problem.Problem, n)
	for i := range out {
		out[i] = problem.Problem{File: d.string(), Pointer: d.string(), Severity: problem.Severity(d.string()), Message: d.string()}
	}
	return out
}

// encodeEntry encodes a catalog entry's fields but its files and SemVer,
// which the build takes from its records and the folder name.
func encodeEntry(e catalog.Entry) []byte {
	var enc encoder
	for _, s := range []string{e.Name, e.Version, e.Description, e.Label, e.Author, e.Org, e.CDAPVersion, e.License, e.PaidLink, e.Deprecated} {
		enc.string(s)
	}
	enc.int(e.Created)
	enc.uint(flags(e.Beta, e.Paid, e.LicenseInfo != nil, e.Categories != nil))
	if e.LicenseInfo != nil {
		enc.string(e.LicenseInfo.Name)
		enc.string(e.LicenseInfo.URL)
	}
	enc.uint(uint64(len(e.Categories)))
	for _, c := range e.Categories {
		enc.string(c)
	}
	return enc.buf
}

func flags(bits ...bool) uint64 {
	var x uint64
	for i, b := range bits {
		if b {
			x |= 1 << i
		}
	}
	return x
}

// decodeEntry decodes what encodeEntry wrote into e.
func decodeEntry(data []byte, e *catalog.Entry) error {
	d := &decoder{data: data}
	for _, s := range []*string{&e.Name, &e.Version, &e.Description, &e.Label, &e.Author, &e.Org, &e.CDAPVersion, &e.License, &e.PaidLink, &e.Deprecated} {
		*s = d.string()
	}
	e.Created = d.int()
	f := d.uint()
	e.Beta, e.Paid = f&1 != 0, f&2 != 0
	if f&4 != 0 {
		e.LicenseInfo = &catalog.LicenseInfo{Name: d.string(), URL: d.string()}
	}
	if n := d.count(); f&8 != 0 {
		e.Categories = make([]string, n)
		for i := range e.Categories {
			e.Categories[i] = d.string()
		}
	}
	if d.err != nil || len(d.data) != 0 {
		return errCacheBody
	}
	return nil
}

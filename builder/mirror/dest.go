package mirror

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/builder/publish"
	"github.com/market-dev/market/builder/sign"
	"github.com/market-dev/market/schema/catalog"
)

// dest is what the target holds, as far as the mirror trusts it.
type dest struct {
	tgt   *publish.Target
	sizes map[string]int64
	isDir bool
	// present are the versions ("name@version") the target holds exactly
	// as this run would write them; keep their folders, to leave in place.
	present map[string]bool
	keep    map[string]bool
	// release and record are the target's release.json and upstream.json,
	// when they verify with the keys the mirror signs with.
	release *catalog.Release
	record  *Record
}

// verifier checks a detached signature of message with the keys the
// target's signatures are made by: the publisher's (an exact copy) or the
// organisation's.
type verifier func(message io.Reader, sig []byte) error

func outVerifier(o *Options) verifier {
	if o.Signer != nil {
		return func(m io.Reader, sig []byte) error { return o.Signer.Verify(m, bytes.NewReader(sig)) }
	}
	return func(m io.Reader, sig []byte) error {
		return sign.Verify(o.Client.Keyring, m, bytes.NewReader(sig), time.Now())
	}
}

// readDest reads what the target holds: which versions need no download,
// and the release it holds, which the source's may not be older than.
func readDest(ctx context.Context, tgt *publish.Target, up *upstream, o *Options) (*dest, error) {
	d := &dest{tgt: tgt, sizes: tgt.Sizes(), isDir: !strings.HasPrefix(o.To, "s3://"),
		present: map[string]bool{}, keep: map[string]bool{}}
	if err := d.checkIsMirror(); err != nil {
		return nil, err
	}
	verify := outVerifier(o)
	if data, err := d.readSigned(ctx, path.Join(up.api, catalog.ReleaseFile), catalog.MaxReleaseSize, verify); err == nil {
		d.release, _ = catalog.ParseRelease(data)
	}
	if o.Signer != nil {
		if data, err := d.readSigned(ctx, RecordFile, catalog.MaxReleaseSize, verify); err == nil {
			d.record, _ = ParseRecord(data)
		}
	}
	if err := d.checkRollback(up, o); err != nil {
		return nil, err
	}
	keys, err := publishedKeys(up, o)
	if err != nil {
		return nil, err
	}
	d.findPresent(ctx, up, keys, verify, o.Reporter)
	return d, nil
}

// checkIsMirror refuses a target that holds files but no marketplace: the
// mirror prunes what it does not publish, as a mirror must.
func (d *dest) checkIsMirror() error {
	other := ""
	for rel := range d.sizes {
		if strings.HasPrefix(rel, ".") || strings.Contains(rel, "/.") {
			continue // dot-files are never published nor pruned
		}
		if dir, ok := strings.CutSuffix(rel, "/"+catalog.PackagesFile); ok && catalog.IsAPI(dir) {
			return nil
		}
		other = rel
	}
	if other == "" {
		return nil
	}
	return &ConfigError{d.tgt.String(), fmt.Errorf("holds files (%s, …) but no marketplace; a mirror deletes what it does not publish: give an empty directory or prefix, or a previous mirror", other)}
}

// readSigned reads rel and its signature from the target and verifies it.
func (d *dest) readSigned(ctx context.Context, rel string, limit int64, verify verifier) ([]byte, error) {
	data, err := d.tgt.Read(ctx, rel, limit)
	if err != nil {
		return nil, err
	}
	sig, err := d.tgt.Read(ctx, rel+".asc", catalog.MaxSignatureSize)
	if err != nil {
		return nil, err
	}
	if err := verify(bytes.NewReader(data), sig); err != nil {
		return nil, err
	}
	return data, nil
}

// checkRollback refuses a source whose release is older than the one the
// target was mirrored from, or that has none when it had one: the target
// itself remembers the serial, even without a state file.
func (d *dest) checkRollback(up *upstream, o *Options) error {
	var had int64
	switch {
	case o.Signer == nil && d.release != nil:
		had = d.release.Serial
	case o.Signer != nil && d.record != nil && d.record.Release != nil:
		had = d.record.Release.Serial
	default:
		return nil
	}
	rel := path.Join(up.api, catalog.ReleaseFile)
	switch {
	case up.release == nil:
		return &client.Error{Path: rel, Kind: client.ErrRollback, Err: fmt.Errorf("%s was mirrored from release serial %d, and the source now serves no release.json", d.tgt, had)}
	case up.release.Serial < had:
		return &client.Error{Path: rel, Kind: client.ErrRollback, Err: fmt.Errorf("serial %d is lower than serial %d, which %s was mirrored from", up.release.Serial, had, d.tgt)}
	}
	return nil
}

// publishedKeys is the keys.asc the mirror publishes.
func publishedKeys(up *upstream, o *Options) ([]byte, error) {
	if o.Signer == nil {
		return up.files["keys.asc"].data, nil
	}
	var b bytes.Buffer
	err := o.Signer.PublicKeys(&b, nil)
	return b.Bytes(), err
}

// findPresent marks the versions the target holds as this run would
// write them: its signed catalogs (verified with the keys the mirror signs
// with, which it must publish already) list the same entry, and every file
// and signature of the version is there with its size. Those are not
// downloaded again, and prune leaves their folders.
func (d *dest) findPresent(ctx context.Context, up *upstream, keys []byte, verify verifier, r Reporter) {
	had, err := d.tgt.Read(ctx, path.Join(up.api, "keys.asc"), catalog.MaxKeysSize)
	if err != nil || !bytes.Equal(had, keys) {
		if err == nil {
			r.Note(fmt.Sprintf("%s/%s/keys.asc changes: every version is downloaded and checked again", d.tgt, up.api))
		}
		return
	}
	listed := map[string][]byte{}
	for _, name := range []string{catalog.PackagesFile, catalog.DeprecatedFile} {
		data, err := d.readSigned(ctx, path.Join(up.api, name), catalog.MaxCatalogSize, verify)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		entries, perr := catalog.Parse(data)
		if err != nil || perr != nil {
			r.Note(fmt.Sprintf("%s/%s/%s does not verify (%v): every version is downloaded and checked again", d.tgt, up.api, name, cmp.Or(err, perr)))
			return
		}
		for _, e := range entries {
			listed[e.Name+"@"+e.Version], _ = json.Marshal(e)
		}
	}
	for _, e := range up.all() {
		b, _ := json.Marshal(e.Entry)
		dir := path.Join(up.api, "packages", e.Name, e.Version)
		if bytes.Equal(listed[e.key()], b) && d.holds(dir, e.Files) {
			d.present[e.key()] = true
			d.keep[dir] = true
		}
	}
}

// holds says whether the target has every file of a version folder, with
// its size, and the signature of each signed one.
func (d *dest) holds(dir string, files catalog.Files) bool {
	for name, f := range files {
		size, ok := d.sizes[path.Join(dir, name)]
		if !ok || size != f.Size {
			return false
		}
		if _, ok := d.sizes[path.Join(dir, name)+".asc"]; !ok {
			return false
		}
	}
	return true
}

package client_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/builder/sign"
)

// The example packages the cases tamper with.
const (
	packagesDir = "../../packages"
	keysDir     = "../sign/testdata/keys"
)

// TestTamper runs the tamper catalogue, testdata/tamper/*.txtar: a built
// tree damaged in one way a hostile mirror, a broken CDN or a careless
// publisher might, per file. VerifyTree and the client must refuse it, each
// naming the file and the kind of damage, and gpgv and sqv (independent
// OpenPGP implementations) must agree about every signature touched.
//
// Every case starts from a copy of the example packages built and signed
// with the demo key (the base build). Its header comment says what the
// attacker does ("# Attack: ...") and what must happen ("# market: ...",
// as in the attack catalogue); its -- tamper -- section damages the
// copy, one operation a line, and its -- want -- section checks the
// outcome, one line at a time, in order. A case with variants has sections
// -- tamper NAME -- and -- want NAME --: each variant runs as the subtest
// TestTamper/CASE/NAME on its own copy, the shared -- tamper -- and
// -- want -- lines first, then its own. Any other section is data that a
// write line names. Blank lines and lines starting with # are comments;
// "double-quoted" words are Go strings. Paths are slash-separated, relative
// to the tree's root (v1/packages/NAME/VERSION/FILE); a QUERY is what
// `market fetch` takes (NAME, NAME@VERSION, NAME@RANGE). KEY is demo (the
// publisher's key, which consumers trust) or rsa (an unrelated key: the
// attacker's). BUILD is base, newer (the same packages built half an hour
// later: a higher release serial) or other (a build without
// pipeline-demo-log-cleanup: another packages.json).
//
// The tamper section:
//
//	flip FILE                    flip the lowest bit of the middle byte
//	truncate FILE                keep the first half
//	swap FILE FILE               exchange two files' bytes
//	copy FROM TO                 copy a file of the tree over another
//	remove FILE...               delete files
//	mkdir DIR                    make a folder
//	write FILE SECTION           write the bytes of a section of the case
//	relabel FILE TEXT            replace a spec.json's label text with TEXT
//	zip FILE ENTRY...            write a zip of NAME=SOURCE entries, SOURCE one
//	                             of repo:PATH (a file of the repository),
//	                             text:TEXT, zeros:SIZE, symlink:TARGET
//	resign FILE KEY              replace FILE.asc with KEY's signature of FILE
//	resign-all KEY               resign every signed file under v1/
//	edit-catalog FILE KEY [EDIT] rewrite a catalog through EDIT and resign it:
//	                             drop NAME@VERSION, relist NAME@VERSION FILE (the
//	                             entry takes FILE's digest as it is in the tree),
//	                             append CATALOG (add another catalog's entries);
//	                             no EDIT re-encodes it as it is
//	edit-catalogs KEY [EDIT]     edit-catalog every product catalog, then
//	                             v1/packages.json
//	rerelease KEY                bring release.json's digests up to date (serial
//	                             and dates kept) and sign it: what the
//	                             publisher's own build would have written
//	take BUILD FILE...           copy files from another build
//	pubkey KEY FILE              write KEY's public key to FILE
//	tree BUILD                   replace the whole tree by a copy of BUILD, at
//	                             the same path
//	seen                         open the tree with the case's state file, which
//	                             records its release serial (it must exceed
//	                             base's: a client that saw the newer build)
//	serve [RULE FILE [N]]        serve the tree over HTTP; the want lines use
//	                             the URL. RULE: endless (FILE is an endless
//	                             stream), endless-tail (FILE's bytes, then
//	                             more without end), padded N (N zero bytes
//	                             more, with an honest Content-Length), flaky N
//	                             (the first N requests for FILE get a 500),
//	                             missing (404)
//
// The want section:
//
//	set OPTION...                for the lines below, until reset: state (the
//	                             case's state file), require-release,
//	                             trust-tree-keys, keyring=none|demo, retries=N,
//	                             now=+DURATION (after the base release time),
//	                             max-extract=SIZE, at=SUFFIX (appended to the
//	                             location), timeout=DURATION (default 30s)
//	reset                        back to the defaults
//	verify clean                 VerifyTree reports no problem
//	verify versions N            ... checked N versions
//	verify release               ... read a release.json
//	verify signatures            ... verified signatures
//	verify error FILE [WORD]     ... an error about FILE whose message says WORD
//	                             (any message without WORD); FILE|FILE: either
//	verify warning FILE WORD     ... a warning likewise
//	verify errors N              ... N errors in all
//	verify problems N            ... N problems in all, warnings included
//	verify only PREFIX WORD      ... every problem names a file under PREFIX
//	                             and says WORD
//	client QUERY ok              a consumer opens the location, resolves QUERY
//	                             and installs it
//	client QUERY installs FILE...  ... and gets exactly these files, FILE=source
//	                             byte for byte the repository's packages/ file
//	client QUERY STAGE KIND      ... and STAGE (Open, Resolve, Install) fails
//	                             with KIND (a client.Err name); a failed Open
//	                             returns no market, a failed Install leaves no
//	                             file
//	resolve QUERY VERSION        QUERY resolves to VERSION
//	fetch QUERY FILE KIND        Fetch of one file of the version fails with
//	                             KIND and writes nothing
//	extract FILE KIND            client.Extract of the tree's FILE fails with
//	                             KIND and leaves no file
//	tools accept FILE            gpgv and sqv accept FILE.asc as the demo key's
//	                             signature of FILE; * is every signature
//	tools reject FILE            gpgv and sqv reject FILE.asc
//	exists FILE...               the tree has these files
//	catalog FILE lacks NAME@VERSION  the tree's catalog FILE does not list it
//	requests FILE N              the served FILE was requested N times since
//	                             serve or the last requests line; the count
//	                             (and a flaky rule) starts again
//
// Where a word or a kind goes, by-size (by-size:FILE in a client line, FILE
// of the version) stands for what a consumer of a file served with other
// bytes than the catalog lists gets: a download stops at the listed size, so
// a larger file is "too large" (ErrTooLarge), a smaller or equal one "hash
// mismatch" (ErrHashMismatch). The example archives differ by a few bytes,
// so the cases do not hard-code which. Consecutive verify lines share one
// VerifyTree run; client, verify and fetch lines must also end before their
// timeout (an endless body must not hold them).
func TestTamper(t *testing.T) {
	files, err := filepath.Glob("testdata/tamper/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no tamper cases: %v", err)
	}
	f := newFixture(t)
	for _, file := range files {
		c := parseTamper(t, file)
		t.Run(c.name, func(t *testing.T) {
			if len(c.variants) == 0 {
				c.run(t, f, "")
				return
			}
			for _, v := range c.variants {
				t.Run(v, func(t *testing.T) { c.run(t, f, v) })
			}
		})
	}
}

// tamperCase is one file of the catalogue.
type tamperCase struct {
	name     string
	tamper   map[string][]string // lines by variant, "" shared
	want     map[string][]string
	data     map[string][]byte // the other sections
	variants []string          // in the order of the file
}

func parseTamper(t *testing.T, file string) *tamperCase {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c := &tamperCase{
		name:   strings.TrimSuffix(filepath.Base(file), ".txtar"),
		tamper: map[string][]string{}, want: map[string][]string{}, data: map[string][]byte{},
	}
	if !strings.HasPrefix(string(ar.Comment), "# Attack: ") || !strings.Contains(string(ar.Comment), "\n# market: ") {
		t.Fatalf("%s: the header comment must say the attack (# Attack: ...) and the defence (# market: ...)", file)
	}
	for _, s := range ar.Files {
		kind, variant, _ := strings.Cut(s.Name, " ")
		var lines map[string][]string
		switch kind {
		case "tamper":
			lines = c.tamper
		case "want":
			lines = c.want
		default:
			c.data[s.Name] = s.Data
			continue
		}
		if variant != "" && !slices.Contains(c.variants, variant) {
			c.variants = append(c.variants, variant)
		}
		for _, l := range strings.Split(string(s.Data), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				lines[variant] = append(lines[variant], l)
			}
		}
	}
	variants := c.variants
	if len(variants) == 0 {
		variants = []string{""}
	}
	for _, v := range variants {
		if len(c.want[""])+len(c.want[v]) == 0 {
			t.Fatalf("%s: variant %q wants nothing", file, v)
		}
	}
	return c
}

// fields splits a line into words; "double-quoted" words are Go strings.
func fields(t *testing.T, line string) []string {
	t.Helper()
	var out []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		if line[0] == '"' {
			q, err := strconv.QuotedPrefix(line)
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			w, _ := strconv.Unquote(q)
			out, line = append(out, w), line[len(q):]
			continue
		}
		end := strings.IndexAny(line, " \t")
		if end < 0 {
			end = len(line)
		}
		out, line = append(out, line[:end]), line[end:]
	}
	return out
}

// fixture holds what every case starts from. The trees are built once per
// TestTamper run; a case tampers with its own copy.
type fixture struct {
	t0    time.Time // release time of base
	base  string    // the example packages, signed with the demo key: release serial N
	newer string    // the same packages rebuilt at t0+30m: serial N+1 or more
	other string    // a build of the packages without pipeline-demo-log-cleanup, at t0

	demo    *sign.Signer       // the publisher's key (demo.sec.asc)
	rsa     *sign.Signer       // an unrelated key (rsa3072.sec.asc): "the attacker"
	keyring openpgp.EntityList // demo.pub.asc: what consumers trust

	pubAsc string // demo.pub.asc, absolute, for sqv
	pubGPG string // demo.pub.asc dearmored, for gpgv ("" when gpg is missing)
	gnupg  string // a GNUPGHOME for the tools
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	tmp := t.TempDir()
	f := &fixture{
		t0:      time.Now().UTC().Truncate(time.Second).Add(-time.Hour),
		demo:    loadSigner(t, "demo.sec.asc"),
		rsa:     loadSigner(t, "rsa3072.sec.asc"),
		keyring: readKeyring(t, "demo.pub.asc"),
		base:    filepath.Join(tmp, "base"),
		newer:   filepath.Join(tmp, "newer"),
		other:   filepath.Join(tmp, "other"),
	}
	buildTree(t, f.demo, packagesDir, f.base, f.t0)

	// The next CI build of the same packages, half an hour later: it starts
	// from the published tree, so its serial exceeds base's.
	copyTreeTo(t, f.base, f.newer)
	buildTree(t, f.demo, packagesDir, f.newer, f.t0.Add(30*time.Minute))

	// Another build, from other packages: its packages.json differs.
	subset := filepath.Join(tmp, "repo", "packages")
	if err := os.CopyFS(subset, os.DirFS(packagesDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(subset, "pipeline-demo-log-cleanup")); err != nil {
		t.Fatal(err)
	}
	buildTree(t, f.demo, subset, f.other, f.t0)

	var err error
	if f.pubAsc, err = filepath.Abs(filepath.Join(keysDir, "demo.pub.asc")); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("gpg"); err == nil {
		f.gnupg = filepath.Join(tmp, "gnupg")
		if err := os.Mkdir(f.gnupg, 0o700); err != nil {
			t.Fatal(err)
		}
		f.pubGPG = filepath.Join(tmp, "demo.pub.gpg")
		cmd := exec.Command("gpg", "--batch", "--dearmor", "--output", f.pubGPG, f.pubAsc)
		cmd.Env = append(os.Environ(), "GNUPGHOME="+f.gnupg, "LC_ALL=C")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gpg --dearmor: %v\n%s", err, out)
		}
	}
	return f
}

// buildTree builds packages into out, signed by s, released at at.
func buildTree(t *testing.T, s *sign.Signer, packages, out string, at time.Time) {
	t.Helper()
	cfg, err := builder.LoadConfig("../../market.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = builder.Build(context.Background(), builder.Options{
		Packages: packages, Out: out, Config: cfg, Signer: s,
		Release: &builder.ReleaseOptions{Valid: 30 * 24 * time.Hour, Time: at},
	})
	if err != nil {
		t.Fatal(err)
	}
}

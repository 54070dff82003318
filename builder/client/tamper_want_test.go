package client_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/schema/catalog"
	"github.com/market-dev/market/schema/problem"
)

// errKinds are the client.Err values a want line may name.
var errKinds = map[string]error{
	"ErrNotFound": client.ErrNotFound, "ErrNoCompatible": client.ErrNoCompatible,
	"ErrBadSignature": client.ErrBadSignature, "ErrHashMismatch": client.ErrHashMismatch,
	"ErrExpired": client.ErrExpired, "ErrRollback": client.ErrRollback, "ErrTooLarge": client.ErrTooLarge,
	"ErrNetwork": client.ErrNetwork, "ErrUnsafeArchive": client.ErrUnsafeArchive, "ErrMalformed": client.ErrMalformed,
}

// want checks one line of the want section, split into w.
func (r *tamperRun) want(line string, w []string) {
	t := r.t
	t.Helper()
	if w[0] != "verify" {
		r.rep = nil
	}
	switch w[0] {
	case "set":
		r.set(w[1:])
	case "reset":
		r.reset()
	case "verify":
		r.args(w, 1, 3)
		r.verify(w[1], w[2:])
	case "client":
		r.args(w, 2, -1)
		r.client(w[1], w[2], w[3:])
	case "resolve":
		r.args(w, 2, 2)
		m := r.f.open(t, r.loc+r.at, r.opts.Options)
		q, err := client.ParseQuery(w[1])
		if err != nil {
			t.Fatal(err)
		}
		if e, err := m.Resolve(q, client.ResolveOptions{}); err != nil || e.Version != w[2] {
			t.Errorf("Resolve(%s) = %v, %v; want %s", w[1], e, err, w[2])
		}
	case "fetch":
		r.args(w, 3, 3)
		r.fetch(w[1], w[2], w[3])
	case "extract":
		r.args(w, 2, 2)
		r.extract(w[1], r.kind(w[2], ""))
	case "tools":
		r.args(w, 2, 2)
		r.tools(w[1], w[2])
	case "exists":
		r.args(w, 1, -1)
		for _, p := range w[1:] {
			if _, err := os.Stat(r.path(p)); err != nil {
				t.Errorf("the tree has no %s", p)
			}
		}
	case "catalog":
		r.args(w, 3, 3)
		r.catalogLacks(w[1], w[2], w[3])
	case "requests":
		r.args(w, 2, 2)
		r.srv.wantRequests(t, w[1], w[2])
	default:
		t.Fatalf("want: unknown line %q", line)
	}
}

// reset makes the options the defaults again.
func (r *tamperRun) reset() {
	r.opts, r.at, r.timeout = r.f.verifyOptions(), "", 30*time.Second
}

// set changes the options for the lines that follow.
func (r *tamperRun) set(opts []string) {
	t := r.t
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		var err error
		switch k {
		case "state":
			r.opts.StateFile = r.state
		case "require-release":
			r.opts.RequireRelease = true
		case "trust-tree-keys":
			r.opts.TrustTreeKeys = true
		case "keyring":
			switch r.opts.Keyring = nil; v {
			case "demo":
				r.opts.Keyring = r.f.keyring
			case "none":
			default:
				t.Fatalf("set %s: want keyring=none or keyring=demo", o)
			}
		case "retries":
			r.opts.Retries, err = strconv.Atoi(v)
		case "now":
			var d time.Duration
			d, err = time.ParseDuration(strings.TrimPrefix(v, "+"))
			later := r.f.t0.Add(d)
			r.opts.Now = func() time.Time { return later }
		case "max-extract":
			r.opts.MaxExtractSize = parseSize(t, v)
		case "at":
			r.at = v
		case "timeout":
			r.timeout, err = time.ParseDuration(v)
		default:
			t.Fatalf("set: unknown option %q", o)
		}
		if err != nil {
			t.Fatalf("set %s: %v", o, err)
		}
	}
}

// kind reads an error kind: a client.Err name, or by-size for the tree's
// file (a path of the tree; by-size:FILE names a file of the version in
// the query NAME@VERSION).
func (r *tamperRun) kind(name, query string) error {
	if file, ok := strings.CutPrefix(name, "by-size:"); ok {
		pkg, version, _ := strings.Cut(query, "@")
		name, query = "by-size", pkgRel(pkg, version, file)
	}
	if name == "by-size" {
		kind, _ := r.bySize(query)
		return kind
	}
	kind, ok := errKinds[name]
	if !ok {
		r.t.Fatalf("unknown error kind %q", name)
	}
	return kind
}

// bySize says which error a consumer gets for a file of a version (a path
// v1/packages/NAME/VERSION/FILE) when the tree holds other bytes than the
// catalog lists: a download stops at the listed size, so a larger file is
// ErrTooLarge (as any response longer than the signed catalog says), a
// smaller or equal one ErrHashMismatch. word is what VerifyTree's message says.
func (r *tamperRun) bySize(path string) (kind error, word string) {
	t := r.t
	t.Helper()
	parts := strings.Split(path, "/")
	if len(parts) != 5 || parts[1] != "packages" {
		t.Fatalf("by-size: %q is not v1/packages/NAME/VERSION/FILE", path)
	}
	var entries []catalog.Entry
	if err := json.Unmarshal(readFile(t, filepath.Join(r.dir, "v1", "packages.json")), &entries); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name == parts[2] && e.Version == parts[3] {
			if served := int64(len(readFile(t, r.path(path)))); served > e.Files[parts[4]].Size {
				return client.ErrTooLarge, "too large"
			}
			return client.ErrHashMismatch, "hash mismatch"
		}
	}
	t.Fatalf("no %s@%s in the catalog", parts[2], parts[3])
	return nil, ""
}

// ---- verify ----

// verify checks one verify line against the report of VerifyTree, run
// when the previous line was no verify line.
func (r *tamperRun) verify(what string, arg []string) {
	t := r.t
	t.Helper()
	if r.rep == nil {
		r.rep = r.runVerify()
	}
	rep := r.rep
	switch {
	case what == "clean" && len(arg) == 0:
		if len(rep.Problems) != 0 {
			t.Errorf("verify: want no problems, got:\n%s", dump(rep.Problems))
		}
	case (what == "versions" || what == "errors" || what == "problems") && len(arg) == 1:
		got := map[string]int{"versions": rep.Versions, "errors": rep.Problems.Errors(), "problems": len(rep.Problems)}[what]
		if n := r.atoi(arg[0]); got != n {
			t.Errorf("verify: %d %s, want %d; problems:\n%s", got, what, n, dump(rep.Problems))
		}
	case what == "release" && len(arg) == 0:
		if rep.Release == nil {
			t.Errorf("verify: no release")
		}
	case what == "signatures" && len(arg) == 0:
		if rep.Signatures == 0 {
			t.Errorf("verify: no signature verified")
		}
	case what == "error" || what == "warning":
		r.verifyProblem(what, arg)
	case what == "only" && len(arg) == 2:
		for _, p := range rep.Problems {
			if !strings.HasPrefix(p.File, arg[0]) || !strings.Contains(p.Message, arg[1]) {
				t.Errorf("verify: unexpected problem %s", p)
			}
		}
	default:
		t.Fatalf("verify: unknown check %s %q", what, arg)
	}
}

// verifyProblem checks a verify error or warning line: FILE[|FILE] [WORD].
func (r *tamperRun) verifyProblem(what string, arg []string) {
	t := r.t
	t.Helper()
	if len(arg) == 0 || len(arg) > 2 {
		t.Fatalf("verify %s: want FILE [WORD]", what)
	}
	sev, files, word := problem.Error, strings.Split(arg[0], "|"), ""
	if what == "warning" {
		sev = problem.Warning
	}
	if len(arg) == 2 {
		word = arg[1]
	}
	if word == "by-size" {
		_, word = r.bySize(files[0])
	}
	for _, f := range files {
		if hasProblem(r.rep, sev, f, word) {
			return
		}
	}
	t.Errorf("verify: no %s about %s saying %q; got:\n%s", what, arg[0], word, dump(r.rep.Problems))
}

func (r *tamperRun) runVerify() *client.Report {
	t := r.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	rep, err := client.VerifyTree(ctx, r.loc+r.at, r.opts)
	if err != nil {
		t.Fatalf("VerifyTree %s: %v", r.loc+r.at, err)
	}
	stopped(t, ctx)
	t.Logf("VerifyTree: %d versions, %d files, %d signatures, problems:\n%s", rep.Versions, rep.Files, rep.Signatures, dump(rep.Problems))
	return rep
}

func (r *tamperRun) atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		r.t.Fatalf("%q is not a number", s)
	}
	return n
}

// stopped fails when ctx ran out: the client was held (an endless body).
func stopped(t *testing.T, ctx context.Context) {
	t.Helper()
	if ctx.Err() != nil {
		t.Errorf("the client did not stop: %v", ctx.Err())
	}
}

func hasProblem(rep *client.Report, sev problem.Severity, file, word string) bool {
	for _, p := range rep.Problems {
		if p.Severity == sev && p.File == file && strings.Contains(strings.ToLower(p.Message), strings.ToLower(word)) {
			return true
		}
	}
	return false
}

func dump(l problem.List) string {
	if len(l) == 0 {
		return "\t(none)"
	}
	var b strings.Builder
	for _, p := range l {
		b.WriteString("\t" + p.String() + "\n")
	}
	return b.String()
}

// ---- the client ----

func (f *fixture) options() client.Options {
	return client.Options{Keyring: f.keyring, Backoff: time.Millisecond, Timeout: 10 * time.Second}
}

func (f *fixture) verifyOptions() client.VerifyOptions {
	return client.VerifyOptions{Options: f.options(), Jobs: 2}
}

func (f *fixture) open(t *testing.T, loc string, opts client.Options) *client.Market {
	t.Helper()
	m, err := client.Open(context.Background(), loc, opts)
	if err != nil {
		t.Fatalf("Open %s: %v", loc, err)
	}
	return m
}

// outcome is how far a consumer got: the step that failed and its error,
// or an installed version.
type outcome struct {
	step string // Open, Resolve or Install; "" when all succeeded
	err  error
	inst *client.Installed
}

// client checks a client line: QUERY ok, QUERY installs FILE..., or QUERY
// STAGE KIND.
func (r *tamperRun) client(query, what string, rest []string) {
	t := r.t
	t.Helper()
	o := r.consume(query)
	switch {
	case what == "ok" && len(rest) == 0:
		o.wantOK(t)
	case what == "installs":
		o.wantOK(t)
		wantInstalled(t, o.inst, rest)
	case len(rest) == 1:
		kind := r.kind(rest[0], query)
		if o.step != what || !errors.Is(o.err, kind) {
			t.Errorf("client: %s failed with %v; want %s to fail with %v", cmp.Or(o.step, "nothing"), o.err, what, kind)
		}
	default:
		t.Fatalf("client %s %s %q: want ok, installs FILE... or STAGE KIND", query, what, rest)
	}
}

// consume does what a consumer does: open the location, resolve query,
// install it into a fresh directory.
func (r *tamperRun) consume(query string) outcome {
	t := r.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	defer stopped(t, ctx)
	m, err := client.Open(ctx, r.loc+r.at, r.opts.Options)
	if err != nil {
		if m != nil {
			t.Errorf("Open failed (%v), yet returned a market", err)
		}
		return outcome{step: "Open", err: err}
	}
	q, err := client.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	e, err := m.Resolve(q, client.ResolveOptions{})
	if err != nil {
		return outcome{step: "Resolve", err: err}
	}
	work := t.TempDir()
	inst, err := m.Install(ctx, e, filepath.Join(work, "a", "b", "dest"))
	if err != nil {
		wantNoFiles(t, work)
		return outcome{step: "Install", err: err}
	}
	return outcome{inst: inst}
}

func (o outcome) wantOK(t *testing.T) {
	t.Helper()
	if o.err != nil {
		t.Errorf("client: %s: %v", o.step, o.err)
	}
}

// wantInstalled checks the files of an installed version; NAME=source must
// hold the bytes of the repository's packages/NAME/VERSION/NAME.
func wantInstalled(t *testing.T, inst *client.Installed, files []string) {
	t.Helper()
	if inst == nil {
		return
	}
	var names []string
	for _, f := range files {
		name, source := strings.CutSuffix(f, "=source")
		names = append(names, name)
		if !source {
			continue
		}
		want := readFile(t, filepath.Join(packagesDir, inst.Entry.Name, inst.Entry.Version, name))
		got, err := os.ReadFile(filepath.Join(inst.Dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("installed %s: %v, %d bytes; want the source's %d bytes", name, err, len(got), len(want))
		}
	}
	if !slices.Equal(inst.Files, names) {
		t.Errorf("installed files %v; want %v", inst.Files, names)
	}
}

// fetch fetches one file of a version and checks the error.
func (r *tamperRun) fetch(query, file, kindName string) {
	t := r.t
	t.Helper()
	m := r.f.open(t, r.loc+r.at, r.opts.Options)
	q, err := client.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	e, err := m.Resolve(q, client.ResolveOptions{})
	if err != nil {
		t.Fatalf("Resolve %s: %v", query, err)
	}
	kind := r.kind(kindName, pkgRel(e.Name, e.Version, file))
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	dst := filepath.Join(t.TempDir(), file)
	err = m.Fetch(ctx, e, file, dst)
	stopped(t, ctx)
	if !errors.Is(err, kind) {
		t.Errorf("Fetch %s: %v; want %v", file, err, kind)
	}
	if _, err := os.Lstat(dst); err == nil {
		t.Errorf("Fetch %s failed, yet wrote %s", file, dst)
	}
}

// extract extracts the tree's file into a fresh directory and checks the
// error.
func (r *tamperRun) extract(file string, kind error) {
	t := r.t
	t.Helper()
	data := readFile(t, r.path(file))
	work := t.TempDir()
	out := filepath.Join(work, "x", "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := client.Extract(bytes.NewReader(data), int64(len(data)), out, client.ExtractLimits{})
	if !errors.Is(err, kind) {
		t.Errorf("Extract: %v (%T); want an *client.Error of kind %v", err, err, kind)
	}
	wantNoFiles(t, work)
}

// catalogLacks fails if the tree's catalog lists NAME@VERSION.
func (r *tamperRun) catalogLacks(file, verb, query string) {
	t := r.t
	t.Helper()
	name, version, ok := strings.Cut(query, "@")
	if verb != "lacks" || !ok {
		t.Fatalf("want: catalog FILE lacks NAME@VERSION")
	}
	var entries []catalog.Entry
	if err := json.Unmarshal(readFile(t, r.path(file)), &entries); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name == name && e.Version == version {
			t.Errorf("%s offers %s@%s", file, name, version)
		}
	}
}

// wantNoFiles fails if anything but directories is under dir, or an evil
// file beside it.
func wantNoFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("a failed install or extraction left %s", p)
		}
		return err
	})
	if _, err := os.Lstat(filepath.Join(filepath.Dir(dir), "evil")); err == nil {
		t.Errorf("%s was written outside the destination", filepath.Join(filepath.Dir(dir), "evil"))
	}
}

// ---- gpgv and sqv: an independent opinion on every signature touched ----

// tools checks that gpgv and sqv accept (or reject) FILE.asc as the demo
// key's signature of FILE; FILE * is every signature of the tree.
func (r *tamperRun) tools(verdict, file string) {
	t := r.t
	t.Helper()
	if verdict != "accept" && verdict != "reject" {
		t.Fatalf("tools %s: want accept or reject", verdict)
	}
	files := []string{file}
	if file == "*" {
		files = nil
		filepath.WalkDir(filepath.Join(r.dir, "v1"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, ".asc") && d.Name() != "keys.asc" {
				rel, _ := filepath.Rel(r.dir, strings.TrimSuffix(p, ".asc"))
				files = append(files, filepath.ToSlash(rel))
			}
			return err
		})
	}
	for _, f := range files {
		for tool, ok := range r.f.runTools(t, r.path(f)+".asc", r.path(f)) {
			switch {
			case ok && verdict == "reject":
				t.Errorf("%s accepts %s.asc, which market rejects", tool, f)
			case !ok && verdict == "accept":
				t.Errorf("%s rejects %s.asc, which market accepts", tool, f)
			}
		}
	}
}

// runTools runs gpgv and sqv (those installed) on sig and file against the
// demo key and says which accept.
func (f *fixture) runTools(t *testing.T, sig, file string) map[string]bool {
	t.Helper()
	run := func(name string, args ...string) bool {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "GNUPGHOME="+f.gnupg, "LC_ALL=C")
		out, err := cmd.CombinedOutput()
		if err != nil {
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("%s: %v", name, err)
			}
			t.Logf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return err == nil
	}
	got := map[string]bool{}
	if _, err := exec.LookPath("gpgv"); err == nil && f.pubGPG != "" {
		got["gpgv"] = run("gpgv", "--keyring", f.pubGPG, sig, file)
	} else {
		t.Logf("gpgv or gpg is not installed: no independent check of %s", sig)
	}
	if _, err := exec.LookPath("sqv"); err == nil {
		got["sqv"] = run("sqv", "--keyring", f.pubAsc, sig, file)
	} else {
		t.Logf("sqv is not installed: no independent check of %s", sig)
	}
	return got
}

package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/market-dev/market/builder/sign"
)

// The secrets of the test keys (testdata/keys/README.md).
const (
	secretKeys      = "../../builder/sign/testdata/keys"
	wrongPassphrase = "hunter2-wrong-passphrase"
)

// TestSecretKeyFailures runs market build with every key that cannot sign,
// the passphrase given through MARKET_KEY_PASSPHRASE and through
// --passphrase-file, right and wrong. Each must exit 2 with one line on
// stderr that names the key's source and the problem, write nothing, and
// print neither passphrase, nor any line of an armored secret key, nor
// "PRIVATE KEY", on stdout or stderr.
func TestSecretKeyFailures(t *testing.T) {
	real := realPassphrase(t)
	secrets := secretStrings(t, real)
	f := newKeyFixture(t, real)
	t.Logf("checking outputs for %d secret strings", len(secrets))
	for _, tc := range append(f.badKeys(), f.badFlags()...) {
		for _, p := range tc.passes {
			t.Run(tc.name+"/"+p.name, func(t *testing.T) { checkKeyFailure(t, tc, p, secrets) })
		}
	}
}

// passphraseWay is how the passphrase is given.
type passphraseWay struct{ name, env, file string }

// keyFailure is a build that cannot load its key.
type keyFailure struct {
	name   string
	args   []string // besides build --packages --out
	envKey string   // MARKET_SIGNING_KEY
	passes []passphraseWay
	want   string // the one stderr line
}

// keyFixture holds what the key failures use: copies of the keys readable
// by their owner only, so that market's warning about a key readable by
// others does not add a line, and the ways to give the passphrase.
type keyFixture struct {
	t                                      *testing.T
	dir, protected, revokedPub             string
	envWrong, fileWrong, envReal, fileReal passphraseWay
}

func newKeyFixture(t *testing.T, real string) *keyFixture {
	dir := t.TempDir()
	return &keyFixture{
		t:          t,
		dir:        dir,
		protected:  string(readKey(t, "gpg-ed25519-sub.sec.asc")),
		revokedPub: private(t, dir, "revoked.pub.asc", publicHalf(t, "revoked.sec.asc")),
		envWrong:   passphraseWay{"env-wrong", wrongPassphrase, ""},
		fileWrong:  passphraseWay{"file-wrong", "", private(t, dir, "wrong.passphrase", []byte(wrongPassphrase+"\n"))},
		envReal:    passphraseWay{"env-real", real, ""},
		fileReal:   passphraseWay{"file-real", "", private(t, dir, "real.passphrase", []byte(real))},
	}
}

func (f *keyFixture) key(name string) string { return private(f.t, f.dir, name, readKey(f.t, name)) }
func (f *keyFixture) wrong() []passphraseWay { return []passphraseWay{f.envWrong, f.fileWrong} }
func (f *keyFixture) all() []passphraseWay {
	return []passphraseWay{f.envWrong, f.fileWrong, f.envReal, f.fileReal}
}

// badKeys are keys that cannot sign, or cannot be read.
func (f *keyFixture) badKeys() []keyFailure {
	return []keyFailure{
		{"wrong-passphrase", []string{"--key", f.key("gpg-ed25519-sub.sec.asc")}, "", f.wrong(),
			`^market: \S+/gpg-ed25519-sub\.sec\.asc: wrong passphrase for key 5EC6BDA58A241123BBD0764B2FC84936E9A78A42$`},
		{"wrong-passphrase-binary-key", []string{"--key", f.key("gpg-ed25519-sub.sec.gpg")}, "", f.wrong(),
			`^market: \S+/gpg-ed25519-sub\.sec\.gpg: wrong passphrase for key `},
		{"key-in-environment-wrong-passphrase", nil, f.protected, f.wrong(),
			`^market: MARKET_SIGNING_KEY: wrong passphrase for key 5EC6BDA58A241123BBD0764B2FC84936E9A78A42$`},
		{"key-in-environment-truncated", nil, f.protected[:len(f.protected)/2], f.all(),
			`^market: MARKET_SIGNING_KEY: not an OpenPGP key: `},
		{"passphrase-in-key-variable", nil, wrongPassphrase, f.all(),
			`^market: MARKET_SIGNING_KEY: not a readable OpenPGP key`},
		{"garbage-key", []string{"--key", private(f.t, f.dir, "garbage.key", []byte("This is not an OpenPGP key.\n"))}, "", f.all(),
			`^market: \S+/garbage\.key: not a readable OpenPGP key`},
		{"garbage-in-armor", []string{"--key", private(f.t, f.dir, "fake-armor.asc", []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nbm90IGEga2V5\n=AAAA\n-----END PGP PRIVATE KEY BLOCK-----\n"))}, "", f.all(),
			`^market: \S+/fake-armor\.asc: not a readable OpenPGP key`},
		{"public-key", []string{"--key", f.key("demo.pub.asc")}, "", f.all(),
			`^market: \S+/demo\.pub\.asc: no usable signing key: .* is a public key; --key needs the secret key export`},
		{"expired", []string{"--key", f.key("expired.sec.asc")}, "", f.all(),
			`^market: \S+/expired\.sec\.asc: no usable signing key: key 41F00A91AC53A5B5CC0A48CDD259C89AA79C41D9 expired on 2020-01-02$`},
		{"revoked", []string{"--key", f.key("revoked.sec.asc")}, "", f.all(),
			`^market: \S+/revoked\.sec\.asc: no usable signing key: key 91FA644B91BECBE545A7BDB28BEE0FF97A340E35 is revoked$`},
		{"encrypt-only", []string{"--key", f.key("encrypt-only.sec.asc")}, "", f.all(),
			`^market: \S+/encrypt-only\.sec\.asc: no usable signing key: .*has no valid signing key`},
		{"rsa1024", []string{"--key", f.key("rsa1024.sec.asc")}, "", f.all(),
			`^market: \S+/rsa1024\.sec\.asc: key 2A18E40136D809BF5D1D960958B541F8C0C1312A is RSA-1024; RSA keys need at least 2048 bits`},
	}
}

// badFlags are good keys with flags that cannot work.
func (f *keyFixture) badFlags() []keyFailure {
	return []keyFailure{
		{"passphrase-file-missing", []string{"--key", f.key("gpg-ed25519-sub.sec.asc"), "--passphrase-file", filepath.Join(f.dir, "no-such.passphrase")}, "", []passphraseWay{f.envWrong, f.envReal},
			`^market: --passphrase-file: open \S+/no-such\.passphrase: no such file or directory$`},
		{"key-as-passphrase-file", []string{"--key", f.key("gpg-ed25519-sub.sec.asc"), "--passphrase-file", f.key("demo.sec.asc")}, "", []passphraseWay{f.envReal},
			`^market: \S+/gpg-ed25519-sub\.sec\.asc: wrong passphrase for key `},
		{"good-key-bad-key-id", []string{"--key", f.key("demo.sec.asc"), "--key-id", "0x0123456789ABCDEF"}, "", f.all(),
			`^market: \S+/demo\.sec\.asc: no key 0x0123456789ABCDEF in the key file$`},
		{"protected-key-bad-key-id", []string{"--key", f.key("gpg-ed25519-sub.sec.asc"), "--key-id", "0000000000000000000000000000000000000000"}, "", f.all(),
			`^market: \S+/gpg-ed25519-sub\.sec\.asc: no key 0000000000000000000000000000000000000000 in the key file$`},
		{"key-in-environment-bad-key-id", []string{"--key-id", "0x0123456789ABCDEF"}, f.protected, f.all(),
			`^market: MARKET_SIGNING_KEY: no key 0x0123456789ABCDEF in the key file$`},
		{"passphrase-on-command-line", []string{"--key", f.key("gpg-ed25519-sub.sec.asc"), "--passphrase=" + wrongPassphrase}, "", []passphraseWay{f.envReal},
			`^market: unknown flag: --passphrase$`},
		{"secret-key-as-publish-key", []string{"--key", f.key("gpg-ed25519-sub.sec.asc"), "--publish-key", f.key("demo.sec.asc")}, "", []passphraseWay{f.envReal, f.fileReal},
			`^market: --publish-key \S+/demo\.sec\.asc: holds a secret key; publish the public key instead`},
		{"revoked-key-as-publish-key", []string{"--key", f.key("gpg-ed25519-sub.sec.asc"), "--publish-key", f.revokedPub}, "", []passphraseWay{f.envReal, f.fileReal},
			`^market: --publish-key \S+/revoked\.pub\.asc: key 91FA644B91BECBE545A7BDB28BEE0FF97A340E35 is revoked; a revoked key is not published`},
	}
}

// checkKeyFailure runs the build of tc with the passphrase given as p.
func checkKeyFailure(t *testing.T, tc keyFailure, p passphraseWay, secrets []string) {
	t.Setenv(envSigningKey, tc.envKey)
	t.Setenv(envPassphrase, p.env)
	out := filepath.Join(t.TempDir(), "out")
	args := append([]string{"build", "--packages", "../../packages", "--out", out}, tc.args...)
	if p.file != "" {
		args = append(args, "--passphrase-file", p.file)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	if code != exitUsage {
		t.Errorf("exit status %d, want %d", code, exitUsage)
	}
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	if len(lines) != 1 || lines[0] == "" {
		t.Errorf("stderr has %d lines, want one:\n%s", len(lines), stderr.String())
	}
	if !regexp.MustCompile(tc.want).MatchString(lines[0]) {
		t.Errorf("stderr:\n%s\nwant a line matching %s", stderr.String(), tc.want)
	}
	if stdout.Len() > 0 {
		t.Errorf("stdout is not empty:\n%s", stdout.String())
	}
	checkNoSecret(t, "stdout", stdout.String(), secrets)
	checkNoSecret(t, "stderr", stderr.String(), secrets)
	if _, err := os.Lstat(out); err == nil {
		t.Errorf("a build that could not load its key wrote %s", out)
	}
}

// TestSecretsNotInSuccessfulBuild builds with a protected key, the
// passphrase and the key itself given every way: neither the output nor the
// tree holds a passphrase, a line of a secret key, or a secret key packet,
// and the secrets are gone from the environment once the key is loaded.
func TestSecretsNotInSuccessfulBuild(t *testing.T) {
	real := realPassphrase(t)
	secrets := secretStrings(t, real)
	dir := t.TempDir()
	keyFile := private(t, dir, "gpg-ed25519-sub.sec.asc", readKey(t, "gpg-ed25519-sub.sec.asc"))
	passFile := private(t, dir, "real.passphrase", []byte(real+"\n"))
	protected := string(readKey(t, "gpg-ed25519-sub.sec.asc"))
	cases := []struct {
		name, envKey, envPass string
		args                  []string
	}{
		{"key-file-passphrase-env", "", real, []string{"--key", keyFile}},
		{"key-file-passphrase-file", "", "", []string{"--key", keyFile, "--passphrase-file", passFile}},
		{"key-env-passphrase-env", protected, real, nil},
		{"key-env-passphrase-file", protected, "", []string{"--passphrase-file", passFile}},
		{"key-env-unprotected", string(readKey(t, "demo.sec.asc")), "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(envSigningKey, tc.envKey)
			t.Setenv(envPassphrase, tc.envPass)
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"build", "--packages", "../../packages", "--out", out}, tc.args...)
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
				t.Fatalf("exit status %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), "market: built 7 version(s)") {
				t.Errorf("stdout:\n%s\nwant the built line", stdout.String())
			}
			checkNoSecret(t, "stdout", stdout.String(), secrets)
			checkNoSecret(t, "stderr", stderr.String(), secrets)
			for _, v := range []string{envSigningKey, envPassphrase} {
				if os.Getenv(v) != "" {
					t.Errorf("%s is still set after the key was loaded: a child process would inherit it", v)
				}
			}
			checkTreeHasNoSecret(t, out, secrets)
		})
	}
}

// checkTreeHasNoSecret checks that no file of a built tree holds a secret,
// and that its keys.asc holds no secret key packet.
func checkTreeHasNoSecret(t *testing.T, out string, secrets []string) {
	t.Helper()
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		checkNoSecret(t, p, string(data), secrets)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(out, "v1", "keys.asc"))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := sign.ReadKeyRing(pub)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ring {
		if e.PrivateKey != nil {
			t.Errorf("keys.asc holds the secret key of %X", e.PrimaryKey.Fingerprint)
		}
		for _, s := range e.Subkeys {
			if s.PrivateKey != nil {
				t.Errorf("keys.asc holds the secret subkey %X", s.PublicKey.Fingerprint)
			}
		}
	}
}

func realPassphrase(t *testing.T) string {
	t.Helper()
	p := string(readKey(t, "gpg-ed25519-sub.passphrase"))
	if p == "" {
		t.Fatal("empty passphrase file")
	}
	return p
}

// publicHalf is the armored public key (with its revocation, if any) of a
// secret key file.
func publicHalf(t *testing.T, name string) []byte {
	t.Helper()
	el, err := sign.ReadKeyRing(readKey(t, name))
	if err != nil || len(el) != 1 {
		t.Fatalf("%s: %v", name, err)
	}
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := el[0].Serialize(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readKey(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(secretKeys, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// private writes data to dir/name, readable by its owner only.
func private(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// secretStrings lists what must never be printed: both passphrases, the
// words of an armored secret key's header, and every base64 line of every
// armored secret key in testdata/keys (lines shorter than 16 characters,
// such as a last line of padding, could match by chance and are left out).
func secretStrings(t *testing.T, real string) []string {
	t.Helper()
	secrets := []string{real, wrongPassphrase, "PRIVATE KEY"}
	files, err := filepath.Glob(filepath.Join(secretKeys, "*.sec.asc"))
	if err != nil || len(files) < 6 {
		t.Fatalf("secret keys: %v, %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		body := false
		for _, l := range strings.Split(string(data), "\n") {
			l = strings.TrimSpace(l)
			switch {
			case strings.HasPrefix(l, "-----BEGIN"):
				body = false
			case strings.HasPrefix(l, "-----END"):
				body = false
			case l == "":
				body = true // the blank line ends the armor headers
			case body && !strings.HasPrefix(l, "=") && len(l) >= 16:
				secrets = append(secrets, l)
				n++
			}
		}
		if n == 0 {
			t.Fatalf("%s: no armored lines found", f)
		}
	}
	return secrets
}

func checkNoSecret(t *testing.T, where, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s holds a secret: %q", where, s)
		}
	}
}

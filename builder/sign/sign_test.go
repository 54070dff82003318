package sign_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/market-dev/market/builder/sign"
)

const keys = "testdata/keys"

func readKey(name string) ([]byte, error) { return os.ReadFile(filepath.Join(keys, name)) }

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := readKey(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSignaturesVerifyIndependently signs with every kind of usable key and
// checks each signature with gpgv and sqv, not only with go-crypto.
func TestSignaturesVerifyIndependently(t *testing.T) {
	genSec, genPub, err := sign.Generate("market test", "test@market.invalid", sign.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		sec, pub []byte
		opts     sign.Options
		signer   string // fingerprint of the key that must have signed
	}{
		{"demo ed25519", read(t, "demo.sec.asc"), read(t, "demo.pub.asc"), sign.Options{}, "2B3B364AA3A16485B0E006F7B90D1C483C1F605C"},
		{"gpg subkey armored", read(t, "gpg-ed25519-sub.sec.asc"), read(t, "gpg-ed25519-sub.pub.asc"),
			sign.Options{Passphrase: read(t, "gpg-ed25519-sub.passphrase")}, "5EC6BDA58A241123BBD0764B2FC84936E9A78A42"},
		{"gpg subkey binary by primary id", read(t, "gpg-ed25519-sub.sec.gpg"), read(t, "gpg-ed25519-sub.pub.asc"),
			sign.Options{Passphrase: read(t, "gpg-ed25519-sub.passphrase"), KeyID: "0xF1F1DE169ED82305A2B43CEF069D67EEACC3DEBC"}, "5EC6BDA58A241123BBD0764B2FC84936E9A78A42"},
		{"gpg subkey by long id", read(t, "gpg-ed25519-sub.sec.asc"), read(t, "gpg-ed25519-sub.pub.asc"),
			sign.Options{Passphrase: read(t, "gpg-ed25519-sub.passphrase"), KeyID: "2fc84936e9a78a42"}, "5EC6BDA58A241123BBD0764B2FC84936E9A78A42"},
		{"rsa3072", read(t, "rsa3072.sec.asc"), read(t, "rsa3072.pub.asc"), sign.Options{}, "C3E04758BE06075E797AD2029BC2CF4F55F4AC33"},
		{"generated ed25519", genSec, genPub, sign.Options{}, ""},
	}
	dir := t.TempDir()
	msg := filepath.Join(dir, "message")
	if err := os.WriteFile(msg, []byte("a file to sign\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sign.Load(tc.sec, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tc.signer != "" && s.SigningFingerprint() != tc.signer {
				t.Errorf("signing key %s, want %s", s.SigningFingerprint(), tc.signer)
			}
			sig := filepath.Join(t.TempDir(), "message.asc")
			var buf bytes.Buffer
			if err := s.Sign(&buf, strings.NewReader("a file to sign\n")); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(sig, buf.Bytes(), 0o644)
			pub := filepath.Join(t.TempDir(), "pub.asc")
			os.WriteFile(pub, tc.pub, 0o644)
			ring := filepath.Join(t.TempDir(), "pub.gpg")
			os.WriteFile(ring, dearmor(t, tc.pub), 0o644)
			if out, err := exec.Command("gpgv", "--keyring", ring, sig, msg).CombinedOutput(); err != nil {
				t.Errorf("gpgv: %v\n%s", err, out)
			}
			if out, err := exec.Command("sqv", "--keyring", pub, sig, msg).CombinedOutput(); err != nil {
				t.Errorf("sqv: %v\n%s", err, out)
			}
			// And a changed message must not verify, in either tool.
			bad := filepath.Join(t.TempDir(), "message")
			os.WriteFile(bad, []byte("a file to sign!\n"), 0o644)
			if err := exec.Command("gpgv", "--keyring", ring, sig, bad).Run(); err == nil {
				t.Error("gpgv accepted a signature over other bytes")
			}
			if err := exec.Command("sqv", "--keyring", pub, sig, bad).Run(); err == nil {
				t.Error("sqv accepted a signature over other bytes")
			}
			if err := s.Verify(strings.NewReader("a file to sign!\n"), bytes.NewReader(buf.Bytes())); !errors.Is(err, sign.ErrBadSignature) {
				t.Errorf("Verify of other bytes = %v, want ErrBadSignature", err)
			}
		})
	}
}

func dearmor(t *testing.T, armored []byte) []byte {
	t.Helper()
	block, err := armor.Decode(bytes.NewReader(armored))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(block.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestUnusableKeys: each refusal is a KeyError whose message says why, and
// never contains the passphrase.
func TestUnusableKeys(t *testing.T) {
	pass := read(t, "gpg-ed25519-sub.passphrase")
	cases := []struct {
		name string
		key  []byte
		opts sign.Options
		want string
	}{
		{"wrong passphrase", read(t, "gpg-ed25519-sub.sec.asc"), sign.Options{Passphrase: read(t, "wrong-passphrase.txt")}, "wrong passphrase"},
		{"no passphrase", read(t, "gpg-ed25519-sub.sec.asc"), sign.Options{}, "protected by a passphrase"},
		{"public key", read(t, "demo.pub.asc"), sign.Options{}, "is a public key"},
		{"encryption only", read(t, "encrypt-only.sec.asc"), sign.Options{}, "no valid signing key"},
		{"expired", read(t, "expired.sec.asc"), sign.Options{}, "expired on 2020-01-02"},
		{"revoked", read(t, "revoked.sec.asc"), sign.Options{}, "revoked"},
		{"rsa1024", read(t, "rsa1024.sec.asc"), sign.Options{}, "RSA-1024"},
		{"garbage", []byte("not a key at all"), sign.Options{}, "not a readable OpenPGP key"},
		{"unknown key id", read(t, "demo.sec.asc"), sign.Options{KeyID: "0x0123456789ABCDEF"}, "no key 0x0123456789ABCDEF"},
		{"malformed key id", read(t, "demo.sec.asc"), sign.Options{KeyID: "xyz"}, "not a key ID"},
		{"encryption subkey by id", read(t, "encrypt-only.sec.asc"), sign.Options{KeyID: "C7A398C72BCF463B21F9E4D6176FA9E2A406EC74"}, "cannot sign"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sign.Load(tc.key, tc.opts)
			var ke *sign.KeyError
			if !errors.As(err, &ke) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v, want a KeyError saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), string(pass)) || strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("error leaks secrets: %v", err)
			}
		})
	}
}

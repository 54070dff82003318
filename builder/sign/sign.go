// Package sign makes and checks the ASCII-armored detached OpenPGP
// signatures of a marketplace tree, over ProtonMail/go-crypto.
package sign

import (
	"bytes"
	"crypto"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// MinRSABits is the smallest RSA modulus accepted for signing.
const MinRSABits = 2048

// Hash is the digest every signature is made over.
const Hash = crypto.SHA256

// Signer signs with one OpenPGP signing key (a primary key or a signing subkey).
type Signer struct {
	entity *openpgp.Entity
	key    openpgp.Key
	config *packet.Config
}

// KeyError says why a key cannot sign. Its message never holds key material
// or the passphrase.
type KeyError struct{ Msg string }

func (e *KeyError) Error() string { return e.Msg }

func keyErr(format string, args ...any) error { return &KeyError{fmt.Sprintf(format, args...)} }

// Options choose and unlock the signing key.
type Options struct {
	// KeyID picks a key or signing subkey by fingerprint or long key ID,
	// with or without 0x. Empty: the only usable signing key in the file.
	KeyID string
	// Passphrase unlocks a protected key.
	Passphrase []byte
	// Now is the time keys are checked at (expiry, revocation); zero means time.Now.
	Now time.Time
}

// Load reads a secret key export (armored or binary, GnuPG 2.1+ exports
// included) and returns a Signer for the chosen signing key, unlocked.
func Load(data []byte, opts Options) (*Signer, error) {
	el, err := ReadKeyRing(data)
	if err != nil {
		return nil, &KeyError{err.Error()}
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	want, err := parseKeyID(opts.KeyID)
	if err != nil {
		return nil, err
	}
	var candidates []openpgp.Key
	var reasons []string
	for _, e := range el {
		k, why := signingKey(e, want, now)
		if k.PublicKey == nil && why == "" {
			continue // not the key --key-id names
		}
		if why != "" {
			reasons = append(reasons, why)
			continue
		}
		candidates = append(candidates, k)
	}
	switch {
	case len(candidates) == 0 && want.set && len(reasons) == 0:
		return nil, keyErr("no key %s in the key file", opts.KeyID)
	case len(candidates) == 0:
		return nil, keyErr("no usable signing key: %s", strings.Join(reasons, "; "))
	case len(candidates) > 1:
		var ids []string
		for _, c := range candidates {
			ids = append(ids, fingerprint(c.PublicKey))
		}
		return nil, keyErr("the key file holds %d signing keys (%s); choose one with --key-id", len(candidates), strings.Join(ids, ", "))
	}
	k := candidates[0]
	if err := checkAlgorithm(k.PublicKey); err != nil {
		return nil, err
	}
	if k.PrivateKey.Encrypted {
		if len(opts.Passphrase) == 0 {
			return nil, keyErr("key %s is protected by a passphrase: set MARKET_KEY_PASSPHRASE or use --passphrase-file", fingerprint(k.PublicKey))
		}
		if err := k.PrivateKey.Decrypt(opts.Passphrase); err != nil {
			return nil, keyErr("wrong passphrase for key %s", fingerprint(k.PublicKey))
		}
	}
	cfg := &packet.Config{
		DefaultHash:  Hash,
		SigningKeyId: k.PublicKey.KeyId,
	}
	s := &Signer{entity: k.Entity, key: k, config: cfg}
	// A test signature proves the key works before anything is written.
	var sig bytes.Buffer
	if err := s.Sign(&sig, strings.NewReader("market key check")); err != nil {
		return nil, keyErr("key %s cannot sign: %v", fingerprint(k.PublicKey), err)
	}
	if err := s.Verify(strings.NewReader("market key check"), &sig); err != nil {
		return nil, keyErr("key %s made a signature that does not verify: %v", fingerprint(k.PublicKey), err)
	}
	return s, nil
}

type keyID struct {
	set         bool
	fingerprint []byte // 20 bytes (v4) when a fingerprint was given
	id          uint64
}

func parseKeyID(s string) (keyID, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if s == "" {
		return keyID{}, nil
	}
	raw := make([]byte, len(s)/2)
	if _, err := fmt.Sscanf(s, "%X", &raw); err != nil || len(s)%2 != 0 || (len(s) != 16 && len(s) != 40) {
		return keyID{}, keyErr("--key-id %q is not a key ID: want a 40-hex-digit fingerprint or a 16-hex-digit long key ID", s)
	}
	k := keyID{set: true}
	if len(raw) == 20 {
		k.fingerprint = raw
	}
	for _, b := range raw[len(raw)-8:] {
		k.id = k.id<<8 | uint64(b)
	}
	return k, nil
}

func (k keyID) matches(pk *packet.PublicKey) bool {
	if !k.set {
		return true
	}
	if k.fingerprint != nil {
		return bytes.Equal(pk.Fingerprint, k.fingerprint)
	}
	return pk.KeyId == k.id
}

// signingKey picks the signing key of e that want names (or e's best one),
// or says why e has none. Both results are empty when want names another key.
func signingKey(e *openpgp.Entity, want keyID, now time.Time) (openpgp.Key, string) {
	primary := fingerprint(e.PrimaryKey)
	var id uint64
	if want.set {
		switch {
		case want.matches(e.PrimaryKey):
			// the entity's best signing key: the primary or a signing subkey
		default:
			found := false
			for _, sk := range e.Subkeys {
				if want.matches(sk.PublicKey) {
					found, id = true, sk.PublicKey.KeyId
				}
			}
			if !found {
				return openpgp.Key{}, ""
			}
		}
	}
	if e.PrivateKey == nil {
		return openpgp.Key{}, fmt.Sprintf("%s is a public key; --key needs the secret key export (gpg --armor --export-secret-keys %s)", primary, primary)
	}
	if e.Revoked(now) {
		return openpgp.Key{}, fmt.Sprintf("key %s is revoked", primary)
	}
	if sig, _ := e.PrimarySelfSignature(); sig != nil && e.PrimaryKey.KeyExpired(sig, now) {
		return openpgp.Key{}, fmt.Sprintf("key %s expired on %s", primary, expiry(e.PrimaryKey.CreationTime, sig.KeyLifetimeSecs))
	}
	k, ok := e.SigningKeyById(now, id)
	if !ok {
		if id != 0 {
			return openpgp.Key{}, fmt.Sprintf("subkey %016X of %s cannot sign (not a signing subkey, expired or revoked)", id, primary)
		}
		return openpgp.Key{}, fmt.Sprintf("key %s has no valid signing key (encryption-only, or its signing subkeys expired or were revoked)", primary)
	}
	if k.PrivateKey == nil || k.PrivateKey.Dummy() {
		return openpgp.Key{}, fmt.Sprintf("the secret part of signing key %s is not in the file (gpg exported a stub): export it with gpg --armor --export-secret-keys", fingerprint(k.PublicKey))
	}
	return k, ""
}

func expiry(created time.Time, lifetime *uint32) string {
	if lifetime == nil {
		return "an unknown date"
	}
	return created.Add(time.Duration(*lifetime) * time.Second).UTC().Format("2006-01-02")
}

func checkAlgorithm(pk *packet.PublicKey) error {
	if pk.Version != 4 {
		return keyErr("key %s is an OpenPGP v%d key; use a v4 key (GnuPG 2.2 and older consumers cannot verify v%d signatures)", fingerprint(pk), pk.Version, pk.Version)
	}
	switch pk.PubKeyAlgo {
	case packet.PubKeyAlgoEdDSA:
		return nil
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSASignOnly:
		bits, err := pk.BitLength()
		if err != nil {
			return keyErr("key %s: %v", fingerprint(pk), err)
		}
		if bits < MinRSABits {
			return keyErr("key %s is RSA-%d; RSA keys need at least %d bits (MinRSABits)", fingerprint(pk), bits, MinRSABits)
		}
		return nil
	case packet.PubKeyAlgoEd25519:
		return keyErr("key %s uses the RFC 9580 Ed25519 algorithm, which GnuPG 2.2 cannot verify; generate a v4 EdDSA key (market key generate)", fingerprint(pk))
	}
	return keyErr("key %s uses public-key algorithm %d; use Ed25519 (v4 EdDSA) or RSA >= %d", fingerprint(pk), pk.PubKeyAlgo, MinRSABits)
}

func fingerprint(pk *packet.PublicKey) string { return fmt.Sprintf("%X", pk.Fingerprint) }

// Fingerprint returns the fingerprint of the primary key, upper-case hex.
func (s *Signer) Fingerprint() string { return fingerprint(s.entity.PrimaryKey) }

// SigningFingerprint returns the fingerprint of the key that makes signatures
// (a subkey's when a signing subkey is used).
func (s *Signer) SigningFingerprint() string { return fingerprint(s.key.PublicKey) }

// PublicKey writes the armored public key (certificate) of the signer.
func (s *Signer) PublicKey(w io.Writer) error {
	return writeArmored(w, openpgp.PublicKeyType, s.entity.Serialize)
}

// writeArmored writes what write produces as an armored block of blockType,
// followed by a newline.
func writeArmored(w io.Writer, blockType string, write func(io.Writer) error) error {
	aw, err := armor.Encode(w, blockType, nil)
	if err != nil {
		return err
	}
	if err := write(aw); err != nil {
		return err
	}
	if err := aw.Close(); err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n")
	return err
}

// Sign writes an armored detached signature of message to w, verified
// before it is written.
func (s *Signer) Sign(w io.Writer, message io.Reader) error {
	st, err := s.NewStream()
	if err != nil {
		return err
	}
	if _, err := io.Copy(st, message); err != nil {
		return err
	}
	return st.Finish(w)
}

// Verify checks an armored detached signature made by this signer.
func (s *Signer) Verify(message, signature io.Reader) error {
	return Verify(openpgp.EntityList{s.entity}, message, signature, time.Time{})
}

// acceptedHashes are the digests a signature may use: SHA-1 and weaker are refused.
var acceptedHashes = []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512, crypto.SHA3_256, crypto.SHA3_512}

// ErrBadSignature is returned when a signature does not verify.
var ErrBadSignature = errors.New("bad signature")

// Stream signs the bytes written to it, so a file can be copied, hashed and
// signed in one pass. Finish makes the signature and verifies it against
// the same digest before writing it.
type Stream struct {
	s   *Signer
	h   hash.Hash
	sig *packet.Signature
}

// NewStream starts a detached binary signature.
func (s *Signer) NewStream() (*Stream, error) {
	pk := s.key.PublicKey
	sig := &packet.Signature{
		Version:           pk.Version,
		SigType:           packet.SigTypeBinary,
		PubKeyAlgo:        pk.PubKeyAlgo,
		Hash:              Hash,
		CreationTime:      s.config.Now(),
		IssuerKeyId:       &pk.KeyId,
		IssuerKeyVersion:  uint8(pk.Version),
		IssuerFingerprint: pk.Fingerprint,
	}
	h, err := sig.PrepareSign(s.config)
	if err != nil {
		return nil, err
	}
	return &Stream{s: s, h: h, sig: sig}, nil
}

func (st *Stream) Write(p []byte) (int, error) { return st.h.Write(p) }

// Finish signs what was written, checks the signature with the public key,
// and writes it armored to w.
func (st *Stream) Finish(w io.Writer) error {
	state, err := st.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return err
	}
	check := Hash.New()
	if err := check.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return err
	}
	if err := st.sig.Sign(st.h, st.s.key.PrivateKey, st.s.config); err != nil {
		return err
	}
	if err := st.s.key.PublicKey.VerifySignature(check, st.sig); err != nil {
		return fmt.Errorf("%w: the signature just made does not verify: %v", ErrBadSignature, err)
	}
	return writeArmored(w, openpgp.SignatureType, st.sig.Serialize)
}

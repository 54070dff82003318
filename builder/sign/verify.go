package sign

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/market-dev/market/schema/catalog"
)

// MaxClockSkew is how far past the verifier's clock a signature's creation
// time may lie (the signer's clock may run a little ahead). A signature
// dated later than now+MaxClockSkew is refused with ErrFutureSignature.
const MaxClockSkew = 5 * time.Minute

// Why a signature is refused. Each wraps ErrBadSignature, so a caller that
// does not care why can test errors.Is(err, ErrBadSignature) alone; the
// error returned says which key and which dates.
var (
	// ErrUnknownKey: the signature was made by a key not in the keyring
	// (or by a key of it that is not allowed to sign).
	ErrUnknownKey = fmt.Errorf("%w: made by a key not in the keyring", ErrBadSignature)
	// ErrKeyRevoked: the signing key, its primary key or its user ID is
	// revoked, whenever the revocation was made and whatever its reason.
	ErrKeyRevoked = fmt.Errorf("%w: the signing key is revoked", ErrBadSignature)
	// ErrKeyExpired: the signing key was not valid when the signature was
	// made (expired already, or created later). A key that expired after
	// it signed is not an error.
	ErrKeyExpired = fmt.Errorf("%w: the signing key was not valid when it signed", ErrBadSignature)
	// ErrSignatureExpired: the signature's own expiration time has passed.
	ErrSignatureExpired = fmt.Errorf("%w: the signature has expired", ErrBadSignature)
	// ErrFutureSignature: the signature is dated more than MaxClockSkew
	// after now.
	ErrFutureSignature = fmt.Errorf("%w: the signature is dated in the future", ErrBadSignature)
)

// Verified describes a signature that Check accepted.
type Verified struct {
	// Fingerprint is the signer's primary key fingerprint, upper-case hex,
	// as Signer.Fingerprint.
	Fingerprint string
	// SigningFingerprint is the key that made the signature: the primary
	// key or one of its signing subkeys (as Signer.SigningFingerprint).
	SigningFingerprint string
	// Created is when the signature was made, by the signer's clock.
	Created time.Time
	// KeyExpires is when the signing key (or its primary key, whichever is
	// first) expires; zero when it does not. It may be before now: a key
	// that expired after it signed still vouches for what it signed.
	KeyExpires time.Time
}

// Verify checks an armored detached signature of message against keyring
// at time now (zero: time.Now), under the rules of Check.
func Verify(keyring openpgp.KeyRing, message, signature io.Reader, now time.Time) error {
	_, err := Check(keyring, message, signature, now)
	return err
}

// Check checks an armored detached signature of message against keyring
// at time now (zero: time.Now) and says who made it and when. Every error
// wraps ErrBadSignature; these say why:
//
//   - ErrUnknownKey: no key of keyring that may sign has the issuer's key ID.
//   - ErrKeyRevoked: the signing key, its primary key or (as go-crypto
//     judges it at signing time) its primary user ID is revoked. Every key
//     revocation counts, at any date: a "key compromised" one, one without a
//     reason, and the "soft" ones too ("key superseded", "key retired"),
//     even for a signature made before the revocation (RFC 9580 and sqv
//     accept those; gpgv reports REVKEYSIG for all). So a tree whose key
//     is retired must be re-signed by its successor before the revocation
//     is published in keys.asc. Copies of one key in keyring are taken
//     together: a revocation in any of them counts.
//   - ErrKeyExpired: the signing key (or its primary key) was not valid at
//     the signature's creation time: expired already, or created later.
//     Validity comes from the key's newest self-signature, whenever it was
//     made (as GnuPG does), so extending a key's expiry keeps its old
//     signatures valid. A key that has expired since it signed is accepted.
//   - ErrSignatureExpired: the signature carries an expiration time, and it
//     is past at now.
//   - ErrFutureSignature: the signature is dated more than MaxClockSkew
//     after now.
//
// Hashes weaker than SHA-256 (SHA-1, MD5, RIPEMD-160, SHA-224) are refused.
// A file holding several signatures is judged by the first one whose
// issuer is in keyring, as go-crypto does.
func Check(keyring openpgp.KeyRing, message, signature io.Reader, now time.Time) (*Verified, error) {
	if now.IsZero() {
		now = time.Now()
	}
	block, err := armor.Decode(signature)
	if err != nil {
		return nil, fmt.Errorf("%w: not an armored signature: %v", ErrBadSignature, err)
	}
	if block.Type != openpgp.SignatureType {
		return nil, fmt.Errorf("%w: armor holds %q, not a signature", ErrBadSignature, block.Type)
	}
	body, err := io.ReadAll(io.LimitReader(block.Body, catalog.MaxSignatureSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: bad armor: %v", ErrBadSignature, err)
	}
	if len(body) > catalog.MaxSignatureSize {
		return nil, fmt.Errorf("%w: larger than %d bytes (catalog.MaxSignatureSize)", ErrBadSignature, catalog.MaxSignatureSize)
	}
	sig, issuers, err := pickSignature(keyring, body)
	if err != nil {
		return nil, err
	}
	if sig == nil {
		return nil, fmt.Errorf("%w (issuer %s)", ErrUnknownKey, strings.Join(issuers, ", "))
	}

	// go-crypto checks the key's expiry and revocation at config.Time: at
	// the signature's creation time here. Its expiry verdicts are redone
	// below (it also refuses self-signatures made after the signature);
	// revocations are checked again at any time.
	created := sig.CreationTime
	cfg := &packet.Config{Time: func() time.Time { return created }}
	signer, err := openpgp.CheckDetachedSignatureAndHash(keyring, message, bytes.NewReader(body), acceptedHashes, cfg)
	var nativeRevoked bool
	switch {
	case signer != nil && (err == nil || errors.Is(err, pgperrors.ErrKeyExpired) || errors.Is(err, pgperrors.ErrSignatureExpired)):
		// The signature is good; what the key says about it is judged below.
	case signer != nil && errors.Is(err, pgperrors.ErrKeyRevoked):
		nativeRevoked = true
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return nil, fmt.Errorf("%w (issuer %016X)", ErrUnknownKey, *sig.IssuerKeyId)
	default:
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}

	copies := signingKeys(keyring, *sig.IssuerKeyId, signer)
	key := newest(copies)
	fpr := fingerprint(key.PublicKey)
	if why := revocation(copies); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrKeyRevoked, why)
	}
	if nativeRevoked {
		return nil, fmt.Errorf("%w: key %s or its user ID was revoked when it signed", ErrKeyRevoked, fpr)
	}
	if created.After(now.Add(MaxClockSkew)) {
		return nil, fmt.Errorf("%w: made %s by key %s, after now (%s) + %v (MaxClockSkew)",
			ErrFutureSignature, stamp(created), fpr, stamp(now), MaxClockSkew)
	}
	expires, err := keyValidAt(key, created)
	if err != nil {
		return nil, err
	}
	if sigExpired(sig, now) {
		return nil, fmt.Errorf("%w: made %s by key %s, valid until %s", ErrSignatureExpired,
			stamp(created), fpr, stamp(created.Add(time.Duration(*sig.SigLifetimeSecs)*time.Second)))
	}
	return &Verified{
		Fingerprint:        fingerprint(key.Entity.PrimaryKey),
		SigningFingerprint: fpr,
		Created:            created,
		KeyExpires:         expires,
	}, nil
}

// pickSignature returns the signature packet go-crypto will check: the
// first whose issuer has a signing key in keyring. Without one it returns
// the issuers' key IDs.
func pickSignature(keyring openpgp.KeyRing, body []byte) (*packet.Signature, []string, error) {
	var issuers []string
	packets := packet.NewReader(bytes.NewReader(body))
	for {
		p, err := packets.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
		}
		sig, ok := p.(*packet.Signature)
		if !ok {
			return nil, nil, fmt.Errorf("%w: holds a packet that is not a signature", ErrBadSignature)
		}
		if sig.IssuerKeyId == nil {
			return nil, nil, fmt.Errorf("%w: the signature names no issuer key ID", ErrBadSignature)
		}
		if !slices.Contains(acceptedHashes, sig.Hash) {
			return nil, nil, fmt.Errorf("%w: made over a %v digest; SHA-256 or stronger is required", ErrBadSignature, sig.Hash)
		}
		if len(keyring.KeysByIdUsage(*sig.IssuerKeyId, packet.KeyFlagSign)) > 0 {
			return sig, nil, nil
		}
		issuers = append(issuers, fmt.Sprintf("%016X", *sig.IssuerKeyId))
	}
	if len(issuers) == 0 {
		return nil, nil, fmt.Errorf("%w: holds no signature", ErrBadSignature)
	}
	return nil, issuers, nil
}

// signingKeys returns the key of signer that has key ID id and may sign,
// then the other copies of it in keyring (the same key in other entities).
func signingKeys(keyring openpgp.KeyRing, id uint64, signer *openpgp.Entity) []openpgp.Key {
	all := keyring.KeysByIdUsage(id, packet.KeyFlagSign)
	var copies []openpgp.Key
	for _, k := range all {
		if k.Entity == signer {
			copies = append(copies, k)
			break
		}
	}
	for _, k := range all {
		if k.Entity != signer && bytes.Equal(k.PublicKey.Fingerprint, copies[0].PublicKey.Fingerprint) {
			copies = append(copies, k)
		}
	}
	return copies
}

// revocation says how the key (or its primary key) is revoked in any of
// its copies, or returns "" if it is not.
func revocation(copies []openpgp.Key) string {
	for _, k := range copies {
		if len(k.Entity.Revocations) > 0 {
			return fmt.Sprintf("key %s %s", fingerprint(k.Entity.PrimaryKey), revoked(k.Entity.Revocations[0]))
		}
		if k.PublicKey != k.Entity.PrimaryKey && len(k.Revocations) > 0 {
			return fmt.Sprintf("signing subkey %s of %s %s", fingerprint(k.PublicKey), fingerprint(k.Entity.PrimaryKey), revoked(k.Revocations[0]))
		}
	}
	return ""
}

func revoked(rev *packet.Signature) string {
	s := "was revoked on " + stamp(rev.CreationTime)
	if rev.RevocationReason != nil {
		switch *rev.RevocationReason {
		case packet.KeySuperseded:
			s += " (key superseded)"
		case packet.KeyCompromised:
			s += " (key compromised)"
		case packet.KeyRetired:
			s += " (key retired)"
		}
	}
	if rev.RevocationReasonText != "" {
		s += fmt.Sprintf(": %q", rev.RevocationReasonText)
	}
	return s
}

// newest returns the copy of a key with the newest self-signature (the
// binding signature, for a subkey): the one its owner made last.
func newest(copies []openpgp.Key) openpgp.Key {
	k := copies[0]
	for _, c := range copies[1:] {
		if c.SelfSignature != nil && (k.SelfSignature == nil || c.SelfSignature.CreationTime.After(k.SelfSignature.CreationTime)) {
			k = c
		}
	}
	return k
}

// keyValidAt checks that key, and its primary key for a subkey, was valid
// at t, and returns when the first of them expires (zero: never).
func keyValidAt(key openpgp.Key, t time.Time) (time.Time, error) {
	self, _ := key.Entity.PrimarySelfSignature()
	if self == nil {
		return time.Time{}, fmt.Errorf("%w: key %s has no self-signature", ErrKeyExpired, fingerprint(key.Entity.PrimaryKey))
	}
	expires, err := validAt("key", key.Entity.PrimaryKey, self, t)
	if err != nil || key.PublicKey == key.Entity.PrimaryKey {
		return expires, err
	}
	sub, err := validAt("signing subkey", key.PublicKey, key.SelfSignature, t)
	if err != nil {
		return time.Time{}, err
	}
	if back := key.SelfSignature.EmbeddedSignature; back != nil && sigExpired(back, t) {
		return time.Time{}, fmt.Errorf("%w: the cross-signature of signing subkey %s expired before the signature (%s)",
			ErrKeyExpired, fingerprint(key.PublicKey), stamp(t))
	}
	if !sub.IsZero() && (expires.IsZero() || sub.Before(expires)) {
		expires = sub
	}
	return expires, nil
}

// validAt checks that pk, with self-signature self, was valid at t: created
// by then, not expired, and self not expired. Unlike go-crypto it does not
// ask that self be older than t: the newest self-signature states the key's
// validity period, whenever it was made.
func validAt(what string, pk *packet.PublicKey, self *packet.Signature, t time.Time) (time.Time, error) {
	var expires time.Time
	if self.KeyLifetimeSecs != nil && *self.KeyLifetimeSecs != 0 {
		expires = pk.CreationTime.Add(time.Duration(*self.KeyLifetimeSecs) * time.Second)
	}
	switch {
	case t.Unix() < pk.CreationTime.Unix():
		return expires, fmt.Errorf("%w: %s %s was created %s, after the signature (%s)", ErrKeyExpired, what, fingerprint(pk), stamp(pk.CreationTime), stamp(t))
	case !expires.IsZero() && t.Unix() > expires.Unix():
		return expires, fmt.Errorf("%w: %s %s expired %s, before the signature (%s)", ErrKeyExpired, what, fingerprint(pk), stamp(expires), stamp(t))
	case sigExpired(self, t):
		return expires, fmt.Errorf("%w: the self-signature of %s %s expired before the signature (%s)", ErrKeyExpired, what, fingerprint(pk), stamp(t))
	}
	return expires, nil
}

// sigExpired says whether sig's own expiration time is before t.
func sigExpired(sig *packet.Signature, t time.Time) bool {
	return sig.SigLifetimeSecs != nil && *sig.SigLifetimeSecs != 0 &&
		t.Unix() > sig.CreationTime.Unix()+int64(*sig.SigLifetimeSecs)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

var armorBegin = []byte("-----BEGIN PGP ")

// ReadKeyRing reads OpenPGP keys, public or secret: a binary keyring (gpg
// --export), one armored block of one or more keys, or several armored
// blocks one after the other (as keys.asc holds during a key rotation).
// Text around and between armored blocks is ignored. A copy of a key that
// appears twice is kept twice; Check takes copies together.
func ReadKeyRing(data []byte) (openpgp.EntityList, error) {
	trimmed := bytes.TrimSpace(data)
	if !bytes.HasPrefix(trimmed, armorBegin) && !bytes.Contains(trimmed, append([]byte("\n"), armorBegin...)) {
		el, err := openpgp.ReadKeyRing(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("not a readable OpenPGP key (armored or binary): %v", err)
		}
		return el, nil
	}
	blocks := armoredBlocks(trimmed)
	var el openpgp.EntityList
	for i, b := range blocks {
		keys, err := readArmoredKeys(b)
		if err != nil {
			if len(blocks) > 1 {
				err = fmt.Errorf("armored block %d of %d: %w", i+1, len(blocks), err)
			}
			return nil, err
		}
		el = append(el, keys...)
	}
	return el, nil
}

// armoredBlocks splits data at each line that starts an armored block.
func armoredBlocks(data []byte) [][]byte {
	var starts []int
	for i := 0; ; {
		j := bytes.Index(data[i:], armorBegin)
		if j < 0 {
			break
		}
		if at := i + j; at == 0 || data[at-1] == '\n' {
			starts = append(starts, at)
		}
		i += j + len(armorBegin)
	}
	blocks := make([][]byte, len(starts))
	for n, at := range starts {
		end := len(data)
		if n+1 < len(starts) {
			end = starts[n+1]
		}
		blocks[n] = data[at:end]
	}
	return blocks
}

func readArmoredKeys(data []byte) (openpgp.EntityList, error) {
	block, err := armor.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not an OpenPGP key: bad armor: %v", err)
	}
	if block.Type != openpgp.PrivateKeyType && block.Type != openpgp.PublicKeyType {
		return nil, fmt.Errorf("not an OpenPGP key: armor holds %q", block.Type)
	}
	body, err := io.ReadAll(block.Body)
	if err != nil {
		return nil, fmt.Errorf("not an OpenPGP key: bad armor: %v", err)
	}
	el, err := openpgp.ReadKeyRing(bytes.NewReader(body))
	if err != nil {
		if revocationCertificate(body) {
			return nil, fmt.Errorf("holds a bare revocation certificate, not a key: import it (gpg --import) and export the revoked key with it (gpg --armor --export ID)")
		}
		return nil, fmt.Errorf("not a readable OpenPGP key: %v", err)
	}
	if len(el) == 0 {
		return nil, fmt.Errorf("not an OpenPGP key: the armored block holds no key")
	}
	return el, nil
}

// revocationCertificate says whether body starts with a key revocation
// signature (gpg --gen-revoke output), which go-crypto cannot read alone.
func revocationCertificate(body []byte) bool {
	p, err := packet.NewReader(bytes.NewReader(body)).Next()
	sig, ok := p.(*packet.Signature)
	return err == nil && ok && sig.SigType == packet.SigTypeKeyRevocation
}

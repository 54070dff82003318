package sign

import (
	"bytes"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// PublicKeys writes one armored block holding the signer's public key and
// then extra, skipping any key already written: the keys.asc a tree serves,
// which may carry more than one key while a key is being rotated.
func (s *Signer) PublicKeys(w io.Writer, extra openpgp.EntityList) error {
	return writeArmored(w, openpgp.PublicKeyType, func(w io.Writer) error {
		seen := map[string]bool{}
		for _, e := range append(openpgp.EntityList{s.entity}, extra...) {
			fpr := fingerprint(e.PrimaryKey)
			if seen[fpr] {
				continue
			}
			seen[fpr] = true
			if err := e.Serialize(w); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReadPublicKeys reads public keys to publish beside the signer's. A file
// that holds a secret key is refused: publishing is for certificates
// (gpg --armor --export ID), and a secret key passed by mistake must not
// end up anywhere near a served tree.
func ReadPublicKeys(data []byte) (openpgp.EntityList, error) {
	if bytes.Contains(data, []byte("PRIVATE KEY BLOCK")) {
		return nil, keyErr("holds a secret key; publish the public key instead (gpg --armor --export ID)")
	}
	keys, err := ReadKeyRing(data)
	if err != nil {
		return nil, keyErr("not an OpenPGP public key: %v", err)
	}
	for _, e := range keys {
		if e.PrivateKey != nil {
			return nil, keyErr("holds a secret key; publish the public key instead (gpg --armor --export ID)")
		}
		if len(e.Revocations) > 0 {
			return nil, keyErr("key %s is revoked; a revoked key is not published for consumers to trust", fingerprint(e.PrimaryKey))
		}
	}
	if len(keys) == 0 {
		return nil, keyErr("holds no key")
	}
	return keys, nil
}

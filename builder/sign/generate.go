package sign

import (
	"bytes"
	"fmt"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Algorithms that Generate can make.
const (
	Ed25519 = "ed25519" // OpenPGP v4 EdDSA over Curve25519, which GnuPG 2.2 verifies
	RSA4096 = "rsa4096"
)

// Generate makes a new signing key with the user ID "name <email>" and
// returns its armored secret key and armored public key.
func Generate(name, email, algo string) (secret, public []byte, err error) {
	cfg := &packet.Config{DefaultHash: Hash, V6Keys: false}
	switch algo {
	case Ed25519, "":
		cfg.Algorithm = packet.PubKeyAlgoEdDSA
		cfg.Curve = packet.Curve25519
	case RSA4096:
		cfg.Algorithm = packet.PubKeyAlgoRSA
		cfg.RSABits = 4096
	default:
		return nil, nil, fmt.Errorf("unknown algorithm %q (want %s or %s)", algo, Ed25519, RSA4096)
	}
	e, err := openpgp.NewEntity(name, "", email, cfg)
	if err != nil {
		return nil, nil, err
	}
	var sec, pub bytes.Buffer
	if err := writeArmored(&sec, openpgp.PrivateKeyType, func(w io.Writer) error { return e.SerializePrivate(w, cfg) }); err != nil {
		return nil, nil, err
	}
	if err := writeArmored(&pub, openpgp.PublicKeyType, e.Serialize); err != nil {
		return nil, nil, err
	}
	return sec.Bytes(), pub.Bytes(), nil
}

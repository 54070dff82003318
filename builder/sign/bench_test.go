package sign_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/market-dev/market/builder/sign"
)

// BenchmarkSign signs 1 MiB with the Ed25519 and RSA-3072 test keys,
// including the verification each signature gets.
func BenchmarkSign(b *testing.B) {
	msg := bytes.Repeat([]byte("market"), 1<<20/6)
	for _, k := range []string{"demo.sec.asc", "rsa3072.sec.asc"} {
		b.Run(k, func(b *testing.B) {
			data, err := readKey(k)
			if err != nil {
				b.Fatal(err)
			}
			s, err := sign.Load(data, sign.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if err := s.Sign(io.Discard, bytes.NewReader(msg)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

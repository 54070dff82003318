package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/market-dev/market/builder/sign"
)

func newKeyCmd() *cobra.Command {
	c := group(&cobra.Command{
		Use:   "key",
		Short: "Manage signing keys",
	})
	c.AddCommand(newKeyGenerateCmd())
	return c
}

// keyGenerateOptions are market key generate's flags.
type keyGenerateOptions struct {
	name, email, algo, out string
}

func newKeyGenerateCmd() *cobra.Command {
	o := &keyGenerateOptions{}
	c := &cobra.Command{
		Use:   "generate --name N --email E --out FILE",
		Short: "Create a new signing key (no GnuPG needed)",
		Long: `Create a new OpenPGP v4 signing key: Ed25519 (EdDSA, which GnuPG 2.2 verifies)
by default, or RSA-4096. Writes the armored secret key to FILE (mode 0600,
unprotected: store it as a CI secret) and the armored public key to FILE.pub.asc.
`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error { return o.run(c.Context(), streamsOf(c)) },
	}
	o.addFlags(c.Flags())
	return c
}

func (o *keyGenerateOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.name, "name", "", "the key owner's name, e.g. \"Example Hub\"")
	f.StringVar(&o.email, "email", "", "the key owner's email")
	f.StringVar(&o.algo, "algo", sign.Ed25519, "ed25519 or rsa4096")
	f.StringVar(&o.out, "out", "", "secret key file to create")
}

func (o *keyGenerateOptions) run(_ context.Context, s streams) error {
	if o.name == "" || o.email == "" || o.out == "" {
		return usagef("--name, --email and --out are required")
	}
	pubFile := o.out + ".pub.asc"
	for _, p := range []string{o.out, pubFile} {
		if _, err := os.Lstat(p); err == nil {
			return usagef("%s exists; market key generate never overwrites a key", p)
		}
	}
	sec, pub, err := sign.Generate(o.name, o.email, o.algo)
	if err != nil {
		return usageError{err}
	}
	if err := createNew(o.out, sec, 0o600); err != nil {
		return err
	}
	if err := createNew(pubFile, pub, 0o644); err != nil {
		return err
	}
	signer, err := sign.Load(sec, sign.Options{})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "secret key: %s (keep it secret)\npublic key: %s\nfingerprint: %s\n", o.out, pubFile, signer.Fingerprint())
	return nil
}

// createNew writes data to a file that must not exist yet.
func createNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return usageError{err}
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

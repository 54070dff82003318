package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/market-dev/market/builder/sign"
)

func newKey() *cobra.Command {
	c := &cobra.Command{
		Use:   "key",
		Short: "Manage signing keys",
	}
	c.AddCommand(newKeyGenerate())
	return c
}

func newKeyGenerate() *cobra.Command {
	var name, email, algo, out string
	c := &cobra.Command{
		Use:   "generate --name N --email E --out FILE",
		Short: "Create a new signing key (no GnuPG needed)",
		Long: `Create a new OpenPGP v4 signing key: Ed25519 (EdDSA, which GnuPG 2.2 verifies)
by default, or RSA-4096. Writes the armored secret key to FILE (mode 0600,
unprotected: store it as a CI secret) and the armored public key to FILE.pub.asc.
`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" || email == "" || out == "" {
				return usagef("--name, --email and --out are required")
			}
			pubFile := out + ".pub.asc"
			for _, p := range []string{out, pubFile} {
				if _, err := os.Lstat(p); err == nil {
					return usagef("%s exists; market key generate never overwrites a key", p)
				}
			}
			sec, pub, err := sign.Generate(name, email, algo)
			if err != nil {
				return usageError{err}
			}
			if err := createNew(out, sec, 0o600); err != nil {
				return err
			}
			if err := createNew(pubFile, pub, 0o644); err != nil {
				return err
			}
			s, err := sign.Load(sec, sign.Options{})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "secret key: %s (keep it secret)\npublic key: %s\nfingerprint: %s\n", out, pubFile, s.Fingerprint())
			return nil
		},
	}
	c.Flags().StringVar(&name, "name", "", "the key owner's name, e.g. \"Example Hub\"")
	c.Flags().StringVar(&email, "email", "", "the key owner's email")
	c.Flags().StringVar(&algo, "algo", sign.Ed25519, "ed25519 or rsa4096")
	c.Flags().StringVar(&out, "out", "", "secret key file to create")
	return c
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

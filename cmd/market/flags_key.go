package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/market-dev/market/builder/sign"
)

// Environment variables that carry secrets, so they never sit on a command line.
const (
	envSigningKey = "MARKET_SIGNING_KEY"
	envPassphrase = "MARKET_KEY_PASSPHRASE"
)

// keyFlags are the flags that pick and unlock the signing key.
type keyFlags struct {
	file, id, passphraseFile string
}

func (k *keyFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&k.file, "key", "", "secret key file, armored or binary (or set "+envSigningKey+")")
	f.StringVar(&k.id, "key-id", "", "fingerprint or long key ID of the key or signing subkey to use")
	f.StringVar(&k.passphraseFile, "passphrase-file", "", "file holding the key's passphrase (or set "+envPassphrase+")")
}

func (k *keyFlags) isSet() bool { return k.file != "" || os.Getenv(envSigningKey) != "" }

// load reads the key from --key or the environment and unlocks it.
func (k *keyFlags) load(stderr io.Writer) (*sign.Signer, error) {
	data, from, err := k.read(stderr)
	if err != nil {
		return nil, err
	}
	pass, err := k.passphrase()
	if err != nil {
		clear(data)
		return nil, err
	}
	s, err := sign.Load(data, sign.Options{KeyID: k.id, Passphrase: pass})
	// The secret bytes are not needed again: wipe this process's copies
	// (the Signer keeps only the parsed key) and keep them from any child.
	clear(data)
	clear(pass)
	os.Unsetenv(envSigningKey)
	os.Unsetenv(envPassphrase)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	return s, nil
}

// read returns the secret key's bytes and where they came from.
func (k *keyFlags) read(stderr io.Writer) (data []byte, from string, err error) {
	switch {
	case k.file != "":
		info, err := os.Stat(k.file)
		if err != nil {
			return nil, "", usagef("--key: %v", err)
		}
		if info.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(stderr, "market: warning: %s is readable by group or others (mode %v); a secret key should be 0600\n", k.file, info.Mode().Perm())
		}
		data, err = os.ReadFile(k.file)
		if err != nil {
			return nil, "", usagef("--key: %v", err)
		}
		return data, k.file, nil
	case os.Getenv(envSigningKey) != "":
		return []byte(os.Getenv(envSigningKey)), envSigningKey, nil
	}
	return nil, "", usagef("no signing key: give --key FILE or set %s (or build --unsigned for a local preview)", envSigningKey)
}

// passphrase reads the key's passphrase from --passphrase-file or the
// environment; nil when there is none.
func (k *keyFlags) passphrase() ([]byte, error) {
	switch {
	case k.passphraseFile != "":
		p, err := os.ReadFile(k.passphraseFile)
		if err != nil {
			return nil, usagef("--passphrase-file: %v", err)
		}
		return []byte(strings.TrimSuffix(strings.TrimSuffix(string(p), "\n"), "\r")), nil
	case os.Getenv(envPassphrase) != "":
		return []byte(os.Getenv(envPassphrase)), nil
	}
	return nil, nil
}

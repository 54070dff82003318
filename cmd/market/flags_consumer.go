package main

import (
	"os"

	"github.com/spf13/pflag"

	"github.com/market-dev/market/builder/client"
	"github.com/market-dev/market/builder/sign"
)

// consumerFlags are what verify and fetch share: whom to trust, and what
// to remember between runs.
type consumerFlags struct {
	keyring        string
	state          string
	api            string
	requireRelease bool
}

func (f *consumerFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.keyring, "keyring", "", "the publisher's public keys (armored, or binary as from gpg --export)")
	fs.StringVar(&f.state, "state", "", "file remembering the highest release serial seen, to refuse a rollback")
	fs.StringVar(&f.api, "api", "", "the API folder (default: from the location, the tree, else v1)")
	fs.BoolVar(&f.requireRelease, "require-release", false, "refuse a tree without a signed, unexpired release.json")
}

// options reads the keyring into client options; without one, keys may
// still come from the tree when trustTree is set.
func (f *consumerFlags) options(trustTree bool) (client.Options, error) {
	opts := client.Options{StateFile: f.state, API: f.api, RequireRelease: f.requireRelease, UserAgent: "market"}
	if f.keyring == "" {
		if trustTree {
			return opts, nil
		}
		return opts, usagef("--keyring FILE is required: the publisher's public keys, obtained out of band")
	}
	data, err := os.ReadFile(f.keyring)
	if err != nil {
		return opts, usagef("--keyring: %v", err)
	}
	keys, err := sign.ReadKeyRing(data)
	if err != nil || len(keys) == 0 {
		return opts, usagef("--keyring %s: not an OpenPGP keyring: %v", f.keyring, err)
	}
	opts.Keyring = keys
	return opts, nil
}

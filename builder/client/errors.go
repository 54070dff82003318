package client

import (
	"errors"
	"fmt"

	"github.com/market-dev/market/builder/sign"
)

// Errors a caller can branch on with errors.Is. Every error the client
// returns for a marketplace's content is an *Error whose Kind is one of them.
var (
	// ErrNotFound: the marketplace has no such package, version or file.
	ErrNotFound = errors.New("not found")
	// ErrNoCompatible: the package exists, but no version satisfies the
	// request (range, product version, deprecation).
	ErrNoCompatible = errors.New("no compatible version")
	// ErrBadSignature: a signature is missing, malformed, made by a key not
	// in the keyring, by a revoked key, or over other bytes. It is
	// sign.ErrBadSignature, so either name matches.
	ErrBadSignature = sign.ErrBadSignature
	// ErrHashMismatch: bytes differ from what the signed catalog says
	// (digest, size, or a zip entry's CRC).
	ErrHashMismatch = errors.New("hash mismatch")
	// ErrExpired: release.json's expiry has passed (a frozen catalog).
	ErrExpired = errors.New("release expired")
	// ErrRollback: release.json's serial is lower than one seen before, or
	// release.json vanished after one was seen (an old catalog replayed).
	ErrRollback = errors.New("rollback")
	// ErrTooLarge: a response or an archive exceeds a limit.
	ErrTooLarge = errors.New("too large")
	// ErrNetwork: the marketplace could not be reached, or kept failing
	// after retries.
	ErrNetwork = errors.New("network error")
	// ErrUnsafeArchive: an archive entry would escape the destination, is
	// a link, or collides with another entry.
	ErrUnsafeArchive = errors.New("unsafe archive")
	// ErrMalformed: a catalog or release.json cannot be read.
	ErrMalformed = errors.New("malformed")
)

// Error is a failure about one path of the marketplace (relative to its
// root) or one archive entry.
type Error struct {
	Path string // e.g. v1/packages/foo/1.0.0/archive.zip
	Kind error  // one of the Err values above
	Err  error  // detail, may be nil
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("%s: %v", e.Path, e.Kind)
	}
	if errors.Is(e.Err, e.Kind) {
		return fmt.Sprintf("%s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("%s: %v: %v", e.Path, e.Kind, e.Err)
}

// Is matches the error's Kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the detail.
func (e *Error) Unwrap() error { return e.Err }

func errorf(path string, kind error, format string, args ...any) *Error {
	return &Error{Path: path, Kind: kind, Err: fmt.Errorf(format, args...)}
}

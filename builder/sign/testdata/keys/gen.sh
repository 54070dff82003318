#!/usr/bin/env bash
# Regenerates the TEST keys in this directory with real GnuPG (tested with
# gpg 2.2.40). Every key is random, so a re-run produces NEW keys and NEW
# fingerprints; README.md is rewritten by this script so it stays in sync.
# Dates are pinned with --faked-system-time so creation/expiry/revocation
# times are stable across runs.
#
# THESE ARE TEST KEYS. Their secret halves are public. Never use them for
# anything real.
#
# Usage: ./gen.sh   (writes into the directory containing this script)
set -euo pipefail

cd "$(dirname "$0")"
export TZ=UTC LC_ALL=C

GNUPGHOME="$(mktemp -d)"
export GNUPGHOME
cleanup() {
	gpgconf --kill gpg-agent >/dev/null 2>&1 || true
	rm -rf "$GNUPGHOME"
}
trap cleanup EXIT

NOW='20240101T000000!'   # creation time of all non-expired keys (frozen clock)
PAST='20200101T000000!'  # creation time of the expired key
PASSPHRASE='correct horse battery staple'
WARN='TEST KEY (never use for anything real)'

g() { gpg --batch --pinentry-mode loopback --no-tty --quiet "$@"; }

# fpr_of UID -> fingerprint of the primary key carrying that exact user ID
fpr_of() {
	g --with-colons --list-secret-keys "=$1" | awk -F: '$1=="fpr"{print $10; exit}'
}

# new_key NAME ALGO USAGE EXPIRE FAKETIME [PASSPHRASE]  -> echoes fingerprint
new_key() {
	local name=$1 algo=$2 usage=$3 expire=$4 t=$5 pass=${6-}
	local uid="market $name $WARN <$name@market.invalid>"
	g --faked-system-time "$t" --passphrase "$pass" \
		--quick-gen-key "$uid" "$algo" "$usage" "$expire"
	fpr_of "$uid"
}

export_pub() { g --armor --export "$1" >"$2"; }
export_sec() { g --faked-system-time "$NOW" --passphrase "${3-}" --armor --export-secret-keys "$1" >"$2"; }

# 1. demo: Ed25519 sign-only primary, no passphrase. The README demo key.
uid_demo="market demo $WARN <demo@market.invalid>"
g --faked-system-time "$NOW" --passphrase '' \
	--quick-gen-key "$uid_demo" ed25519 sign never
FPR_DEMO=$(fpr_of "$uid_demo")
export_sec "$FPR_DEMO" demo.sec.asc
export_pub "$FPR_DEMO" demo.pub.asc

# 2. gpg-ed25519-sub: Ed25519 certify-only primary + Ed25519 signing subkey,
#    protected with $PASSPHRASE. Armored and binary secret exports.
FPR_SUB=$(new_key gpg-ed25519-sub ed25519 cert never "$NOW" "$PASSPHRASE")
g --faked-system-time "$NOW" --passphrase "$PASSPHRASE" \
	--quick-add-key "$FPR_SUB" ed25519 sign never
export_sec "$FPR_SUB" gpg-ed25519-sub.sec.asc "$PASSPHRASE"
g --faked-system-time "$NOW" --passphrase "$PASSPHRASE" \
	--export-secret-keys "$FPR_SUB" >gpg-ed25519-sub.sec.gpg
export_pub "$FPR_SUB" gpg-ed25519-sub.pub.asc
printf '%s' "$PASSPHRASE" >gpg-ed25519-sub.passphrase
printf '%s\n' "$PASSPHRASE" >gpg-ed25519-sub.passphrase-nl
printf '%s\n' 'not the passphrase' >wrong-passphrase.txt

# 3. rsa3072: RSA-3072 sign-capable primary, no passphrase.
FPR_RSA3072=$(new_key rsa3072 rsa3072 sign never "$NOW")
export_sec "$FPR_RSA3072" rsa3072.sec.asc
export_pub "$FPR_RSA3072" rsa3072.pub.asc

# 4. rsa1024: RSA-1024 signing key, no passphrase (market must refuse: too weak).
FPR_RSA1024=$(new_key rsa1024 rsa1024 sign never "$NOW")
export_sec "$FPR_RSA1024" rsa1024.sec.asc

# 5. expired: Ed25519 signing key created 2020-01-01, expired 2020-01-02.
FPR_EXPIRED=$(new_key expired ed25519 sign 1d "$PAST")
export_sec "$FPR_EXPIRED" expired.sec.asc

# 6. revoked: Ed25519 signing key with its revocation certificate imported.
#    gpg writes the certificate to openpgp-revocs.d/ with a leading ':' on the
#    armor line to prevent accidental import; strip it and import.
FPR_REVOKED=$(new_key revoked ed25519 sign never "$NOW")
sed 's/^:-----BEGIN PGP PUBLIC KEY BLOCK-----/-----BEGIN PGP PUBLIC KEY BLOCK-----/' \
	"$GNUPGHOME/openpgp-revocs.d/$FPR_REVOKED.rev" | g --import
export_sec "$FPR_REVOKED" revoked.sec.asc

# 7. encrypt-only: Ed25519 certify-only primary + cv25519 encryption subkey.
#    No signing capability anywhere.
FPR_ENC=$(new_key encrypt-only ed25519 cert never "$NOW")
g --faked-system-time "$NOW" --passphrase '' \
	--quick-add-key "$FPR_ENC" cv25519 encr never
export_sec "$FPR_ENC" encrypt-only.sec.asc

# ---- README.md (generated; edit the text here, not in README.md) ----------

# key_rows FPR FILES PURPOSE -> one markdown row per (sub)key
key_rows() {
	local fpr=$1 files=$2 purpose=$3
	g --with-colons --fixed-list-mode --list-keys "$fpr" | awk -F: -v files="$files" -v purpose="$purpose" '
		function algo(a, l, c) {
			if (a == 1) return "RSA-" l
			if (a == 22) return c == "ed25519" ? "Ed25519 (EdDSA)" : "EdDSA " c
			if (a == 18) return c == "cv25519" ? "Curve25519 (ECDH)" : "ECDH " c
			return "algo " a
		}
		function date(s) { return s == "" ? "never" : strftime("%Y-%m-%d", s, 1) }
		$1=="pub"||$1=="sub" { kind=($1=="pub")?"primary":"subkey"
			caps=$12; gsub(/[A-Z]/, "", caps); caps=toupper(caps)
			a=algo($4,$3,$17); c=$6; e=date($7); v=$2; next }
		$1=="fpr" {
			st = (v=="r") ? " **(revoked)**" : (v=="e") ? " **(expired)**" : ""
			printf "| %s | %s | %s | %s | `%s` | %s | %s | %s%s |\n", files, purpose, kind, a, $10, caps, date(c), e, st
			files=""; purpose=""
		}'
}

{
cat <<'MD'
# builder/sign/testdata/keys — OpenPGP TEST KEYS

> [!WARNING]
> **THESE ARE TEST KEYS. THEIR SECRET HALVES ARE PUBLIC IN THIS REPOSITORY.**
> **Anyone can sign anything with them. NEVER use, trust or import them for
> anything other than this repository's tests and demos.**
> Every user ID says `TEST KEY (never use for anything real)` and uses the
> reserved `.invalid` domain.

All keys are OpenPGP v4, generated by real GnuPG (2.2) with `gen.sh`.
This README is **generated by `gen.sh`** (edit the text there). Re-running
`gen.sh` creates *new* random keys, so fingerprints change and any signed
fixtures built from them must be regenerated too. Dates are pinned with
`--faked-system-time`: keys are created 2024-01-01 00:00:00 UTC; the
expired key was created 2020-01-01 and expired 2020-01-02.

## Files

| File | Contents | Passphrase |
|------|----------|------------|
| `demo.sec.asc` / `demo.pub.asc` | Ed25519 sign-capable primary; the README demo key for building the example packages | none |
| `gpg-ed25519-sub.sec.asc` / `.pub.asc` | Ed25519 certify-only primary + Ed25519 **signing subkey** (armored) | `correct horse battery staple` |
| `gpg-ed25519-sub.sec.gpg` | same secret key, **binary** (non-armored) export | same |
| `gpg-ed25519-sub.passphrase` | the passphrase, **no** trailing newline | – |
| `gpg-ed25519-sub.passphrase-nl` | the passphrase **with** a trailing newline | – |
| `wrong-passphrase.txt` | `not the passphrase` (with trailing newline) | – |
| `rsa3072.sec.asc` / `.pub.asc` | RSA-3072 sign-capable primary | none |
| `rsa1024.sec.asc` | RSA-1024 signing key — must be **refused as too weak** | none |
| `expired.sec.asc` | Ed25519 signing key, expired 2020-01-02 — must be refused | none |
| `revoked.sec.asc` | Ed25519 signing key; export includes its key revocation signature — must be refused | none |
| `encrypt-only.sec.asc` | Ed25519 certify-only primary + Curve25519 encryption subkey; **no signing-capable key** — must be refused | none |
| `gen.sh` | the script that produced all of the above | – |

Secret exports (`*.sec.*`) also contain the public key, user ID and
self-signatures. Secret keys without a passphrase are stored unprotected
(S2K usage 0). The passphrase-protected key (primary and subkey) is exported
by gpg with its default protection: S2K usage 254 (SHA-1 checksum),
iterated+salted S2K with SHA-1, count 65011712, cipher AES-128.
`gpg --export-secret-keys` re-encrypts on every export with a fresh salt and
IV, so the armored and binary exports are not byte-for-byte the same packets,
but they hold the same key.

## Fingerprints and capabilities

From `gpg --with-colons`. Capabilities: S = sign, C = certify, E = encrypt.

| File(s) | Purpose | Key | Algorithm | Fingerprint | Caps | Created | Expires |
|---------|---------|-----|-----------|-------------|------|---------|---------|
MD
key_rows "$FPR_DEMO"     '`demo.{sec,pub}.asc`'             'demo key for README/examples'
key_rows "$FPR_SUB"      '`gpg-ed25519-sub.{sec,pub}.asc`, `.sec.gpg`' 'signing via subkey, passphrase-protected'
key_rows "$FPR_RSA3072"  '`rsa3072.{sec,pub}.asc`'        'RSA signing'
key_rows "$FPR_RSA1024"  '`rsa1024.sec.asc`'              'refuse: RSA < 2048 bits'
key_rows "$FPR_EXPIRED"  '`expired.sec.asc`'              'refuse: expired'
key_rows "$FPR_REVOKED"  '`revoked.sec.asc`'              'refuse: revoked'
key_rows "$FPR_ENC"      '`encrypt-only.sec.asc`'         'refuse: no signing-capable key'
printf '\nGenerated with `%s`.\n' "$(gpg --version | head -n1)"
cat <<'MD'

## Regenerating

```sh
cd builder/sign/testdata/keys && ./gen.sh
```

Needs `gpg` (2.2+) and `gpgconf`. It uses a throwaway `GNUPGHOME`
(`mktemp -d`, removed on exit) and never touches your own keyring.
MD
} >README.md

echo "generated keys:" >&2
for v in FPR_DEMO FPR_SUB FPR_RSA3072 FPR_RSA1024 FPR_EXPIRED FPR_REVOKED FPR_ENC; do
	printf '  %-12s %s\n' "${v#FPR_}" "${!v}" >&2
done

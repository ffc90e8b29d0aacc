#!/usr/bin/env bash
# certhash.sh CTLVERIFY DATA_DIR - `ctlverify certhash` prints what the independent
# implementation's certhash prints: base64 of the SHA-1 (default) or SHA-512 of the
# certificate's DER, here computed by openssl for PEM and DER files and chains.
set -euo pipefail
prog=$1 data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
want() { openssl x509 -in "$1" -outform DER | openssl dgst "-$2" -binary | base64 -w0; }

n=0
for c in "$data"/vectors/*.crt "$data"/vendor/firmware.crt; do
  openssl x509 -in "$c" -noout 2>/dev/null || continue
  openssl x509 -in "$c" -outform DER -out "$tmp/c.der"
  for d in sha1 sha256 sha512; do
    w=$(want "$c" "$d")
    [ "$("$prog" certhash --digest "$d" "$c")" = "$w" ] || fail "$c --digest $d: want $w"
    [ "$("$prog" certhash -d "$d" "$tmp/c.der")" = "$w" ] || fail "$c as DER --digest $d: want $w"
  done
  [ "$("$prog" certhash "$c")" = "$(want "$c" sha1)" ] || fail "$c: the default is not SHA-1"
  n=$((n + 1))
done
[ "$n" -ge 3 ] || fail "only $n certificates found under $data/vectors"

# A PEM file with a chain: the first certificate's hash.
cat "$data/vectors/ccm.crt" "$data/vectors/sast1.crt" > "$tmp/chain.pem"
[ "$("$prog" certhash -d sha512 "$tmp/chain.pem")" = "$(want "$data/vectors/ccm.crt" sha512)" ] ||
  fail "chain: not the first certificate's hash"

# --json: the same value, and its hex.
out=$("$prog" certhash --json --digest sha512 "$data/vectors/ccm.crt")
grep -qF "\"base64\":\"$(want "$data/vectors/ccm.crt" sha512)\"" <<<"$out" || fail "--json base64: $out"
hex=$(openssl x509 -in "$data/vectors/ccm.crt" -outform DER | openssl dgst -sha512 -r | cut -d' ' -f1)
grep -qF "\"hex\":\"$hex\"" <<<"$out" || fail "--json hex: $out"
grep -qF '"digest":"sha512"' <<<"$out" || fail "--json digest: $out"

# Refusals: a key, an unknown digest, no file.
rc=0; "$prog" certhash "$data/vectors/ccm.key" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 4 ] && grep -q "private key, not a certificate" "$tmp/err" || fail "a key: exit $rc"
rc=0; "$prog" certhash -d md5 "$data/vectors/ccm.crt" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--digest md5: exit $rc"
rc=0; "$prog" certhash >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "no CERT: exit $rc"
echo "certhash: $n certificates, PEM and DER, sha1/sha256/sha512 as openssl computes them"

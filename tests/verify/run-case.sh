#!/usr/bin/env bash
# run-case.sh CASE CTLVERIFY MKFIXTURE VECTORS WORKROOT
#
# Runs one device-side test case (tests/verify/cases/*.case): a short shell fragment using
# the helpers below, against the real ctlverify, a real tftpd-hpa and a real openssl
# s_server on 127.0.0.1. Every expect_* failure ends the case with exit 1.
set -uo pipefail
CASE=$(realpath "$1") CTLVERIFY=$(realpath "$2") MKFIXTURE=$(realpath "$3") V=$(realpath "$4")
WORKROOT=$(realpath -m "$5")
[ -f "$CASE" ] && [ -x "$CTLVERIFY" ] && [ -x "$MKFIXTURE" ] || { echo "FAIL: usage: run-case.sh CASE CTLVERIFY MKFIXTURE VECTORS WORKROOT" >&2; exit 1; }
NAME=$(basename "$CASE" .case)
W=$WORKROOT/$NAME
rm -rf "$W"
mkdir -p "$W/tftp"
chmod 755 "$W" "$W/tftp"
STORE=$W/store
TFTP=$W/tftp
# shellcheck source=../lib/servers.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/servers.sh"
trap servers_stop_all EXIT

fail() { echo "FAIL [$NAME]: $*" >&2; echo "--- stdout:" >&2; cat "$W/out" >&2 2>/dev/null; echo "--- stderr:" >&2; cat "$W/err" >&2 2>/dev/null; exit 1; }

# fx ARGS: build a fixture (mkfixture); a failure here is a broken test.
fx() { "$MKFIXTURE" "$@" || fail "mkfixture $*"; }
# cv ARGS: run ctlverify; stdout -> $W/out, stderr -> $W/err, exit code -> $RC.
cv() {
  echo "+ ctlverify $*" >&2
  "$CTLVERIFY" "$@" >"$W/out" 2>"$W/err"
  RC=$?
  cat "$W/out"; cat "$W/err" >&2
  return 0
}
expect_rc() { [ "$RC" -eq "$1" ] || fail "exit code $RC, expected $1"; }
expect_out() { grep -Eq -- "$1" "$W/out" || fail "stdout lacks /$1/"; }
expect_no_out() { ! grep -Eq -- "$1" "$W/out" || fail "stdout has /$1/"; }
expect_err() { grep -Eq -- "$1" "$W/err" || fail "stderr lacks /$1/"; }
expect_json() { # python expression over `d` (the parsed stdout) that must be true
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "$W/out" \
    || fail "JSON check failed: $1"
}
expect_file_eq() { cmp -s "$1" "$2" || fail "$1 differs from $2"; }
expect_no_file() { [ ! -e "$1" ] || fail "$1 exists"; }

# store_snapshot / expect_store_unchanged: the store's files byte for byte.
store_sum() { (cd "$STORE" 2>/dev/null && for f in $(ls -A | grep -v '^lock$' | sort); do sha256sum "$f"; done); }
store_snapshot() { store_sum >"$W/store.snap"; }
expect_store_unchanged() { store_sum | cmp -s - "$W/store.snap" || fail "store changed"; }

# pki: a test CA and server certificates made with openssl in $W/pki:
#   ca.crt/key; listed.crt/key (CA-signed, valid); unlisted.crt/key (CA-signed, valid);
#   expired.crt/key (self-signed, validity in the past); client.crt/key (an LSC).
pki() {
  local P=$W/pki
  mkdir -p "$P"
  (cd "$P" &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 \
      -subj "/O=Test/CN=Test CA" 2>/dev/null &&
    for n in listed unlisted client; do
      openssl req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj "/O=Test/CN=$n.example.com" 2>/dev/null &&
      openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $n.crt -days 30 2>/dev/null || return 1
    done &&
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out expired.key 2>/dev/null
  ) || fail "openssl could not make the test PKI"
  # openssl 3.0 cannot back-date a certificate: the fixture helper does.
  fx expired "$P/expired.key" "$P/expired.der" expired.example.com
  openssl x509 -inform DER -in "$P/expired.der" -out "$P/expired.crt" || fail "expired.crt"
  PKI=$P
}

# Shorthands for common fixtures from the vector keys.
MAC=001122334455
CFG=SEP$MAC.cnf.xml
ctl_by() { # ctl_by SIGNER OUT [TIME] [records...]: CTL signed by sast1/sast2/... vector key
  local who=$1 out=$2 t=${3:-+0}; shift 3 2>/dev/null || shift $#
  local recs=("$@")
  [ ${#recs[@]} -gt 0 ] || recs=("sast:$V/sast1.crt" "sast:$V/sast2.crt" "ccm+tftp:$V/ccm.crt" "capf:$V/capf.crt" "tftp:$V/tftp2.crt")
  fx tlv -K ctl -k "$V/$who.key" -c "$V/$who.crt" -o "$out" -t "$t" "${recs[@]}"
}
sgn_by() { # sgn_by SIGNER OUT NAME [INPUT]
  fx sgn -k "$V/$1.key" -c "$V/$1.crt" -o "$2" -n "$3" "${4:-$V/$CFG}"
}

cd "$W" || exit 1
# shellcheck disable=SC1090
. "$CASE" || fail "case ended with status $?"
echo "ok [$NAME]"

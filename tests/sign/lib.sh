# tests/sign/lib.sh - sourced by the sign/encrypt integration tests.
# Usage: . lib.sh CTLSIGN SGNTOOL DATA_DIR WORK_DIR
# Makes a private SoftHSM2 store under WORK_DIR with token "tftp" holding the vectors'
# CCM+TFTP key pair (ccm.key/ccm.crt, in the vector CTL with role CCM+TFTP), token "sast"
# holding sast1 (a SAST: not allowed to sign TFTP files) and token "ec" with an EC key.
set -euo pipefail
CTLSIGN=$1 SGNTOOL=$2 DATA=$3 WORK=$4
V=$DATA/vectors
rm -rf "$WORK"; mkdir -p "$WORK/softhsm"
export SOFTHSM2_CONF=$WORK/softhsm2.conf
printf 'directories.tokendir = %s/softhsm\nobjectstore.backend = file\nlog.level = ERROR\n' \
  "$WORK" > "$SOFTHSM2_CONF"
MODULE=${CTLSIGN_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
export CTLSIGN_PKCS11_MODULE=$MODULE
export CTL_TEST_PIN=tftp-pin-8642
export CTLSIGN_AUDIT_LOG=$WORK/audit.log
unset CTLSIGN_TEST_TOKEN_GONE_AFTER

mktoken() { # label key.pem cert.pem
  softhsm2-util --init-token --free --label "$1" --so-pin so-pin-97531 --pin "$CTL_TEST_PIN" >/dev/null
  softhsm2-util --import "$2" --token "$1" --label "$1" --id 01 --pin "$CTL_TEST_PIN" >/dev/null
  openssl x509 -in "$3" -outform DER -out "$WORK/$1.der"
  pkcs11-tool --module "$MODULE" --token-label "$1" --login --pin "$CTL_TEST_PIN" \
    --write-object "$WORK/$1.der" --type cert --id 01 --label "$1" >/dev/null 2>&1
}
mktoken tftp "$V/ccm.key" "$V/ccm.crt"
mktoken sast "$V/sast1.key" "$V/sast1.crt"

sign()    { "$CTLSIGN" sign --pin env:CTL_TEST_PIN "$@"; }
encrypt() { "$CTLSIGN" encrypt --pin env:CTL_TEST_PIN "$@"; }
# the test helper exits without freeing: leak checks are for the product
sgntool() { ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "$SGNTOOL" "$@"; }
fail()    { echo "FAIL: $*" >&2; exit 1; }
# expect CODE cmd...: runs cmd, fails the test unless it exits with CODE
expect() {
  local want=$1; shift
  set +e; "$@"; local got=$?; set -e
  [ "$got" -eq "$want" ] || fail "expected exit $want, got $got: $*"
}

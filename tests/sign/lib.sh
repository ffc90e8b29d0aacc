# tests/sign/lib.sh - sourced by the sign/encrypt integration tests.
# Usage: . lib.sh CTLSIGN SGNTOOL DATA_DIR WORK_DIR CTLVERIFY
# Outputs are checked with the real verifier (ctlverify check / show / decrypt); sgntool
# only builds what ctlverify cannot (a non-secure CTL).
# Makes a private SoftHSM2 store under WORK_DIR with token "tftp" holding the vectors'
# CCM+TFTP key pair (ccm.key/ccm.crt, in the vector CTL with role CCM+TFTP), token "sast"
# holding sast1 (a SAST: not allowed to sign TFTP files) and token "ec" with an EC key.
set -euo pipefail
CTLSIGN=$1 SGNTOOL=$2 DATA=$3 WORK=$4 CTLVERIFY=$5
V=$DATA/vectors
rm -rf "$WORK"; mkdir -p "$WORK/softhsm"
export SOFTHSM2_CONF=$WORK/softhsm2.conf
printf 'directories.tokendir = %s/softhsm\nobjectstore.backend = file\nlog.level = ERROR\n' \
  "$WORK" > "$SOFTHSM2_CONF"
MODULE=${CTLSIGN_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
export CTLSIGN_PKCS11_MODULE=$MODULE
export CTL_TEST_PIN=tftp-pin-8642
export CTLSIGN_AUDIT_LOG=$WORK/audit.log CTLSIGN_STATE_DIR=$WORK/state
unset P11SHIM_MODULE P11SHIM_GONE_AFTER P11SHIM_PAUSE_FIFO

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

# hfield FILE KEY: a field of `ctlverify show --json` (KEY: kind, body_offset, or
# header.NAME).
hfield() {
  "$CTLVERIFY" show --json "$1" | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$2"
}
# vcheck FILE CERT NAME [BODY_OUT]: ctlverify accepts FILE's signature with CERT, it is a
# .sgn whose header names NAME; its body is written to BODY_OUT.
vcheck() {
  "$CTLVERIFY" check --cert "$2" "$1" >/dev/null || fail "ctlverify check rejects $1"
  [ "$(hfield "$1" kind)" = SGN ] || fail "$1 is not a .sgn"
  [ "$(hfield "$1" header.file_name)" = "$3" ] || fail "$1 header names $(hfield "$1" header.file_name), not $3"
  if [ $# -ge 4 ]; then tail -c +$(( $(hfield "$1" body_offset) + 1 )) "$1" > "$4"; fi
}
# vhash FILE: "SGN sha512" (kind and header hash algorithm)
vhash() { echo "$(hfield "$1" kind) $(hfield "$1" header.hash)"; }
# vdecrypt FILE SIGNER_CERT DEVICE_KEY OUT: ctlverify checks the signature, then decrypts.
vdecrypt() {
  "$CTLVERIFY" decrypt --key "$3" --cert "$2" -o "$4" "$1" >/dev/null 2>&1 \
    || fail "ctlverify decrypt fails on $1"
  [ "$(hfield "$1" kind)" = ENC-SGN ] || fail "$1 is not an .enc.sgn ($(hfield "$1" kind))"
}
# expect CODE cmd...: runs cmd, fails the test unless it exits with CODE
expect() {
  local want=$1; shift
  set +e; "$@"; local got=$?; set -e
  [ "$got" -eq "$want" ] || fail "expected exit $want, got $got: $*"
}
# mkcert OUT CN [expired]: a PEM certificate for the vectors' phone key (phone.key) with
# subject CN, valid now (or expired a year ago).
mkcert() {
  python3 - "$V/phone.key" "$1" "$2" "${3:-}" <<'PY'
import datetime, sys
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, sys.argv[3])])
now = datetime.datetime.now(datetime.timezone.utc)
if sys.argv[4]:
    nb, na = now - datetime.timedelta(days=800), now - datetime.timedelta(days=400)
else:
    nb, na = now - datetime.timedelta(days=1), now + datetime.timedelta(days=365)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(nb).not_valid_after(na).sign(key, hashes.SHA256()))
open(sys.argv[2], "wb").write(cert.public_bytes(serialization.Encoding.PEM))
PY
}

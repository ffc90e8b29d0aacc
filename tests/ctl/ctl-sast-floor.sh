#!/usr/bin/env bash
# ctl-sast-floor.sh CTLSIGN CTLVERIFY MKFIXTURE SRCDIR WORKDIR - the at-least-two-SAST floor
# when `ctl update` builds the records. The current CTL lists ONE SAST (made with mkfixture
# and signed by that SAST's key, which is on token A): a plain update by A must not publish
# a one-SAST CTL (exit 9, nothing written, nothing audited as published). Control: the same
# update adding token B publishes a CTL with two SAST records.
set -euo pipefail
CTLSIGN=$1 CTLVERIFY=$2 MKFIXTURE=$3 SRC=$4 W=$5
V=$SRC/tests/data/vectors
rm -rf "$W"
mkdir -p "$W"
. "$SRC/tests/ctl/softhsm-lib.sh"
softhsm_init "$W/hsm"
# Tokens with the vector key pairs (sast1 on A, sast2 on B): the test keeps sast1's key to
# sign the one-SAST fixture.
mktoken() { # label pin key cert
  softhsm2-util --init-token --free --label "$1" --so-pin 87654321 --pin "$2" >/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$3" -out "$W/$1.p8"
  softhsm2-util --import "$W/$1.p8" --token "$1" --label sast --id 01 --pin "$2" >/dev/null
  openssl x509 -in "$4" -outform DER -out "$W/$1.der"
  pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$1" --login --pin "$2" \
    --write-object "$W/$1.der" --type cert --id 01 --label sast >/dev/null 2>&1
  rm -f "$W/$1.p8"
}
mktoken A 'pin-A-1234' "$V/sast1.key" "$V/sast1.crt"
mktoken B 'pin-B-1234' "$V/sast2.key" "$V/sast2.crt"
export PIN_A='pin-A-1234' PIN_B='pin-B-1234'
export CTLSIGN_STATE_DIR="$W/state" CTLSIGN_AUDIT_LOG="$W/audit.log"
cp -r "$SRC/examples/demo-cluster" "$W/cluster"
CL="$W/cluster/cluster.ini" T1="$W/cluster/tftp" T2="$W/cluster/tftp-backup"
mkdir -p "$T1" "$T2"
M=(--module "$SOFTHSM_MODULE")

fail() { echo "FAIL: $*"; sed 's/^/  | /' "$W/err" "$W/out" 2>/dev/null | head -30; exit 1; }
# expect CODE CMD...: stdin from /dev/null, stdout/stderr kept
expect() {
  local want=$1 rc=0; shift
  "$@" </dev/null >"$W/out" 2>"$W/err" || rc=$?
  [ "$rc" = "$want" ] || fail "expected exit $want, got $rc: $*"
}
n_sast() { "$CTLSIGN" ctl show --json "$1" | python3 -c \
  'import json,sys; print(sum(r["role"]=="SAST" for r in json.load(sys.stdin)["records"]))'; }

# The current CTL: one SAST (sast1 = token A), the cluster's CCM+TFTP server, signed by A.
"$MKFIXTURE" tlv -K ctl -H sha512 -k "$V/sast1.key" -c "$V/sast1.crt" -o "$W/one-sast.tlv" \
  "sast:$V/sast1.crt" "ccm+tftp:$W/cluster/certs/cucm1.pem"
"$CTLVERIFY" check "$W/one-sast.tlv" >/dev/null || fail "the one-SAST fixture does not verify"
[ "$(n_sast "$W/one-sast.tlv")" = 1 ] || fail "the fixture should list exactly one SAST"
cp "$W/one-sast.tlv" "$T1/CTLFile.tlv"
cp "$W/one-sast.tlv" "$T2/CTLFile.tlv"
# The current CTL is signed by token A, presented in this run; if this ctlsign also
# anchors current CTLs, the officer's out-of-band hash is given too (works either way).
TRUST=()
if "$CTLSIGN" ctl update --help 2>&1 | grep -q -- --trust-current; then
  TRUST=(--trust-current "$(sha256sum "$W/one-sast.tlv" | cut -d' ' -f1)")
fi

expect 9 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes "${TRUST[@]}" \
  --token pkcs11:token=A --pin env:PIN_A
grep -q "at least two SAST" "$W/err" || fail "stderr does not name the two-SAST rule"
for d in "$T1" "$T2"; do
  cmp -s "$d/CTLFile.tlv" "$W/one-sast.tlv" || fail "$d/CTLFile.tlv changed although refused"
  extra=$(ls -A "$d" | grep -v -x -e CTLFile.tlv -e .ctlsign.lock || true)
  [ -z "$extra" ] || fail "left behind in $d: $extra"
done
! grep -qs '"result":"ok"' "$W/audit.log" || fail "a refused update was audited as ok"

# Control: adding token B the same update publishes a CTL with two SASTs.
expect 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes "${TRUST[@]}" \
  --token pkcs11:token=A --pin env:PIN_A --add-token pkcs11:token=B
[ "$(n_sast "$T1/CTLFile.tlv")" = 2 ] || fail "control: the updated CTL should list two SASTs"
"$CTLVERIFY" check "$T1/CTLFile.tlv" >/dev/null || fail "control: the updated CTL does not verify"
echo ok

# softhsm-lib.sh - sourced by the ctl integration tests and scripts/demo-ctl: SoftHSM2
# tokens in a private directory, each with an RSA-2048 key and a self-signed SAST
# certificate (key made by openssl and imported: test-only tokens).
#   softhsm_init DIR          SOFTHSM2_CONF and the token directory under DIR
#   softhsm_token LABEL PIN   a token with key+cert; its cert is left in DIR/LABEL.pem
#   officer_fixture DIR       tokens A and B (PIN_A, PIN_B) under DIR/hsm, the demo cluster
#                             copied to DIR/cluster with both TFTP directories; sets CL, T1,
#                             T2, M and puts the state directory and audit log in DIR
#   softhsm_import_token LABEL PIN KEY CERT OBJ
#                             a token holding a given key pair (e.g. the vectors' CCM+TFTP
#                             key), both objects labelled OBJ with id 01
#                             (and its key in DIR/LABEL.key with SOFTHSM_KEEP_KEYS=1, for
#                             tests that sign a file outside ctlsign with a token's key)
SOFTHSM_MODULE=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
SOFTHSM_LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

softhsm_init() {
  SOFTHSM_DIR=$1
  mkdir -p "$SOFTHSM_DIR/tokens"
  printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = true\n' \
    "$SOFTHSM_DIR" > "$SOFTHSM_DIR/softhsm2.conf"
  export SOFTHSM2_CONF="$SOFTHSM_DIR/softhsm2.conf"
  export CTLSIGN_PKCS11_MODULE="$SOFTHSM_MODULE"
}

# softhsm_token_dir LABEL: the token's directory (moved out and back in = removed/inserted)
softhsm_token_dir() {
  echo "$SOFTHSM_DIR/tokens/$(cat "$SOFTHSM_DIR/$1.dir")"
}

softhsm_token() { # label pin
  local label=$1 pin=$2 d=$SOFTHSM_DIR before
  before=$(ls "$d/tokens")
  softhsm2-util --init-token --free --label "$label" --so-pin 87654321 --pin "$pin" >/dev/null
  comm -13 <(echo "$before") <(ls "$d/tokens") > "$d/$label.dir"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/$label.key" -out "$d/$label.pem" \
    -days 3650 -sha256 -subj "/CN=SAST-$label/O=Demo Corp/OU=Voice" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$d/$label.key" -out "$d/$label.p8"
  softhsm2-util --import "$d/$label.p8" --token "$label" --label sast --id 01 --pin "$pin" >/dev/null
  openssl x509 -in "$d/$label.pem" -outform DER -out "$d/$label.der"
  pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$label" --login --pin "$pin" \
    --write-object "$d/$label.der" --type cert --id 01 --label sast >/dev/null 2>&1
  rm -f "$d/$label.p8"
  [ "${SOFTHSM_KEEP_KEYS:-0}" = 1 ] || rm -f "$d/$label.key"
}

softhsm_import_token() { # label pin key.pem cert.pem object-label
  local label=$1 pin=$2 d=$SOFTHSM_DIR
  softhsm2-util --init-token --free --label "$label" --so-pin 87654321 --pin "$pin" >/dev/null
  softhsm2-util --import "$3" --token "$label" --label "$5" --id 01 --pin "$pin" >/dev/null
  openssl x509 -in "$4" -outform DER -out "$d/$label-import.der"
  pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$label" --login --pin "$pin" \
    --write-object "$d/$label-import.der" --type cert --id 01 --label "$5" >/dev/null 2>&1
}

officer_fixture() { # dir
  softhsm_init "$1/hsm"
  softhsm_token A 'pin-A-1234'
  softhsm_token B 'pin-B-1234'
  export PIN_A='pin-A-1234' PIN_B='pin-B-1234'
  export CTLSIGN_AUDIT_LOG="$1/audit.log" CTLSIGN_STATE_DIR="$1/state"
  cp -r "$SOFTHSM_LIB_ROOT/examples/demo-cluster" "$1/cluster"
  CL="$1/cluster/cluster.ini"
  T1="$1/cluster/tftp" T2="$1/cluster/tftp-backup"
  mkdir -p "$T1" "$T2"
  M=(--module "$SOFTHSM_MODULE")
}

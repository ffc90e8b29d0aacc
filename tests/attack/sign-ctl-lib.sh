# sign-ctl-lib.sh - sourced by the sign-ctl-* cases (after lib.sh, in $W): the officer's
# SoftHSM tokens A, B, C (certificates in $W/hsm/X.pem, keys kept in $W/hsm/X.key so that
# a case can sign a CTL outside ctlsign with them), the demo cluster in $W/cluster with
# its two TFTP directories $T1 and $T2, and the attacker's own key and certificate
# ($W/evil.key, $W/evil.pem). The attacker can write $T1; the state directory
# ($CTLSIGN_STATE_DIR, set by run.sh) is outside every TFTP directory.
need_ctlsign
# shellcheck source=../ctl/softhsm-lib.sh
. "$SRC/tests/ctl/softhsm-lib.sh"
softhsm_init "$W/hsm"
SOFTHSM_KEEP_KEYS=1 softhsm_token A 'pin-A-1234'
SOFTHSM_KEEP_KEYS=1 softhsm_token B 'pin-B-1234'
softhsm_token C 'pin-C-1234'
export PIN_A='pin-A-1234' PIN_B='pin-B-1234' PIN_C='pin-C-1234'
export CTLSIGN_AUDIT_LOG="$W/audit.log"
cp -r "$SRC/examples/demo-cluster" "$W/cluster"
CL="$W/cluster/cluster.ini"
T1="$W/cluster/tftp" T2="$W/cluster/tftp-backup"
mkdir -p "$T1" "$T2"
M=(--module "$SOFTHSM_MODULE")
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/evil.key" -out "$W/evil.pem" -days 30 \
  -sha256 -subj "/CN=SAST-EVIL/O=Demo Corp/OU=Voice" 2>/dev/null
cert_sha256() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

# The cluster's server records as mkfixture arguments (its records carry no host/ip).
CERTS="$W/cluster/certs"
SERVERS=("ccm+tftp:$CERTS/cucm1.pem" "ccm:$CERTS/cucm2.pem" "tftp:$CERTS/tftp1.pem"
         "capf:$CERTS/capf.pem" "tftp:$CERTS/alt1.pem" "ccm:$CERTS/asa1.pem")

# real_create: the officer's first CTL, made by ctlsign with A and B (B signs).
real_create() {
  run 0 "$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
    --token pkcs11:token=B --pin env:PIN_B
}

# forge OUT KEY CERT SAST-CERT...: a CTL signed by KEY/CERT that lists these SAST
# certificates and the cluster's servers.
forge() {
  local out=$1 key=$2 cert=$3 s args=()
  shift 3
  for s in "$@"; do args+=("sast:$s"); done
  "$MKFIXTURE" tlv -K ctl -k "$key" -c "$cert" -H sha512 -o "$out" "${args[@]}" "${SERVERS[@]}" \
    || fail "mkfixture could not build $out"
}

ok_records() {
  if [ -e "$CTLSIGN_AUDIT_LOG" ]; then grep -c '"result":"ok"' "$CTLSIGN_AUDIT_LOG" || true; else echo 0; fi
}

# refused_untouched PLANTED-COPY T2-COPY OKS: after a refused run, nothing was signed or
# published: the planted file is still in $T1, $T2 unchanged, no backup made, no temp
# files, no new "ok" audit record.
refused_untouched() {
  cmp -s "$T1/CTLFile.tlv" "$1" || fail "$T1/CTLFile.tlv changed although the run was refused"
  cmp -s "$T2/CTLFile.tlv" "$2" || fail "$T2/CTLFile.tlv changed although the run was refused"
  [ "$(ok_records)" = "$3" ] || fail "a new \"ok\" audit record although the run was refused"
  local extra
  extra=$(ls -A "$T1" "$T2" | grep -v -x -e CTLFile.tlv -e CTLFile.tlv.bak -e CTLFile.tlv.bak.1 -e CTLFile.tlv.bak.2 -e "$T1:" -e "$T2:" -e '' || true)
  [ -z "$extra" ] || fail "left in the TFTP directories: $extra"
}

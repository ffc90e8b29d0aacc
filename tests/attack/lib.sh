# lib.sh - helpers for the attack cases (sourced by run.sh; W, SRC, V, CTLSIGN,
# CTLVERIFY, MKFIXTURE are set).
fail() { echo "FAIL: $*" >&2; exit 1; }

# run WANT_RC CMD...: stdout in $W/out, stderr in $W/err; the exit code must be WANT_RC.
run() {
  local want=$1 rc=0
  shift
  "$@" >"$W/out" 2>"$W/err" </dev/null || rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "--- stdout" >&2; cat "$W/out" >&2
    echo "--- stderr" >&2; cat "$W/err" >&2
    fail "expected exit $want, got $rc: $*"
  fi
}
out_has() { grep -qF -- "$1" "$W/out" || { cat "$W/out" >&2; fail "stdout lacks '$1'"; }; }
err_has() { grep -qF -- "$1" "$W/err" || { cat "$W/err" >&2; fail "stderr lacks '$1'"; }; }
out_lacks() { ! grep -qF -- "$1" "$W/out" || { cat "$W/out" >&2; fail "stdout has '$1'"; }; }
need_ctlsign() { [ -n "$CTLSIGN" ] || { echo "SKIP: ctlsign is not built"; exit 77; }; }
sha256() { sha256sum "$1" | cut -d' ' -f1; }

# rogue_tftp [ctl]: a rogue TFTP server on 127.0.0.1 (tftpd-hpa, tests/lib/servers.sh)
# serving, from $TFTP, an ITL and a config (SEP$MAC.cnf.xml.sgn) signed by the attacker's
# key (the vector phone key), plus with "ctl" a CTL with that key as its SAST. Sets MAC,
# CFG, TFTP, SERVER; the servers stop when the case ends.
rogue_tftp() {
  . "$SRC/tests/lib/servers.sh"
  trap servers_stop_all EXIT
  MAC=001122334455 CFG=SEP001122334455.cnf.xml
  TFTP=$W/rogue
  mkdir -p "$TFTP"
  if [ "${1:-}" = ctl ]; then
    "$MKFIXTURE" tlv -K ctl -k "$V/phone.key" -c "$V/phone.crt" -o "$TFTP/CTLFile.tlv" \
      "sast:$V/phone.crt" "ccm+tftp:$V/phone.crt"
  fi
  "$MKFIXTURE" tlv -K itl -k "$V/phone.key" -c "$V/phone.crt" -o "$TFTP/ITLFile.tlv" \
    "sast:$V/phone.crt" "tftp:$V/phone.crt"
  printf '<device><sshUserId>attacker</sshUserId></device>\n' >"$W/evil.xml"
  "$MKFIXTURE" sgn -k "$V/phone.key" -c "$V/phone.crt" -o "$TFTP/$CFG.sgn" -n "$CFG.sgn" "$W/evil.xml"
  tftpd_start
}

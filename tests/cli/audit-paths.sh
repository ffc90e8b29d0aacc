#!/usr/bin/env bash
# tests/cli/audit-paths.sh CTLSIGN SRCDIR WORKDIR - where the audit log goes and what its
# records name (issue 13, §3): with no --audit-log and no CTLSIGN_AUDIT_LOG the log is
# audit.log in the state directory (CTLSIGN_STATE_DIR, a temporary one here), never a file
# in the directory ctlsign runs from; every path in a record is absolute although the
# cluster file is given relative; and the intent records of ctl create, update and
# delete-token name the cluster file (its absolute path, "cluster"); without
# CTLSIGN_STATE_DIR the state directory is $XDG_STATE_HOME/ctlsign, else
# ~/.local/state/ctlsign.
set -euo pipefail
CTLSIGN=$1 SRC=$2 W=$3
rm -rf "$W"
mkdir -p "$W"
W=$(cd "$W" && pwd -P)
fail() { echo "audit-paths: FAIL: $*" >&2; exit 1; }
. "$SRC/tests/ctl/softhsm-lib.sh"
officer_fixture "$W"
softhsm_token C 'pin-C-1234'
unset CTLSIGN_AUDIT_LOG
export CTLSIGN_STATE_DIR="$W/state"
run() { "$@" > "$W/out" 2>&1 || { cat "$W/out" >&2; fail "$* exited $?"; }; }

cd "$W/cluster"   # the cluster file and its outputs given relative to here
run "$CTLSIGN" ctl create --cluster cluster.ini "${M[@]}" --yes \
  --token pkcs11:token=A --pin env:PIN_A --token pkcs11:token=B --pin env:PIN_B
run "$CTLSIGN" ctl update --cluster ./cluster.ini "${M[@]}" --yes \
  --token pkcs11:token=B --pin env:PIN_B --add-token pkcs11:token=C
fpC=$(openssl x509 -in "$W/hsm/C.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :)
run "$CTLSIGN" ctl delete-token --cluster ../cluster/cluster.ini "${M[@]}" --yes \
  --token pkcs11:token=A --pin env:PIN_A "$fpC"

# the second directory lags: an update with nothing to sign brings it level (catch-up)
cp "$W/cluster/tftp/CTLFile.tlv.bak" "$W/cluster/tftp-backup/CTLFile.tlv"
run "$CTLSIGN" ctl update --cluster cluster.ini "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A
grep -q "^published  .*tftp-backup/CTLFile.tlv (it differed" "$W/out" || fail "no catch-up: $(cat "$W/out")"

[ -f "$W/state/audit.log" ] || fail "no audit.log in the state directory $W/state"
for f in ctlsign-audit.log audit.log; do
  [ ! -e "$W/cluster/$f" ] || fail "an audit log $f landed in the directory ctlsign ran from"
done
run "$CTLSIGN" audit --verify
python3 - "$W/state/audit.log" "$W/cluster/cluster.ini" <<'PY' || fail "audit records"
import json, sys
log, cluster = sys.argv[1:3]
recs = [json.loads(l) for l in open(log)]
assert recs, "empty log"
for r in recs:
    for k in ("output", "cluster"):
        if k in r:
            assert r[k].startswith("/"), (k, r)
ops = {}
for r in recs:
    if r.get("phase") == "intent":
        ops.setdefault(r["operation"], []).append(r)
for op in ("ctl-create", "ctl-update", "ctl-delete-token", "ctl-catch-up"):
    assert op in ops, (op, sorted(ops))
    for r in ops[op]:
        assert r.get("cluster") == cluster, (op, r.get("cluster"), cluster)  # canonical
        assert r["output"].endswith("/CTLFile.tlv"), r
PY
# Without CTLSIGN_STATE_DIR: $XDG_STATE_HOME/ctlsign, else ~/.local/state/ctlsign (made
# 0700); the audit log and the record of what was published go there, never elsewhere.
# (A new state directory has no record of the CTL: the token of the run anchors it, (b).)
unset CTLSIGN_STATE_DIR
for where in xdg home; do
  mode=$([ "$where" = xdg ] && echo non-secure || echo mixed)
  if [ "$where" = xdg ]; then
    sd="$W/xdg/ctlsign"
    XDG_STATE_HOME="$W/xdg" HOME="$W/nohome" run "$CTLSIGN" ctl update --cluster cluster.ini "${M[@]}" \
      --yes --token pkcs11:token=A --pin env:PIN_A --mode "$mode"
    [ ! -e "$W/nohome" ] || fail "HOME used although XDG_STATE_HOME is set"
  else
    sd="$W/home/.local/state/ctlsign"
    mkdir -p "$W/home"
    env -u XDG_STATE_HOME HOME="$W/home" "$CTLSIGN" ctl update --cluster cluster.ini "${M[@]}" \
      --yes --token pkcs11:token=A --pin env:PIN_A --mode "$mode" >"$W/out" 2>&1 \
      || { cat "$W/out" >&2; fail "ctl update with HOME only"; }
  fi
  [ -s "$sd/audit.log" ] || fail "$where: no audit log in $sd"
  [ -s "$sd/published.json" ] || fail "$where: no record of the published CTL in $sd"
  [ "$(stat -c %a "$sd")" = 700 ] || fail "$where: $sd has mode $(stat -c %a "$sd"), expected 700"
  grep -q "$(sha256sum < "$W/cluster/tftp/CTLFile.tlv" | cut -c1-64)" "$sd/published.json" \
    || fail "$where: published.json does not record the CTL just published"
done
echo "audit-paths: ok"

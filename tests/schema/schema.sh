#!/usr/bin/env bash
# tests/schema/schema.sh CTLVERIFY CTLSIGN|"" SRCDIR WORKDIR - every --json output that
# describes a file, from both programs, against schemas/*.schema.json: `ctlverify show`
# (CTL, ITL, .sgn, .enc.sgn, signed firmware) and `ctlverify check` on the interop vectors
# and the vendor-layout files; `ctlverify status` of a store holding them; `ctlsign ctl
# show` on the same CTLs and ITL and on CTLs ctlsign made itself (SoftHSM tokens), and
# `ctlsign ctl diff`. The schemas are strict
# (additionalProperties false): a renamed or added key fails here. Controls: a document
# with ctlsign's old record keys (role_code, host) and one with a key left out must fail.
set -euo pipefail
CTLVERIFY=$1 CTLSIGN=$2 SRC=$3 W=$4
S=$SRC/schemas
V=$SRC/tests/data/vectors VEN=$SRC/tests/data/vendor
rm -rf "$W"
mkdir -p "$W"
export CTLSIGN_STATE_DIR="$W/state"
fail() { echo "schema: FAIL: $*" >&2; exit 1; }
n=0
: > "$W/list"
valid() { # schema json-file label: kept, validated all at once at the end (one python)
  n=$((n + 1))
  cp "$2" "$W/doc$n.json"
  printf '%s\t%s\t%s\n' "$1" "$W/doc$n.json" "$3" >> "$W/list"
}
invalid() { # schema json-file label: the schema must refuse it
  if python3 "$SRC/tests/schema/validate.py" "$S" "$1" "$2" "$3" 2>/dev/null; then
    fail "$3 matches $1 although it should not"
  fi
}
out=$W/out.json
seen=" "
show_both() { # file: ctlverify show, ctlverify check, and for CTL/ITL ctlsign ctl show
  local f=$1 b kind rc
  b=$(basename "$f")
  "$CTLVERIFY" show --json "$f" > "$out" || fail "ctlverify show --json $f"
  kind=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["kind"])' "$out")
  seen+="$kind "
  valid auto "$out" "ctlverify show --json $b"
  rc=0; "$CTLVERIFY" check --json "$f" > "$out" || rc=$?
  valid check.schema.json "$out" "ctlverify check --json $b (exit $rc)"
  if [ -n "$CTLSIGN" ] && { [ "$kind" = CTL ] || [ "$kind" = ITL ]; }; then
    rc=0; "$CTLSIGN" ctl show --json "$f" > "$out" || rc=$?
    valid auto "$out" "ctlsign ctl show --json $b (exit $rc)"
    # the same document as ctlverify's, plus "verification"
    "$CTLVERIFY" show --json "$f" > "$W/v.json"
    python3 - "$out" "$W/v.json" <<'PY' || fail "ctlsign ctl show --json $b differs from ctlverify show --json beyond \"verification\""
import json, sys
s, v = (json.load(open(p)) for p in sys.argv[1:3])
assert "verification" in s
del s["verification"]
assert s == v
PY
  fi
}

for f in "$V"/*.tlv "$V"/*.sgn "$V"/enc/*.sgn "$VEN"/*.tlv "$VEN"/*.sgn "$VEN"/*.sbn "$VEN"/*.loads; do
  [ -f "$f" ] || continue
  case $f in */not-firmware.loads) continue ;; esac
  show_both "$f"
done
# check with --cert (verified_with), and a file that does not parse (reason, no kind)
rc=0; "$CTLVERIFY" check --json --cert "$V/ccm.crt" "$V/SEP001122334455.cnf.xml.sgn" > "$out" || rc=$?
valid check.schema.json "$out" "ctlverify check --json --cert (exit $rc)"
rc=0; "$CTLVERIFY" check --json "$V/ccm.crt" > "$out" || rc=$?
[ "$rc" != 0 ] || fail "check of a certificate as a CTL passed"
valid check.schema.json "$out" "ctlverify check --json on a non-CTL (exit $rc)"
for k in CTL ITL SGN ENC-SGN FIRMWARE; do
  case $seen in *" $k "*) ;; *) fail "no $k file was checked (seen:$seen)" ;; esac
done

# ctlverify status: an empty store, then one holding the vectors' CTL and ITL
rc=0; "$CTLVERIFY" status --store "$W/store" --json > "$out" || rc=$?
valid status.schema.json "$out" "ctlverify status --json, empty store (exit $rc)"
"$CTLVERIFY" install --store "$W/store" "$V/CTLFile.tlv" > /dev/null 2>&1 || fail "install the vectors' CTL"
"$CTLVERIFY" install --store "$W/store" "$V/ITLFile.tlv" > /dev/null 2>&1 || fail "install the vectors' ITL"
"$CTLVERIFY" status --store "$W/store" --json > "$out" || fail "ctlverify status --json"
valid status.schema.json "$out" "ctlverify status --json, CTL and ITL held"
python3 - "$out" "$V/CTLFile.tlv" <<'PY' || fail "status --json does not describe the held CTL with show's header names"
import json, sys, subprocess
d = json.load(open(sys.argv[1]))
assert d["ctl"]["held"] and d["itl"]["held"], d
assert isinstance(d["ctl"]["timestamp"], int) and d["ctl"]["signer_name"].startswith("CN=SAST-ADN0001"), d["ctl"]
PY

# Controls: the schemas refuse ctlsign's old record keys and a missing key.
"$CTLVERIFY" show --json "$V/CTLFile.tlv" > "$W/ctl.json"
python3 - "$W/ctl.json" "$W/old.json" "$W/missing.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
old = json.loads(json.dumps(d))
r = old["records"][0]
r["role_code"] = r.pop("role_id")
r["host"] = r.pop("dns_name")
json.dump(old, open(sys.argv[2], "w"))
del d["records"][0]["sha256"]
json.dump(d, open(sys.argv[3], "w"))
PY
invalid ctl.schema.json "$W/old.json" "a CTL with the old keys role_code/host"
invalid ctl.schema.json "$W/missing.json" "a CTL record without sha256"

if [ -n "$CTLSIGN" ]; then
  # CTLs ctlsign made: create, then the plan of an update (ctl diff) and the new CTL.
  . "$SRC/tests/ctl/softhsm-lib.sh"
  officer_fixture "$W"
  export CTLSIGN_STATE_DIR="$W/state"
  "$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
    --token pkcs11:token=B --pin env:PIN_B > "$W/create.out" 2>&1 || { cat "$W/create.out" >&2; fail "ctl create"; }
  show_both "$T1/CTLFile.tlv"
  rc=0; "$CTLSIGN" ctl diff --cluster "$CL" --json > "$out" || rc=$?
  [ "$rc" = 0 ] || fail "ctl diff right after create: exit $rc"
  valid ctl-diff.schema.json "$out" "ctlsign ctl diff --json (no change)"
  # a change of every kind: mode (each server record changes), one server removed
  sed -e 's#^mode = mixed#mode = non-secure#' "$CL" > "$W/cluster/ns.ini"
  rc=0; "$CTLSIGN" ctl diff --cluster "$W/cluster/ns.ini" --mode non-secure --json > "$out" || rc=$?
  valid ctl-diff.schema.json "$out" "ctlsign ctl diff --json (mode change, exit $rc)"
  python3 - "$out" <<'PY' || fail "ctl diff --json lists no changed record with the show keys"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["differs"] and d["changes"], d
assert any("dns_name" in c and "role_id" in c for c in d["changes"]), d["changes"]
PY
  "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=B --pin env:PIN_B \
    --mode non-secure > "$W/update.out" 2>&1 || { cat "$W/update.out" >&2; fail "ctl update --mode non-secure"; }
  show_both "$T1/CTLFile.tlv"
fi
python3 "$SRC/tests/schema/validate.py" "$S" --list "$W/list" || fail "documents above do not match their schemas"
echo "schema: $n documents match their schemas"

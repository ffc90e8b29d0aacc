#!/usr/bin/env bash
# ctl-ceremony.sh CTLSIGN CTLVERIFY SRCDIR WORKDIR - the interactive ceremonies of
# tests/ctl/ceremonies/*.txt (in name order, one continuing story) played on a
# pseudo-terminal against the real ctlsign; SoftHSM tokens A, B, C are inserted and
# removed by moving their directories (slot polling sees it).
set -euo pipefail
CTLSIGN=$1 CTLVERIFY=$2 SRC=$3 W=$4
rm -rf "$W"; mkdir -p "$W/park"
. "$SRC/tests/ctl/softhsm-lib.sh"
softhsm_init "$W/hsm"
for t in A B C; do
  softhsm_token "$t" "pin-$t-1234"
  export "TOKEN_$t=$(basename "$(softhsm_token_dir "$t")")"
done
export PIN_A=pin-A-1234 PIN_B=pin-B-1234 PIN_C=pin-C-1234
export TOKENDIR=$W/hsm/tokens PARK=$W/park CTLSIGN_AUDIT_LOG=$W/audit.log CTLSIGN_STATE_DIR=$W/state
cp -r "$SRC/examples/demo-cluster" "$W/cluster"
T1=$W/cluster/tftp
mkdir -p "$T1" "$W/cluster/tftp-backup"
cat > "$W/ctlsign" <<WRAP
#!/bin/sh
exec "$CTLSIGN" "\$@" --cluster "$W/cluster/cluster.ini" --module "$SOFTHSM_MODULE" --timeout 60
WRAP
chmod +x "$W/ctlsign"
n_sast() { "$CTLSIGN" ctl show --json "$T1/CTLFile.tlv" | python3 -c \
  'import json,sys; print(sum(r["role"]=="SAST" for r in json.load(sys.stdin)["records"]))'; }

for s in "$SRC"/tests/ctl/ceremonies/*.txt; do
  [ -e "$T1/CTLFile.tlv" ] && cp "$T1/CTLFile.tlv" "$W/before.tlv"
  python3 "$SRC/tests/ctl/pty-driver.py" "$s" -- "$W/ctlsign"
  case $(basename "$s") in
    1-*) [ "$(n_sast)" = 2 ] || { echo "FAIL: expected 2 SAST records"; exit 1; } ;;
    2-*|4-*|6-*|7-*|8-*) cmp -s "$T1/CTLFile.tlv" "$W/before.tlv" || { echo "FAIL: CTL changed"; exit 1; } ;;
    3-*) [ "$(n_sast)" = 3 ] || { echo "FAIL: expected 3 SAST records"; exit 1; } ;;
    5-*) [ "$(n_sast)" = 2 ] || { echo "FAIL: expected 2 SAST records after the delete"; exit 1; }
         "$CTLSIGN" ctl show "$T1/CTLFile.tlv" | grep -q SAST-C && { echo "FAIL: C still listed"; exit 1; } ;;
  esac
  "$CTLVERIFY" check "$T1/CTLFile.tlv"
done
echo "all ceremonies passed"

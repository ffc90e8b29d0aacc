# Attack 5: signatures without an audit record. `ctlsign sign --dir` must record the
# intent for a batch BEFORE its .sgn files are renamed into place: when the audit log
# cannot be appended to (a directory where the log should be; a full disk while the run
# is going), the run exits nonzero with no .sgn published and no temporary files left,
# and a rerun with a working log signs those files again (they are not "unchanged") and
# audits each of them.
need_ctlsign
. "$SRC/tests/sign/tftp-token.sh"
tftp_token "$W/hsm"
T=$W/tftp
mkdir "$T"
cp "$V/CTLFile.tlv" "$T/"
for i in $(seq 10 29); do
  printf '<device><fullConfig>true</fullConfig><n>%s</n></device>\n' "$i" >"$T/SEP0000000000$i.cnf.xml"
done
sign() { "$CTLSIGN" sign --pin env:CTL_TEST_PIN --key pkcs11:token=tftp --dir "$T" --jobs 2 "$@"; }
nothing_published() {
  local left
  left=$(ls -A "$T" | grep -e '\.sgn$' -e '^\.ctlsign-' | tr '\n' ' ' || true)
  [ -z "$left" ] || fail "$1: published or left: $left"
}

# the log is a directory: refused before anything is signed
mkdir "$W/logdir"
export CTLSIGN_AUDIT_LOG=$W/logdir
run 3 sign
err_has "audit log $W/logdir"
nothing_published "log is a directory"

# the disk fills up once the run has started: a file size limit (bash ulimit -f, KiB)
# below the log's size makes every append fail (EFBIG) while the signed files still fit
export CTLSIGN_AUDIT_LOG=$W/audit.log
python3 - "$CTLSIGN_AUDIT_LOG" <<'PY'
import sys
with open(sys.argv[1], "w") as f:   # an old log, written before the chain existed
    for i in range(400):
        f.write('{"time":"2025-01-01T00:00:00Z","operation":"sign","output":"/old/%d.sgn","result":"ok"}\n' % i)
PY
size=$(stat -c %s "$CTLSIGN_AUDIT_LOG")
[ "$size" -gt 32768 ] || fail "the old log is too small for the test ($size)"
rc=0
( trap '' XFSZ; ulimit -f 32; exec "$CTLSIGN" sign --pin env:CTL_TEST_PIN --key pkcs11:token=tftp \
    --dir "$T" --jobs 2 ) </dev/null >"$W/out" 2>"$W/err" || rc=$?
[ "$rc" = 3 ] || { cat "$W/err" >&2; fail "expected exit 3 with a full disk, got $rc"; }
err_has "audit log"
nothing_published "full disk"
[ "$(stat -c %s "$CTLSIGN_AUDIT_LOG")" = "$size" ] || fail "the log changed although every append failed"

# the disk has room again: the rerun signs all 20 (none is "unchanged") and audits each
run 0 sign --json
python3 - "$W/out" <<'PY' || fail "rerun summary: $(cat "$W/out")"
import json, sys
s = json.load(open(sys.argv[1]))
assert (s["signed"], s["unchanged"], s["failed"]) == (20, 0, 0), s
PY
for f in "$T"/*.sgn; do
  grep '"phase":"intent"' "$CTLSIGN_AUDIT_LOG" | grep -F "\"output\":\"$f\"" \
    | grep -F "\"output_sha256\":\"$(sha256 "$f")\"" >/dev/null || fail "$f has no intent record with its hash"
done
run 0 "$CTLSIGN" audit --verify "$CTLSIGN_AUDIT_LOG"
out_has "unchained up to line 400"

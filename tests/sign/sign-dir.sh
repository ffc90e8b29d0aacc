#!/usr/bin/env bash
# ctlsign sign --dir: eligible set, one session, incremental, JSON summary, audit summary,
# odd entries, a token pulled mid-batch (the test PKCS#11 shim, tests/p11shim), unreadable
# files.
. "$(dirname "$0")/lib.sh" "$@"
T=$WORK/tftp; mkdir "$T"; cd "$WORK"
cp "$V/CTLFile.tlv" "$T/"
for i in $(seq 100 399); do
  printf '<device><fullConfig>true</fullConfig><n>%s</n></device>\n' "$i" > "$T/SEP000000000$i.cnf.xml"
done
printf '<CiscoIPPhoneRingList/>\n' > "$T/RingList.xml"
printf '<x/>\n' > "$T/English_United_States-dictionary.xml"
printf '<x/>\n' > "$T/g3-tones.xml"
printf 'binary\x00\xff' > "$T/XMLDefault.cnf.xml"        # not XML: signed anyway
printf 'x' > "$T/firmware.loads"                          # not eligible
printf 'x' > "$T/name with spaces.cnf.xml"
printf 'x' > "$T/$(printf 'bad\xffutf8.cnf.xml')"
echo secret > "$WORK/outside.cnf.xml"; ln -s "$WORK/outside.cnf.xml" "$T/link.cnf.xml"

sign --key "pkcs11:token=tftp" --dir "$T" --jobs 2 --json >sum.json 2>err.txt
python3 - sum.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert (s["signed"], s["unchanged"], s["failed"], s["skipped"]) == (306, 0, 0, 1), s
PY
[ ! -e "$T/firmware.loads.sgn" ] && [ ! -e "$T/link.cnf.xml.sgn" ] && [ ! -e "$T/CTLFile.tlv.sgn" ] \
  || fail "signed an ineligible file"
[ "$(cat "$WORK/outside.cnf.xml")" = secret ] || fail "outside file touched"
vcheck "$T/SEP000000000123.cnf.xml.sgn" "$V/ccm.crt" SEP000000000123.cnf.xml.sgn body
cmp body "$T/SEP000000000123.cnf.xml"
vcheck "$T/XMLDefault.cnf.xml.sgn" "$V/ccm.crt" XMLDefault.cnf.xml.sgn
[ "$(grep -c '"operation":"sign"' audit.log)" -eq 306 ] || fail "per-file audit lines"
[ "$(grep -c '"operation":"bulk-summary"' audit.log)" -eq 1 ] || fail "bulk summary audit line"

# Re-run: nothing changed, nothing signed. Then one content change (same size).
sign --key "pkcs11:token=tftp" --dir "$T" --json >sum.json 2>/dev/null
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["signed"]==0 and s["unchanged"]==306, s' sum.json
printf '<device><fullConfig>true</fullConfig><n>999</n></device>\n' > "$T/SEP000000000200.cnf.xml"
sign --key "pkcs11:token=tftp" --dir "$T" -q >out.txt
grep -q "signed 1, unchanged 305, failed 0" out.txt || fail "incremental: $(cat out.txt)"
vcheck "$T/SEP000000000200.cnf.xml.sgn" "$V/ccm.crt" SEP000000000200.cnf.xml.sgn body
cmp body "$T/SEP000000000200.cnf.xml"
# --all, --include / --exclude
sign --key "pkcs11:token=tftp" --dir "$T" -q --all --include 'SEP*' --exclude '*3??.cnf.xml' >out.txt
grep -q "signed 200, unchanged 0" out.txt || fail "--all/--include/--exclude: $(cat out.txt)"

# The token goes away after 20 signatures (the shim module in front of SoftHSM answers
# CKR_DEVICE_REMOVED from then on): exit 11, what was signed is whole, no temp files, and
# the re-run finishes the job.
[ -f "${CTL_P11SHIM:-}" ] || fail "CTL_P11SHIM (the test PKCS#11 shim, tests/p11shim) is not set"
rm -f "$T"/*.sgn
set +e
P11SHIM_MODULE=$MODULE P11SHIM_GONE_AFTER=20 "$CTLSIGN" sign --pin env:CTL_TEST_PIN \
  --module "$CTL_P11SHIM" --key "pkcs11:token=tftp" --dir "$T" --jobs 1 --json >sum.json 2>err.txt
rc=$?; set -e
[ $rc -eq 11 ] || fail "token removal: exit $rc"
grep -q "token .tftp. (serial [^)]*) was removed: put it back" err.txt || fail "message: $(cat err.txt)"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["signed"]==20 and s["stopped"], s' sum.json
[ "$(ls "$T" | grep -c '\.sgn$')" -eq 20 ] || fail "outputs after removal: $(ls "$T" | grep -c '\.sgn$')"
[ -z "$(ls -A "$T" | grep '^\.ctlsign-' || true)" ] || fail "temp files left"
for f in "$T"/*.sgn; do b=$(basename "$f"); vcheck "$f" "$V/ccm.crt" "$b"; done
sign --key "pkcs11:token=tftp" --dir "$T" -q >out.txt
grep -q "signed 286, unchanged 20" out.txt || fail "resume: $(cat out.txt)"

# Unreadable file (only meaningful when not root) and a too-large one: exit 13, rest fine.
truncate -s 17M "$T/huge.cnf.xml"
if [ "$(id -u)" -ne 0 ]; then printf x > "$T/locked.cnf.xml"; chmod 000 "$T/locked.cnf.xml"; fi
expect 13 sign --key "pkcs11:token=tftp" --dir "$T" --json >sum.json 2>err.txt
grep -q "huge.cnf.xml: cannot read: file too large" err.txt || fail "message: $(cat err.txt)"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["failed"]>=1 and s["unchanged"]==306, s' sum.json

# A CTLFile.tlv planted as a symbolic link in the TFTP directory is not followed to check
# the signer against: refused (exit 9) naming it, nothing signed.
mkdir "$WORK/t2"
cp "$T/SEP000000000100.cnf.xml" "$WORK/t2/"
ln -s "$V/CTLFile.tlv" "$WORK/t2/CTLFile.tlv"
expect 9 sign --key "pkcs11:token=tftp" --dir "$WORK/t2" 2>err.txt
grep -q "$WORK/t2/CTLFile.tlv is a symbolic link" err.txt || fail "message: $(cat err.txt)"
[ ! -e "$WORK/t2/SEP000000000100.cnf.xml.sgn" ] || fail "signed next to a planted CTL link"
echo PASS

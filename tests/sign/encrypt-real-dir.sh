#!/usr/bin/env bash
# Issue 12 §8: encryption in a real TFTP directory. Certificates for 5 of 199 phones:
# `encrypt --dir` encrypts those 5 and counts the 194 others as skipped (exit 0, they stay
# in the clear). A certificate whose subject names another phone's MAC is refused for
# that phone (9, still in the clear); an expired one gives a warning and is used. When an
# encrypted phone's clear config reappears, `sign --dir` does not publish it as .sgn in
# place of the minimal config (skipped, with a warning); named explicitly, it is signed.
. "$(dirname "$0")/lib.sh" "$@"
T=$WORK/tftp; C=$WORK/certs; mkdir "$T" "$C"; cd "$WORK"
cp "$V/CTLFile.tlv" "$T/"
for i in $(seq 100 298); do cp "$V/SEP001122334455.cnf.xml" "$T/SEP000000000$i.cnf.xml"; done
for i in 101 150 200 250; do mkcert "$C/SEP000000000$i.pem" "SEP000000000$i"; done
mkcert "$C/SEP000000000298.pem" "CP-7975G-SEP000000000298"      # a MIC's form
KEY=(--key "pkcs11:token=tftp")

encrypt "${KEY[@]}" --device-certs "$C" --dir "$T" --json >sum.json 2>err.txt \
  || fail "encrypt --dir with certificates for 5 of 199 phones: exit $?: $(cat err.txt)"
python3 - sum.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert (s["encrypted"], s["failed"], s["skipped"]) == (5, 0, 194), s
assert len(s["skipped_files"]) == 100 and all(f.endswith(".cnf.xml") for f in s["skipped_files"]), s
PY
grep -q "194 configurations stay in the clear: no certificate" err.txt || fail "note: $(cat err.txt)"
[ "$(ls "$T" | grep -c '\.enc\.sgn$')" = 5 ] || fail "encrypted files: $(ls "$T" | grep enc)"
vdecrypt "$T/SEP000000000298.cnf.xml.enc.sgn" "$V/ccm.crt" "$V/phone.key" plain
cmp plain "$V/SEP001122334455.cnf.xml" || fail "decrypted text differs"
[ -e "$T/SEP000000000102.cnf.xml" ] && [ ! -e "$T/SEP000000000102.cnf.xml.sgn" ] || fail "a phone without a certificate was touched"
# the text summary says the same
encrypt "${KEY[@]}" --device-certs "$C" --dir "$T" >out.txt 2>/dev/null || fail "rerun: exit $?"
grep -qx "encrypted 0, failed 0, skipped 194" out.txt || fail "summary: $(cat out.txt)"

# Another phone's certificate (the vectors' phone.crt names SEP001122334455) under this
# phone's name: refused for this phone (9), nothing written, the clear config stays.
cp "$V/phone.crt" "$C/SEP000000000120.pem"
expect 9 encrypt "${KEY[@]}" --device-certs "$C" --dir "$T" --json >sum.json 2>err.txt
grep -q "SEP000000000120.cnf.xml: .*names phone SEP001122334455, not SEP000000000120" err.txt || fail "message: $(cat err.txt)"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert (s["encrypted"],s["failed"],s["skipped"])==(0,1,193), s' sum.json
[ -e "$T/SEP000000000120.cnf.xml" ] && [ ! -e "$T/SEP000000000120.cnf.xml.enc.sgn" ] && [ ! -e "$T/SEP000000000120.cnf.xml.sgn" ] \
  || fail "written for a phone with another phone's certificate"
# ... and so is the one-file form, before any PIN is asked for
expect 9 encrypt "${KEY[@]}" --device-cert "$V/phone.crt" "$T/SEP000000000120.cnf.xml" 2>err.txt
grep -q "names phone SEP001122334455" err.txt || fail "message: $(cat err.txt)"
rm "$C/SEP000000000120.pem"

# An expired certificate: a warning, and the config is encrypted to it.
mkcert "$C/SEP000000000130.pem" SEP000000000130 expired
encrypt "${KEY[@]}" --device-certs "$C" --dir "$T" >out.txt 2>err.txt || fail "expired: exit $?: $(cat err.txt)"
grep -q "warning: .*SEP000000000130.cnf.xml: the device certificate expired on" err.txt || fail "no expiry warning: $(cat err.txt)"
[ -e "$T/SEP000000000130.cnf.xml.enc.sgn" ] || fail "not encrypted to the expired certificate"

# The clear config of an encrypted phone reappears (the server wrote it again): a
# directory run does not publish it as .sgn beside the .enc.sgn.
cp "$T/SEP000000000101.cnf.xml.sgn" mini.sgn
cp "$V/SEP001122334455.cnf.xml" "$T/SEP000000000101.cnf.xml"
sign "${KEY[@]}" --dir "$T" --json >sum.json 2>err.txt || fail "sign --dir: exit $?: $(cat err.txt)"
cmp mini.sgn "$T/SEP000000000101.cnf.xml.sgn" || fail "the minimal config was replaced by the clear full config"
grep -q "warning: not signing $T/SEP000000000101.cnf.xml: the phone's config is encrypted" err.txt \
  || fail "no warning: $(cat err.txt)"
python3 - sum.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["failed"] == 0 and s["skipped"] == 1 and s["signed"] == 193, s
assert [w["file"].rsplit("/", 1)[1] for w in s["warnings"]] == ["SEP000000000101.cnf.xml"], s
PY
vcheck "$T/SEP000000000102.cnf.xml.sgn" "$V/ccm.crt" SEP000000000102.cnf.xml.sgn
# named explicitly, it is signed (the officer decided)
sign "${KEY[@]}" "$T/SEP000000000101.cnf.xml" >/dev/null 2>&1 || fail "explicit sign refused"
vcheck "$T/SEP000000000101.cnf.xml.sgn" "$V/ccm.crt" SEP000000000101.cnf.xml.sgn body
cmp body "$T/SEP000000000101.cnf.xml" || fail "explicit sign: body"
echo PASS

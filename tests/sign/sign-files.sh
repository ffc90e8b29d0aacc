#!/usr/bin/env bash
# ctlsign sign FILE...: outputs, header names, digests, -o, the CTL check, non-RSA key.
. "$(dirname "$0")/lib.sh" "$@"
cd "$WORK"
cp "$V/SEP001122334455.cnf.xml" cfg.cnf.xml
printf 'not xml \x01\x02' > blob.bin

# One file, defaults: FILE.sgn next to it, SHA-512, named after the output, body unchanged.
sign --key "pkcs11:token=tftp" --ctl "$V/CTLFile.tlv" -q cfg.cnf.xml blob.bin >out.txt
grep -q "signed 2, unchanged 0, failed 0" out.txt || fail "summary: $(cat out.txt)"
vcheck cfg.cnf.xml.sgn "$V/ccm.crt" cfg.cnf.xml.sgn body
cmp body cfg.cnf.xml || fail "body differs"
[ "$(vhash cfg.cnf.xml.sgn)" = "SGN sha512" ] || fail "default digest is not sha512"
vcheck blob.bin.sgn "$V/ccm.crt" blob.bin.sgn body && cmp body blob.bin
# The round trip can fail: one body byte changed, or the wrong certificate, is rejected.
cp cfg.cnf.xml.sgn bad.sgn; printf 'X' | dd of=bad.sgn bs=1 seek=$(( $(stat -c %s bad.sgn) - 3 )) conv=notrunc 2>/dev/null
expect 5 "$CTLVERIFY" check --cert "$V/ccm.crt" bad.sgn >/dev/null
expect 5 "$CTLVERIFY" check --cert "$V/tftp2.crt" cfg.cnf.xml.sgn >/dev/null

# --digest sha1, -o DIR; the CTL in DIR is found on its own.
mkdir tftp; cp "$V/CTLFile.tlv" tftp/
sign --key "pkcs11:token=tftp" --digest sha1 -o tftp -q cfg.cnf.xml >/dev/null
[ "$(vhash tftp/cfg.cnf.xml.sgn)" = "SGN sha1" ] || fail "--digest sha1 not honoured"
vcheck tftp/cfg.cnf.xml.sgn "$V/ccm.crt" cfg.cnf.xml.sgn

# Audit: one line per signed file, with the token and the output's hash.
[ "$(grep -c '"operation":"sign"' audit.log)" -eq 3 ] || fail "audit lines: $(cat audit.log)"
grep -q "\"output_sha256\":\"$(sha256sum tftp/cfg.cnf.xml.sgn | cut -d' ' -f1)\"" audit.log \
  || fail "audit hash"
grep -q '"token_label":"tftp"' audit.log || fail "audit token label"

# A SAST key is not a TFTP signer in the CTL: refused, nothing written.
rm -f cfg.cnf.xml.sgn
expect 9 sign --key "pkcs11:token=sast" --ctl "$V/CTLFile.tlv" cfg.cnf.xml 2>err.txt
grep -q "phones would reject these files: the signing certificate is not in the CTL with a TFTP role" err.txt \
  || fail "message: $(cat err.txt)"
[ ! -e cfg.cnf.xml.sgn ] || fail "signed despite the CTL check"

# A non-secure CTL: nothing is signed.
sgntool nonsecure-ctl ns.tlv "$V/sast1.crt" "$V/ccm.crt" "$V/sast1.key"
expect 9 sign --key "pkcs11:token=tftp" --ctl ns.tlv cfg.cnf.xml 2>err.txt
grep -q "non-secure" err.txt || fail "message: $(cat err.txt)"
[ ! -e cfg.cnf.xml.sgn ] || fail "signed with a non-secure CTL"

# A token whose key is not RSA: refused.
softhsm2-util --init-token --free --label ec --so-pin so-pin-97531 --pin "$CTL_TEST_PIN" >/dev/null
softhsm2-util --import "$DATA/sign/SEP00AABBCCDDEE-ec.key" --token ec --label ec --id 01 --pin "$CTL_TEST_PIN" >/dev/null
openssl x509 -in "$DATA/sign/SEP00AABBCCDDEE-ec.crt" -outform DER -out ec.der
pkcs11-tool --module "$MODULE" --token-label ec --login --pin "$CTL_TEST_PIN" \
  --write-object ec.der --type cert --id 01 --label ec >/dev/null 2>&1
expect 7 sign --key "pkcs11:token=ec" cfg.cnf.xml 2>err.txt
grep -qi "not RSA" err.txt || fail "message: $(cat err.txt)"
[ ! -e cfg.cnf.xml.sgn ] || fail "signed with an EC key"

# A file that is missing: exit 13 (partial), the others still signed.
expect 13 sign --key "pkcs11:token=tftp" -q cfg.cnf.xml nosuchfile >/dev/null 2>&1
[ -e cfg.cnf.xml.sgn ] || fail "the good file was not signed"
# Usage errors.
expect 2 sign --key "pkcs11:token=tftp" 2>/dev/null
expect 2 sign --digest md5 cfg.cnf.xml 2>/dev/null
"$CTLSIGN" sign --help | grep -q -- "--include" || fail "--help"

# The audit log is a chain (each record holds the SHA-256 of the one before): intact; a
# record edited or deleted is found, naming the first line that no longer chains (exit 9).
grep -q '"phase":"intent"' audit.log || fail "no intent records"
grep -q '"operation":"publish","phase":"outcome"' audit.log || fail "no outcome records"
"$CTLSIGN" audit --verify audit.log >out.txt || fail "audit --verify: $(cat out.txt)"
grep -q "chain intact" out.txt || fail "audit --verify: $(cat out.txt)"
[ "$(wc -l <audit.log)" -ge 4 ] || fail "too few records for the chain checks"
sed '2s/"result":"ok"/"result":"OK"/' audit.log >edited.log
grep -q '"result":"OK"' edited.log || fail "the edit did not apply"
expect 9 "$CTLSIGN" audit --verify edited.log 2>err.txt
grep -q "edited.log is broken at line 3: .*line 2 was edited" err.txt || fail "edit: $(cat err.txt)"
sed '3d' audit.log >deleted.log
expect 9 "$CTLSIGN" audit --verify deleted.log 2>err.txt
grep -q "deleted.log is broken at line 3" err.txt || fail "deletion: $(cat err.txt)"
expect 9 "$CTLSIGN" audit --verify --json deleted.log >out.json 2>/dev/null
python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["intact"] is False and d["first_bad_line"] == 3, d' <out.json || fail "audit --verify --json"
# a log begun before the chain existed: its first lines are "unchained", not broken
{ printf '{"time":"2025-01-01T00:00:00Z","operation":"sign","result":"ok"}\n'; cat audit.log; } >old.log
# (the first chained record then names the old line's hash: re-chain by appending)
printf '{"time":"2025-01-01T00:00:00Z","operation":"sign","result":"ok"}\n' >old2.log
CTLSIGN_AUDIT_LOG=$WORK/old2.log sign --key "pkcs11:token=tftp" cfg.cnf.xml >/dev/null 2>&1 || fail "sign with an old log"
"$CTLSIGN" audit --verify old2.log >out.txt || fail "old log: $(cat out.txt)"
grep -q "unchained up to line 1" out.txt || fail "old log: $(cat out.txt)"
expect 9 "$CTLSIGN" audit --verify old.log 2>/dev/null
echo PASS

#!/usr/bin/env bash
# ctlsign encrypt: .enc.sgn + minimal .sgn, clear file removed after, decryption with the
# device key, <device> required, EC device certificate refused, bulk by MAC.
. "$(dirname "$0")/lib.sh" "$@"
T=$WORK/tftp; mkdir "$T" "$WORK/certs"; cd "$WORK"
cp "$V/CTLFile.tlv" "$T/"
cp "$V/SEP001122334455.cnf.xml" "$T/"
cp "$V/SEP001122334455.cnf.xml" orig.xml

encrypt --key "pkcs11:token=tftp" --device-cert "$V/phone.crt" -q "$T/SEP001122334455.cnf.xml" >out.txt
grep -q "encrypted 1, failed 0" out.txt || fail "summary: $(cat out.txt)"
[ ! -e "$T/SEP001122334455.cnf.xml" ] || fail "the clear config is still there"
vdecrypt "$T/SEP001122334455.cnf.xml.enc.sgn" "$V/ccm.crt" "$V/phone.key" plain
cmp plain orig.xml || fail "decrypted text differs"
# the minimal config equals the independent implementation's
vcheck "$T/SEP001122334455.cnf.xml.sgn" "$V/ccm.crt" SEP001122334455.cnf.xml.sgn mini
vcheck "$V/enc/SEP001122334455.cnf.xml.sgn" "$V/ccm.crt" SEP001122334455.cnf.xml.sgn refmini
cmp mini refmini || fail "minimal config differs from the vector's"
[ "$(grep -c '"operation":"encrypt"' audit.log)" -eq 1 ] || fail "audit"
# a fresh key and IV per file: encrypting the same text twice differs
cp orig.xml "$T/SEP001122334455.cnf.xml"; cp "$T/SEP001122334455.cnf.xml.enc.sgn" first.enc
encrypt --key "pkcs11:token=tftp" --device-cert "$V/phone.crt" -q "$T/SEP001122334455.cnf.xml" >/dev/null
! cmp -s first.enc "$T/SEP001122334455.cnf.xml.enc.sgn" || fail "same ciphertext twice"

# Not a <device> config: refused, clear file kept. (Each phone gets a certificate naming
# its own MAC: another phone's is refused before the file is read, issue 12 §8.)
mkcert a.pem SEP00000000000A; mkcert b.pem SEP00000000000B
printf '<config><a/></config>\n' > "$T/SEP00000000000A.cnf.xml"
expect 4 encrypt --key "pkcs11:token=tftp" --device-cert a.pem "$T/SEP00000000000A.cnf.xml" 2>err.txt
grep -q "<device>" err.txt || fail "message: $(cat err.txt)"
[ -e "$T/SEP00000000000A.cnf.xml" ] && [ ! -e "$T/SEP00000000000A.cnf.xml.enc.sgn" ] || fail "outputs"
printf 'plain text\n' > "$T/SEP00000000000B.cnf.xml"
expect 4 encrypt --key "pkcs11:token=tftp" --device-cert b.pem "$T/SEP00000000000B.cnf.xml" 2>/dev/null

# EC device certificate: refused with the reason, before anything is done.
cp orig.xml "$T/SEP00AABBCCDDEE.cnf.xml"
expect 7 encrypt --key "pkcs11:token=tftp" --device-cert "$DATA/sign/SEP00AABBCCDDEE-ec.crt" \
  "$T/SEP00AABBCCDDEE.cnf.xml" 2>err.txt
grep -q "EC key" err.txt || fail "message: $(cat err.txt)"
[ -e "$T/SEP00AABBCCDDEE.cnf.xml" ] || fail "clear file removed"

# Bulk: certificates by MAC; the EC phone and the non-device configs fail, others done;
# a phone without a certificate is skipped (issue 12 §8: it stays in the clear).
rm -f "$T"/SEP00000000000B.cnf.xml
cp "$V/phone.crt" certs/SEP001122334455.pem
mkcert aa.pem SEP0011223344AA
openssl x509 -in aa.pem -outform DER -out certs/SEP0011223344AA.der
cp "$DATA/sign/SEP00AABBCCDDEE-ec.crt" certs/SEP00AABBCCDDEE.crt
cp orig.xml "$T/SEP001122334455.cnf.xml"; cp orig.xml "$T/SEP0011223344AA.cnf.xml"
cp orig.xml "$T/SEP0011223344BB.cnf.xml"   # no certificate for this one
expect 13 encrypt --key "pkcs11:token=tftp" --device-certs certs --dir "$T" --json >sum.json 2>err.txt
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert (s["encrypted"],s["failed"],s["skipped"])==(2,2,1) and s["skipped_files"] == ["SEP0011223344BB.cnf.xml"], s' sum.json
vdecrypt "$T/SEP0011223344AA.cnf.xml.enc.sgn" "$V/ccm.crt" "$V/phone.key" plain
cmp plain orig.xml
vcheck "$T/SEP0011223344AA.cnf.xml.sgn" "$V/ccm.crt" SEP0011223344AA.cnf.xml.sgn
[ -e "$T/SEP0011223344BB.cnf.xml" ] && [ -e "$T/SEP00AABBCCDDEE.cnf.xml" ] || fail "failed files removed"
grep -q "1 configuration stays in the clear: no certificate for its phone in certs" err.txt || fail "missing-cert message: $(cat err.txt)"

# One run at a time in a directory: another run's lock (this shell's PID, flock held)
# makes --dir wait (--wait 0: not at all) and exit 12 naming the holder; nothing done.
cp orig.xml "$T/SEP0011223344CC.cnf.xml"
cp "$V/phone.crt" certs/SEP0011223344CC.pem
echo $$ >"$T/.ctlsign.lock"
exec 9<"$T/.ctlsign.lock"
flock 9
expect 12 encrypt --key "pkcs11:token=tftp" --device-certs certs --dir "$T" --wait 0 >/dev/null 2>err.txt 9<&-
grep -q "another run holds $T/.ctlsign.lock (pid $$: " err.txt || fail "lock message: $(cat err.txt)"
[ ! -e "$T/SEP0011223344CC.cnf.xml.enc.sgn" ] || fail "encrypted while another run held the directory"
rm "$T/.ctlsign.lock"
exec 9<&-

# Audit first, publish second: both outputs announced (intent, with their hashes) before
# either is renamed into place; when the log cannot be appended to (a file size limit
# below its size: a full disk), nothing is written and the clear config stays.
for f in "$T/SEP0011223344AA.cnf.xml.enc.sgn" "$T/SEP0011223344AA.cnf.xml.sgn"; do
  grep '"phase":"intent"' audit.log | grep -F "\"output\":\"$f\"" \
    | grep -F "\"output_sha256\":\"$(sha256sum "$f" | cut -d' ' -f1)\"" >/dev/null || fail "no intent record for $f"
done
"$CTLSIGN" audit --verify audit.log >/dev/null || fail "audit chain"
cp orig.xml "$T/SEP001122334455.cnf.xml"
rm -f "$T"/SEP001122334455.cnf.xml.*
head -c 40000 /dev/zero | tr '\0' 'x' >>full.log; echo >>full.log
set +e
( trap '' XFSZ; ulimit -f 32; exec "$CTLSIGN" encrypt --pin env:CTL_TEST_PIN --key "pkcs11:token=tftp" \
    --device-cert "$V/phone.crt" --audit-log "$WORK/full.log" "$T/SEP001122334455.cnf.xml" ) >/dev/null 2>err.txt
rc=$?; set -e
[ "$rc" = 3 ] || fail "full audit log: exit $rc: $(cat err.txt)"
grep -q "no audit record" err.txt || fail "message: $(cat err.txt)"
[ -e "$T/SEP001122334455.cnf.xml" ] || fail "the clear config went without an audit record"
[ -z "$(ls "$T" | grep '^SEP001122334455\.cnf\.xml\.' || true)" ] || fail "written without an audit record: $(ls "$T")"
echo PASS

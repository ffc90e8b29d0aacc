#!/usr/bin/env bash
# ctlsign encrypt checks its signer against the CTL: a key whose certificate is in the CTL
# only as a SAST (phones refuse configs signed by it) is refused (exit 9) before anything
# is written; the clear config stays, no .enc.sgn, no minimal .sgn, no "ok" audit record.
# For the single-file form (CTL found next to the file, and --ctl) and --dir. Control: the
# CCM+TFTP key encrypts the same file.
. "$(dirname "$0")/lib.sh" "$@"
T=$WORK/tftp; mkdir "$T"; cd "$WORK"
cp "$V/CTLFile.tlv" "$T/"
CFG=SEP001122334455.cnf.xml
cp "$V/$CFG" "$T/"
python3 - "$V/CTLFile.tlv" "$CTLVERIFY" <<'PY' || fail "sast1 is not a SAST-only record of the vector CTL"
import json, subprocess, sys
d = json.loads(subprocess.run([sys.argv[2], "show", "--json", sys.argv[1]], check=True,
                              capture_output=True).stdout)
roles = [r["role"] for r in d["records"] if r.get("subject", "").startswith("CN=SAST-ADN0001")]
assert roles == ["SAST"], roles
PY

nothing_written() {
  [ -e "$T/$CFG" ] || fail "the clear config was removed"
  [ ! -e "$T/$CFG.enc.sgn" ] || fail "an .enc.sgn signed by a SAST was written"
  [ ! -e "$T/$CFG.sgn" ] || fail "a minimal .sgn signed by a SAST was written"
  ! ls -A "$T" | grep -v -x -e CTLFile.tlv -e "$CFG" -e .ctlsign.lock || fail "left in $T: $(ls -A "$T")"
  ! grep -s '"result":"ok"' "$WORK/audit.log" || fail "an ok record was audited"
}

expect 9 encrypt --key "pkcs11:token=sast" --device-cert "$V/phone.crt" "$T/$CFG" 2>err.txt
grep -q "not in the CTL with a TFTP role" err.txt || fail "message: $(cat err.txt)"
nothing_written
expect 9 encrypt --key "pkcs11:token=sast" --ctl "$V/CTLFile.tlv" --device-cert "$V/phone.crt" "$T/$CFG" 2>err.txt
grep -q "not in the CTL with a TFTP role" err.txt || fail "message: $(cat err.txt)"
nothing_written
mkdir certs; cp "$V/phone.crt" certs/SEP001122334455.pem
expect 9 encrypt --key "pkcs11:token=sast" --device-certs certs --dir "$T" 2>err.txt
grep -q "not in the CTL with a TFTP role" err.txt || fail "message: $(cat err.txt)"
nothing_written

# control: the CCM+TFTP key of the same CTL encrypts it
encrypt --key "pkcs11:token=tftp" --device-cert "$V/phone.crt" -q "$T/$CFG" >/dev/null
vdecrypt "$T/$CFG.enc.sgn" "$V/ccm.crt" "$V/phone.key" plain
cmp -s plain "$V/$CFG" || fail "control: decrypted text differs"
echo PASS

#!/usr/bin/env bash
# ctl-flow.sh CTLSIGN CTLVERIFY SRCDIR WORKDIR - `ctlsign ctl` against real SoftHSM tokens:
# create (two-token rule), update (authorization, add token, re-certified server), mode
# switch, delete-token, show/--json, audit, interop with OpenSSL, and the faults: wrong
# PIN, default PIN, token not in the CTL, corrupt / foreign current CTL, bad cluster file,
# no confirmation, lock held, "disk full" (killed while publishing: ctl-crash.sh).
# Every fault must: fail with a clear one-line error and its exit code, leave the old
# CTL intact and loadable, leave no temp files.
set -euo pipefail
CTLSIGN=$1 CTLVERIFY=$2 SRC=$3 W=$4
rm -rf "$W"
mkdir -p "$W"
. "$SRC/tests/ctl/softhsm-lib.sh"
softhsm_init "$W/hsm"
softhsm_token A 'pin-A-1234'
softhsm_token B 'pin-B-1234'
softhsm_token C 'pin-C-1234'
softhsm_token E 'pin-E-1234'
softhsm_token D 'Cisco123'          # still the factory default password
export PIN_A='pin-A-1234' PIN_B='pin-B-1234' PIN_C='pin-C-1234' PIN_E='pin-E-1234' PIN_D='Cisco123'
export CTLSIGN_AUDIT_LOG="$W/audit.log" CTLSIGN_STATE_DIR="$W/state"
cp -r "$SRC/examples/demo-cluster" "$W/cluster"
CL="$W/cluster/cluster.ini"
T1="$W/cluster/tftp" T2="$W/cluster/tftp-backup"
mkdir -p "$T1" "$T2"

fails=0
step() { echo "--- $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
# expect CODE CMD...: runs CMD with stdin from /dev/null, checks the exit code, keeps stderr
expect() {
  local want=$1; shift
  local rc=0
  "$@" </dev/null >"$W/out" 2>"$W/err" || rc=$?
  if [ "$rc" != "$want" ]; then
    bad "expected exit $want, got $rc: $*"; sed 's/^/  | /' "$W/err" "$W/out" | head -20
  fi
}
err_has() { grep -q -- "$1" "$W/err" || { bad "stderr lacks '$1'"; sed 's/^/  | /' "$W/err"; }; }
out_has() { grep -q -- "$1" "$W/out" || { bad "stdout lacks '$1'"; sed 's/^/  | /' "$W/out" | head -30; }; }
# no temp files or locks left: only CTLFile.tlv and its backups (.bak, .bak.1, .bak.2)
clean_dirs() {
  local d extra
  for d in "$T1" "$T2"; do
    extra=$(ls -A "$d" | grep -v -x -e CTLFile.tlv -e CTLFile.tlv.bak -e CTLFile.tlv.bak.1 -e CTLFile.tlv.bak.2 || true)
    [ -z "$extra" ] || bad "left behind in $d: $extra"
  done
}
snap() { cp "$T1/CTLFile.tlv" "$W/snap.tlv"; }
unchanged() {
  cmp -s "$T1/CTLFile.tlv" "$W/snap.tlv" || bad "current CTL changed after a failure"
  "$CTLVERIFY" check "$T1/CTLFile.tlv" >/dev/null || bad "current CTL no longer loads"
  clean_dirs
}
n_sast() { "$CTLSIGN" ctl show --json "$T1/CTLFile.tlv" | python3 -c \
  'import json,sys; print(sum(r["role"]=="SAST" for r in json.load(sys.stdin)["records"]))'; }
interop() { # file signer-cert-pem
  local alg
  alg=$(python3 "$SRC/tests/ctl/tlv-split.py" "$1" "$W/signed.bin" "$W/sig.bin")
  openssl x509 -in "$2" -pubkey -noout > "$W/pub.pem"
  openssl dgst "-$alg" -verify "$W/pub.pem" -signature "$W/sig.bin" "$W/signed.bin" >/dev/null \
    || bad "OpenSSL does not verify $1 with $2"
  "$CTLVERIFY" check "$1" >/dev/null || bad "ctlverify check $1"
}
M=(--module "$SOFTHSM_MODULE")

step "a bad option names the subcommand's help"
for sub in show create update delete-token diff; do
  expect 2 "$CTLSIGN" ctl "$sub" --bogus
  err_has "see 'ctlsign ctl $sub --help'"
done

step "create: refused with one token, with the same token twice, without --yes"
expect 9 "$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A
err_has "at least 2 different security tokens"
expect 9 "$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A \
  --token "pkcs11:token=A?pin-source=env:PIN_A"
err_has "counts once"
expect 2 "$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --token pkcs11:token=A --pin env:PIN_A --token pkcs11:token=B --pin env:PIN_B
err_has "pass --yes"
[ ! -e "$T1/CTLFile.tlv" ] || bad "CTL written although refused"

step "create: --pin belongs to the --token before it (issue 12, item 2)"
# A --pin before any --token, and two for one token, are usage errors.
expect 2 "$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --yes --pin env:PIN_A --token pkcs11:token=A \
  --token pkcs11:token=B --pin env:PIN_B
err_has "before any --token"
expect 2 "$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A \
  --token pkcs11:token=B --pin env:PIN_A --pin env:PIN_B
err_has "two --pin for --token pkcs11:token=B"
[ ! -e "$T1/CTLFile.tlv" ] || bad "CTL written although refused"

step "create: signer with the factory default PIN, wrong PIN"
expect 9 "$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
  --token pkcs11:token=D --pin env:PIN_D
err_has "token passwd"
# A token that takes part but does not sign is held to the rule too when its PIN is given
# (compared with the factory PIN: no login).
expect 9 "$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=D --pin env:PIN_D \
  --token pkcs11:token=A --pin env:PIN_A
err_has "token 1 of the CTL"
err_has "token passwd"
[ ! -e "$T1/CTLFile.tlv" ] || bad "CTL written although a member token has the default PIN"
export WRONG='not-the-pin'
# A wrong PIN for the signer stops the run before anything is signed.
expect 11 "$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A \
  --token pkcs11:token=B --pin env:WRONG
[ ! -e "$T1/CTLFile.tlv" ] || bad "CTL written although login failed"
clean_dirs

step "create: bad cluster files"
for case in missing-cert not-a-cert dup-server bad-ip; do
  cp "$CL" "$W/cluster/$case.ini"
done
sed -i 's#certs/tftp1.pem#certs/nope.pem#' "$W/cluster/missing-cert.ini"
sed -i 's#certs/tftp1.pem#README.md#' "$W/cluster/not-a-cert.ini"
sed -i 's#^\[server cucm2\]#[server cucm1]#' "$W/cluster/dup-server.ini"
sed -i 's#10.0.0.11#10.0.0.311#' "$W/cluster/bad-ip.ini"
expect 2 "$CTLSIGN" ctl create --cluster "$W/cluster/missing-cert.ini" --yes --token pkcs11:token=A --token pkcs11:token=B
err_has "missing-cert.ini:.*cert:"
expect 2 "$CTLSIGN" ctl create --cluster "$W/cluster/not-a-cert.ini" --yes --token pkcs11:token=A --token pkcs11:token=B
err_has "not-a-cert.ini:.*cert:"
expect 2 "$CTLSIGN" ctl create --cluster "$W/cluster/dup-server.ini" --yes --token pkcs11:token=A --token pkcs11:token=B
err_has "dup-server.ini:.*duplicate server name 'cucm1'"
expect 2 "$CTLSIGN" ctl create --cluster "$W/cluster/bad-ip.ini" --yes --token pkcs11:token=A --token pkcs11:token=B
err_has "bad-ip.ini:.*10.0.0.311"

step "create: two tokens, signed by the last (B)"
# The member token A is given a wrong PIN: it is not logged in to, so the create goes
# through and A's PIN tries stay untouched (pkcs11-tool still logs in with its PIN).
expect 0 "$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:WRONG \
  --token "pkcs11:token=B?pin-source=env:PIN_B" --audit-log "$W/audit.log"
pkcs11-tool --module "$SOFTHSM_MODULE" -T 2>/dev/null \
  | awk '/token label/ {a = ($NF == "A")} a && /token flags/ {print}' | grep -q -i "count low" \
  && bad "token A's PIN was tried although A does not sign"
out_has "published  $T1/CTLFile.tlv"
out_has "published  $T2/CTLFile.tlv"
out_has "restart the Cisco CallManager and Cisco TFTP services on cucm1"
out_has "reset all devices"
cmp -s "$T1/CTLFile.tlv" "$T2/CTLFile.tlv" || bad "the two TFTP directories differ"
interop "$T1/CTLFile.tlv" "$W/hsm/B.pem"
[ "$(n_sast)" = 2 ] || bad "expected 2 SAST records"
"$CTLSIGN" ctl show --json "$T1/CTLFile.tlv" > "$W/show.json"
python3 - "$W/show.json" <<'PY' || bad "show --json content"
import json, sys
d = json.load(open(sys.argv[1]))
h = d["header"]
assert h["version"] == "1.2" and h["signer_version"] == "1.0", d
assert h["hash"] == "sha512" and d["mode"] == "mixed", d
assert d["verification"]["verified"] and h["signer_name"].startswith("CN=SAST-B"), d
assert d["verification"]["signer_record"] in (0, 1), d["verification"]
roles = [r["role"] for r in d["records"]]
assert roles == ["SAST", "SAST", "CCM+TFTP", "CCM", "TFTP", "CAPF", "TFTP", "CCM"], roles
assert d["records"][2]["dns_name"] == "cucm1.demo.example" and d["records"][2]["ip"] == "10.0.0.10"
assert all(r["cert_length"] > 0 for r in d["records"])
PY
expect 9 "$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --token pkcs11:token=B
err_has "already exists"
clean_dirs

step "create: digest sha1 (allowed, with a warning) in another cluster copy"
cp -r "$W/cluster" "$W/sha1"
rm -rf "$W/sha1/tftp" "$W/sha1/tftp-backup"; mkdir -p "$W/sha1/tftp" "$W/sha1/tftp-backup"
sed -i 's#^digest = sha512#digest = sha1#' "$W/sha1/cluster.ini"
expect 0 "$CTLSIGN" ctl create --cluster "$W/sha1/cluster.ini" "${M[@]}" --yes --token pkcs11:token=B \
  --pin env:PIN_B --token pkcs11:token=A --pin env:PIN_A --audit-log "$W/audit-sha1.log"
err_has "warning: digest sha1"
[ "$(python3 "$SRC/tests/ctl/tlv-split.py" "$W/sha1/tftp/CTLFile.tlv" /dev/null /dev/null)" = sha1 ] \
  || bad "sha1 CTL has another hash algorithm"
interop "$W/sha1/tftp/CTLFile.tlv" "$W/hsm/A.pem"
# The next steps restart this cluster's services only: the alternate TFTP server [tftp alt1]
# belongs to another cluster (issue 12, item 12); CAPF and the ASA are new here.
grep '^  - .*\(alt1\|tftp.other.example\)' "$W/out" && bad "next steps tell another cluster's TFTP server to restart"
out_has "restart the Cisco Certificate Authority Proxy Function (CAPF) service on capf (cucm1.demo.example)"
out_has "import the new CTL on the ASA firewall asa1 (asa1.demo.example)"
out_has "then reset all devices"

step "create --force: both tokens lost; phones must erase their CTL (issue 12, item 6)"
expect 9 "$CTLSIGN" ctl create --cluster "$W/sha1/cluster.ini" "${M[@]}" --yes --token pkcs11:token=C \
  --token pkcs11:token=E --pin env:PIN_E --audit-log "$W/audit-sha1.log"
err_has "only if all of them are lost, --force replaces it"
expect 0 "$CTLSIGN" ctl create --cluster "$W/sha1/cluster.ini" "${M[@]}" --yes --force --token pkcs11:token=C \
  --token pkcs11:token=E --pin env:PIN_E --audit-log "$W/audit-sha1.log"
err_has "the CTL must be erased on every phone (Settings > Security > CTL > Erase, or a factory reset)"
out_has "then erase the CTL on every phone (Settings > Security > CTL > Erase, or a factory reset)"
grep -q "reset all devices" "$W/out" && bad "create --force still says 'reset all devices'"
interop "$W/sha1/tftp/CTLFile.tlv" "$W/hsm/E.pem"
# A digest change alone is a change an update signs (issue 12, item 5): nothing else differs
sed 's#^digest = sha1#digest = sha512#' "$W/sha1/cluster.ini" > "$W/sha1/sha512.ini"
expect 0 "$CTLSIGN" ctl update --cluster "$W/sha1/sha512.ini" "${M[@]}" --yes --token pkcs11:token=E \
  --pin env:PIN_E --audit-log "$W/audit-sha1.log"
out_has "digest:  sha1 -> sha512"
grep -q "up to date" "$W/out" && bad "a digest change was taken as 'up to date'"
[ "$(python3 "$SRC/tests/ctl/tlv-split.py" "$W/sha1/tftp/CTLFile.tlv" /dev/null /dev/null)" = sha512 ] \
  || bad "the update did not sign with the cluster file's new digest"
interop "$W/sha1/tftp/CTLFile.tlv" "$W/hsm/E.pem"

step "update: token not in the CTL; corrupt, tampered and foreign current CTL"
snap
cp "$T1/CTLFile.tlv" "$W/first.tlv"
expect 6 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=C --pin env:PIN_C
err_has "not a SAST of the current CTL"
# ...naming the tokens that would do (issue 12, item 6): subject, serial, SHA-256
for t in A B; do
  fp=$(openssl x509 -in "$W/hsm/$t.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
  sn=$(openssl x509 -in "$W/hsm/$t.pem" -noout -serial | cut -d= -f2 | tr A-F a-f)
  err_has "SAST  CN=SAST-$t,O=Demo Corp,OU=Voice  serial 0*${sn#0}  SHA-256 $fp"
done
err_has "ctl create --force' makes a new CTL, and then the CTL must be erased on every phone (Settings > Security > CTL > Erase, or a factory reset)"
unchanged
python3 - "$T1/CTLFile.tlv" "$W/corrupt.tlv" "$W/tampered.tlv" "$W/foreign.tlv" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
open(sys.argv[2], "wb").write(d[: len(d) // 2])         # truncated
t = bytearray(d); t[-100] ^= 1                          # a byte of a certificate changed
open(sys.argv[3], "wb").write(t)
f = bytearray(d); i = f.index(b"CN=SAST-B", f.index(b"CN=SAST-B") + 1)  # header issuer name
f[i + 8] = ord("X")                                    # signer (issuer+serial) now unknown
open(sys.argv[4], "wb").write(f)
PY
for c in corrupt:4 tampered:5 foreign:6; do
  name=${c%%:*} code=${c##*:}
  expect "$code" "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --current "$W/$name.tlv" \
    --token pkcs11:token=A --pin env:PIN_A
  err_has "nothing was written"
done
unchanged

step "update: add token C, re-certified cucm2 (DER), signed by A"
sed -i 's#certs/cucm2.pem#certs/cucm2-renewed.der#' "$CL"
expect 0 "$CTLSIGN" ctl diff --cluster "$CL"
out_has "anchored (a): the last CTL ctlsign published to $T1"
out_has "SAST  CN=SAST-B,O=Demo Corp,OU=Voice  SHA-256 [0-9a-f]\{64\}$"
out_has "~ change  CCM .*re-certified"
out_has "0 added, 0 removed, 1 changed, 7 unchanged"
"$CTLSIGN" ctl diff --cluster "$CL" --mode non-secure --json | python3 -c '
import json,sys; d=json.load(sys.stdin)
assert d["old_mode"]=="mixed" and d["new_mode"]=="non-secure", d
assert sum(c["change"]=="changed" for c in d["changes"])==6, d' || bad "ctl diff --json"
expect 2 "$CTLSIGN" ctl diff --cluster "$CL" --token pkcs11:token=A
expect 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
  --add-token pkcs11:token=C
out_has "+ add     SAST"
out_has "SAST  CN=SAST-C,O=Demo Corp,OU=Voice  SHA-256 [0-9a-f]\{64\}  (new)"
out_has "~ change  CCM .*re-certified"
out_has "1 added, 0 removed, 1 changed"
[ "$(n_sast)" = 3 ] || bad "expected 3 SAST records"
interop "$T1/CTLFile.tlv" "$W/hsm/A.pem"
cmp -s "$T1/CTLFile.tlv.bak" "$W/snap.tlv" || bad "previous CTL not kept as .bak"
expect 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A
out_has "up to date"
clean_dirs

step "diff: a digest change is a change (issue 12, item 5); --exit-code"
expect 0 "$CTLSIGN" ctl diff --cluster "$CL" --exit-code
sed 's#^digest = sha512#digest = sha1#' "$CL" > "$W/cluster/sha1.ini"
expect 14 "$CTLSIGN" ctl diff --cluster "$W/cluster/sha1.ini" --exit-code
out_has "digest:  sha512 -> sha1"
expect 0 "$CTLSIGN" ctl diff --cluster "$W/cluster/sha1.ini"
"$CTLSIGN" ctl diff --cluster "$W/cluster/sha1.ini" --json | python3 -c '
import json,sys; d=json.load(sys.stdin)
assert d["differs"] and d["old_digest"]=="sha512" and d["new_digest"]=="sha1", d' || bad "diff --json digest"
expect 2 "$CTLSIGN" ctl update --cluster "$CL" --exit-code

step "outputs: a missing output directory is refused before anything is signed (issue 12, item 11)"
snap
sed 's#^output = tftp-backup/.*#&\noutput = no-such-dir/#' "$CL" > "$W/cluster/missing-out.ini"
lines=$(wc -l < "$W/audit.log")
expect 3 "$CTLSIGN" ctl update --cluster "$W/cluster/missing-out.ini" "${M[@]}" --yes --force \
  --token pkcs11:token=A --pin env:PIN_A
err_has "output directory $W/cluster/no-such-dir: No such file or directory (create it, or fix the cluster file); nothing was signed"
[ "$(wc -l < "$W/audit.log")" = "$lines" ] || bad "something was signed although an output directory is missing"
unchanged

# an output that is a file, and one that is not writable (root may write anywhere, so the
# refusal is injected: access(2) fails with EACCES on that directory only)
sed 's#^output = tftp-backup/.*#&\noutput = cluster.ini#' "$CL" > "$W/cluster/file-out.ini"
expect 3 "$CTLSIGN" ctl update --cluster "$W/cluster/file-out.ini" "${M[@]}" --yes --force \
  --token pkcs11:token=A --pin env:PIN_A
err_has "output $W/cluster/cluster.ini is not a directory (fix the cluster file); nothing was signed"
[ "$(wc -l < "$W/audit.log")" = "$lines" ] || bad "something was signed although an output is a file"
unchanged
rc=0
# (LeakSanitizer cannot run under a tracer: off for this one traced run)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
strace -f -qq -o "$W/t.access" -P "$T2" -e trace=access,faccessat,faccessat2 \
  -e inject=access,faccessat,faccessat2:error=EACCES "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" \
  --yes --force --token pkcs11:token=A --pin env:PIN_A </dev/null >"$W/out" 2>"$W/err" || rc=$?
grep -q INJECTED "$W/t.access" || bad "the access check of $T2 was not reached"
[ "$rc" = 3 ] || bad "an unwritable output directory: exit $rc, expected 3"
err_has "output directory $T2 is not writable: Permission denied; nothing was signed"
[ "$(wc -l < "$W/audit.log")" = "$lines" ] || bad "something was signed although an output directory is not writable"
unchanged

step "outputs holding different CTLs: listed, brought level to the anchored first one"
cp "$T1/CTLFile.tlv.bak" "$T2/CTLFile.tlv"
expect 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
  --audit-log "$W/audit-level.log"
out_has "The output directories do not hold the same CTL:"
out_has "$T2/CTLFile.tlv  SHA-256 $(sha256sum "$T1/CTLFile.tlv.bak" | cut -c1-64)"
out_has "brought level with this run"
cmp -s "$T1/CTLFile.tlv" "$T2/CTLFile.tlv" || bad "the lagging directory was not brought level"
# the lagging directory is listed by ctl diff too; refusals (a newer CTL elsewhere, an
# unanchored first directory): tests/attack/cases/sign-ctl-newer-elsewhere.sh
cp "$T1/CTLFile.tlv.bak" "$T2/CTLFile.tlv"
expect 0 "$CTLSIGN" ctl diff --cluster "$CL"
out_has "The output directories do not hold the same CTL:"
cp "$T1/CTLFile.tlv" "$T2/CTLFile.tlv"

step "mode: non-secure keeps SAST certificates, drops server ones; and back"
expect 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=C --pin env:PIN_C --mode non-secure
out_has "mode:    mixed -> non-secure"
# three generations of backups: the first CTL (create) is now .bak.1
cmp -s "$T1/CTLFile.tlv.bak.1" "$W/first.tlv" || bad "the CTL before the previous one not kept as .bak.1"
[ ! -e "$T1/CTLFile.tlv.bak.2" ] || bad ".bak.2 made up although there were only two CTLs before"
"$CTLSIGN" ctl show --json "$T1/CTLFile.tlv" | python3 -c '
import json,sys; d=json.load(sys.stdin); assert d["mode"]=="non-secure"
assert all((r["cert_length"] > 0)==(r["role"]=="SAST") for r in d["records"]), d' || bad "non-secure records"
interop "$T1/CTLFile.tlv" "$W/hsm/C.pem"
# The mode persists (issue 12, item 3): a routine update does not switch mixed mode back
# on because the cluster file says mixed; it is refused, naming --mode.
snap
expect 9 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=B --pin env:PIN_B \
  --add-token pkcs11:token=E
err_has "is non-secure but .*cluster.ini says mode = mixed; pass --mode mixed to switch it (or --mode non-secure to keep it), or edit the file"
unchanged
expect 9 "$CTLSIGN" ctl diff --cluster "$CL"
err_has "pass --mode mixed"
# delete-token takes no --mode: it says to edit the file (or switch with an update first)
fpC=$(openssl x509 -in "$W/hsm/C.pem" -noout -fingerprint -sha1 | cut -d= -f2)
expect 9 "$CTLSIGN" ctl delete-token --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=B --pin env:PIN_B "$fpC"
err_has "is non-secure but .*cluster.ini says mode = mixed; set mode = non-secure in the file to keep it (or switch first with 'ctlsign ctl update --mode mixed')"
unchanged
# ...and with the file saying non-secure, the update keeps non-secure.
sed 's#^mode = mixed#mode = non-secure#' "$CL" > "$W/cluster/nonsecure.ini"
expect 0 "$CTLSIGN" ctl update --cluster "$W/cluster/nonsecure.ini" "${M[@]}" --yes --force \
  --token pkcs11:token=B --pin env:PIN_B
grep -q "mode:" "$W/out" && bad "an update without --mode changed the mode"
"$CTLSIGN" ctl show --json "$T1/CTLFile.tlv" | python3 -c '
import json,sys; assert json.load(sys.stdin)["mode"]=="non-secure"' || bad "the mode did not persist"
expect 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=B --pin env:PIN_B --mode mixed
out_has "mode:    non-secure -> mixed"
interop "$T1/CTLFile.tlv" "$W/hsm/B.pem"

step "delete-token: server record refused, the signer refused, C deleted, then 2 remain"
snap
expect 9 "$CTLSIGN" ctl delete-token --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A cucm1.demo.example
err_has "server records follow the cluster file"
expect 9 "$CTLSIGN" ctl delete-token --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A SAST-A
err_has "signing this change"
unchanged
fpC=$(openssl x509 -in "$W/hsm/C.pem" -noout -fingerprint -sha1 | cut -d= -f2)
expect 0 "$CTLSIGN" ctl delete-token --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A "$fpC"
out_has "- remove  SAST"
[ "$(n_sast)" = 2 ] || bad "expected 2 SAST records after delete"
snap
expect 9 "$CTLSIGN" ctl delete-token --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A SAST-B
err_has "fewer than two SAST"
unchanged

step "token pulled out after the login, before the signature"
# The pause is the test PKCS#11 shim's (tests/p11shim) in front of SoftHSM: its first
# C_SignInit waits for a byte on the FIFO.
[ -f "${CTL_P11SHIM:-}" ] || { echo "FAIL: CTL_P11SHIM (the test PKCS#11 shim) is not set"; exit 1; }
snap
mkfifo "$W/pause"
dirA=$(softhsm_token_dir A)
rc=0
# Held open read-write here, so ctlsign's open() returns at once and it waits in read():
# its descriptor on the FIFO then shows that it has logged in and reached the pause.
exec 7<>"$W/pause"
P11SHIM_MODULE=$SOFTHSM_MODULE P11SHIM_PAUSE_FIFO="$W/pause" "$CTLSIGN" ctl update --cluster "$CL" \
  --module "$CTL_P11SHIM" --yes --force --token pkcs11:token=A --pin env:PIN_A </dev/null >"$W/out" 2>"$W/err" 7>&- &
pid=$!
paused=false
for _ in $(seq 1200); do
  # (the forked shell holds fd 7 too until it execs ctlsign: only ctlsign's own counts)
  if [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$CTLSIGN")" ] &&
     ls -l "/proc/$pid/fd" 2>/dev/null | grep -qF -- "$W/pause"; then paused=true; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
$paused || bad "ctlsign never reached the pause before the signature"
mv "$dirA" "$W/hsm/parked-A"
echo go >&7
exec 7>&-
wait $pid || rc=$?
[ "$rc" = 11 ] || { bad "token pulled: expected exit 11, got $rc"; cat "$W/err"; }
err_has "nothing was written"
grep -q '"result":"signing the CTL failed' "$W/audit.log" || bad "failed signature not audited"
mv "$W/hsm/parked-A" "$dirA"
rm -f "$W/pause"
unchanged

step "publishing faults: lock held, disk full"
# The lock is held by this shell (fd 8) for as long as the run takes, not for a time; the
# PID in it is this shell's. --wait 0: no waiting, exit 12 naming the holder.
echo $$ >"$T1/.ctlsign.lock"
exec 8<"$T1/.ctlsign.lock"
flock 8
expect 12 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --force --token pkcs11:token=A --pin env:PIN_A --wait 0 8<&-
err_has "another run holds $T1/.ctlsign.lock (pid $$: "
exec 8<&-
rm -f "$T1/.ctlsign.lock"
unchanged
# "full": a file size limit (bash ulimit -f, 1 KiB blocks) below the CTL's size
( trap '' XFSZ; ulimit -f 3; exec "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --force \
    --token pkcs11:token=A --pin env:PIN_A --audit-log "$W/audit-full.log" ) </dev/null >"$W/out" 2>"$W/err" && bad "update succeeded on a full disk" || true
err_has "published to 0 of 2"
grep -q "FAILED" "$W/out" || bad "per-directory failure not reported"
unchanged
# killed while publishing (and the rerun after it): ctl-crash.sh, with strace
clean_dirs

step "audit log: one line per signature, corrupt line reported with its number"
expect 0 "$CTLSIGN" audit "$W/audit.log"
out_has "ctl-create"
out_has "ctl-update"
out_has "ctl-delete-token"
grep '"phase":"intent"' "$W/audit.log" | grep -c '"result":"ok"' > "$W/nok"
[ "$(cat "$W/nok")" = 12 ] || bad "expected 12 intent lines (6 CTLs, 2 directories), got $(cat "$W/nok")"
grep '"phase":"outcome"' "$W/audit.log" | grep -c '"result":"ok"' > "$W/nok"
[ "$(cat "$W/nok")" = 6 ] || bad "expected 6 ok outcome lines, got $(cat "$W/nok")"
expect 0 "$CTLSIGN" audit --verify "$W/audit.log"
out_has "chain intact"
echo '{"time": "broken' >> "$W/audit.log"
echo '{"time":"2026-01-01T00:00:00Z","operation":"ctl-update","result":"ok"}' >> "$W/audit.log"
expect 4 "$CTLSIGN" audit "$W/audit.log"
err_has "audit.log:$(($(wc -l < "$W/audit.log") - 1)): corrupt audit record"
out_has "2026-01-01T00:00:00Z"
"$CTLSIGN" audit --json "$W/audit.log" > "$W/audit.json" || true
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["errors"])==1 and len(d["records"])>=7' \
  "$W/audit.json" || bad "audit --json"

if [ "$fails" -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "all ctl flow checks passed"

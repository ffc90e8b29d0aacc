#!/usr/bin/env bash
# itl.sh CTLSIGN CTLVERIFY MKFIXTURE SRCDIR WORKDIR - `ctlsign itl create` (issue 11 §6,
# SPEC §4.5) against SoftHSM tokens: the ITL signed by the token holding the TFTP key
# (the vectors' tftp2 key pair), in mixed and in non-secure mode; a token whose
# certificate is not a TFTP or CCM+TFTP server's of the cluster is refused (exit 9);
# a phone store holding only the ITL accepts configs signed by the TFTP key and
# refuses others; a store holding our CTL (ctl create, same cluster) installs the ITL;
# the CTL leaves out the cluster's tvs and app-server entries; replacing the ITL keeps
# ITLFile.tlv.bak, audits intent and outcome and records it in the state directory.
set -euo pipefail
CTLSIGN=$1 CTLVERIFY=$2 MKFIXTURE=$3 SRC=$4 W=$5
V=$SRC/tests/data/vectors
rm -rf "$W"
mkdir -p "$W"
. "$SRC/tests/ctl/softhsm-lib.sh"
officer_fixture "$W"          # tokens A and B (SAST), state dir and audit log in $W
softhsm_import_token TFTP 'pin-T-1234' "$V/tftp2.key" "$V/tftp2.crt" tftp
softhsm_import_token CAPF 'pin-C-1234' "$V/capf.key" "$V/capf.crt" capf
export PIN_T='pin-T-1234' PIN_C='pin-C-1234'

fail() { echo "FAIL: $*"; sed 's/^/  | /' "$W/err" "$W/out" 2>/dev/null | head -40; exit 1; }
# expect CODE CMD...: stdin from /dev/null, stdout/stderr kept
expect() {
  local want=$1 rc=0; shift
  "$@" </dev/null >"$W/out" 2>"$W/err" || rc=$?
  [ "$rc" = "$want" ] || fail "expected exit $want, got $rc: $*"
}

# The cluster: the vectors' servers (tftp2 is the TFTP server whose key is on token TFTP),
# TVS and an application server (certificates made here, keys thrown away), and an
# alternate TFTP server and a firewall (CTL entries only).
C=$W/itl
mkdir -p "$C/certs" "$C/tftp" "$C/tftp-backup"
cp "$V/ccm.crt" "$V/tftp2.crt" "$V/capf.crt" "$C/certs/"
cp "$W/cluster/certs/alt1.pem" "$W/cluster/certs/asa1.pem" "$C/certs/"
for h in tvs:cucm1.example.com app:app1.example.com; do
  openssl req -x509 -newkey rsa:2048 -nodes -keyout /dev/null -out "$C/certs/${h%%:*}.pem" \
    -days 3650 -sha256 -subj "/CN=${h#*:}/O=Example Corp/OU=Voice" 2>/dev/null
done
cat >"$C/cluster.ini" <<'EOF'
[cluster]
mode = mixed
digest = sha512
output = tftp/
output = tftp-backup/
[server cucm1]
role = ccm+tftp
host = cucm1.example.com
ip = 10.0.0.10
cert = certs/ccm.crt
[server tftp2]
role = tftp
host = tftp2.example.com
ip = 10.0.0.12
cert = certs/tftp2.crt
[server capf]
role = capf
host = cucm1.example.com
ip = 10.0.0.10
cert = certs/capf.crt
[server tvs]
role = tvs
host = cucm1.example.com
ip = 10.0.0.10
cert = certs/tvs.pem
[server app1]
role = app-server
host = app1.example.com
ip = 10.0.0.20
cert = certs/app.pem
[tftp alt1]
host = tftp.other.example
ip = 10.1.0.5
cert = certs/alt1.pem
[firewall asa1]
host = asa1.demo.example
ip = 10.0.0.1
cert = certs/asa1.pem
EOF
CL=$C/cluster.ini T1=$C/tftp T2=$C/tftp-backup
ITL=(itl create --cluster "$CL" "${M[@]}" --yes)

# roles FILE: the records' roles, one line, in file order
roles() { "$CTLVERIFY" show --json "$1" | python3 -c \
  'import json,sys; print(" ".join(r["role"] for r in json.load(sys.stdin)["records"]))'; }
# audit_ops OP: "phase result" of every record of operation OP, and of publish outcomes
audit_count() { python3 - "$CTLSIGN_AUDIT_LOG" "$@" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
op, phase = sys.argv[2], sys.argv[3]
print(sum(1 for r in recs if r.get("operation") == op and r.get("phase") == phase))
PY
}

# --- refused: a SAST token, and a server token of the wrong role (exit 9), nothing written
expect 9 "$CTLSIGN" "${ITL[@]}" --token pkcs11:token=A --pin env:PIN_A
grep -q "not the certificate of a TFTP or CCM+TFTP server" "$W/err" || fail "the SAST token's refusal does not say why"
grep -q "tftp2" "$W/err" || fail "the refusal does not name the cluster's TFTP servers"
expect 9 "$CTLSIGN" "${ITL[@]}" --token pkcs11:token=CAPF --pin env:PIN_C
grep -q "not the certificate of a TFTP or CCM+TFTP server" "$W/err" || fail "the CAPF token's refusal does not say why"
[ ! -e "$T1/ITLFile.tlv" ] && [ ! -e "$T2/ITLFile.tlv" ] || fail "a refused run wrote an ITL"

# --- mixed mode: signed by the TFTP token, published to both directories
expect 0 "$CTLSIGN" "${ITL[@]}" --token pkcs11:token=TFTP --pin env:PIN_T
grep -q "published  $T1/ITLFile.tlv" "$W/out" || fail "no 'published' line for $T1"
grep -q "Next steps" "$W/out" || fail "no next steps printed"
cmp -s "$T1/ITLFile.tlv" "$T2/ITLFile.tlv" || fail "the two output directories hold different ITLs"
"$CTLVERIFY" check "$T1/ITLFile.tlv" >"$W/out" 2>"$W/err" || fail "ctlverify check refuses the ITL"
"$CTLVERIFY" show --json "$T1/ITLFile.tlv" >"$W/show.json"
python3 - "$W/show.json" <<'PY' || fail "ctlverify show: wrong records"
import json, sys
f = json.load(open(sys.argv[1]))
assert f["kind"] == "ITL", f["kind"]
assert f["header"]["file_name"] == "ITLFile.tlv"
got = [(r["role"], r["subject"].split(",")[0], r["dns_name"]) for r in f["records"]]
want = [("SAST", "CN=tftp2.example.com", None),
        ("CCM+TFTP", "CN=cucm1.example.com", "cucm1.example.com"),
        ("TFTP", "CN=tftp2.example.com", "tftp2.example.com"),
        ("CAPF", "CN=CAPF-cucm1", "cucm1.example.com"),
        ("TVS", "CN=cucm1.example.com", "cucm1.example.com"),
        ("APP-SERVER", "CN=app1.example.com", "app1.example.com")]
assert got == want, got
assert f["header"]["signer_name"].startswith("CN=tftp2.example.com"), f["header"]
PY

# --- a phone store holding only this ITL: configs signed by the TFTP key, and no other
"$MKFIXTURE" sgn -k "$V/tftp2.key" -c "$V/tftp2.crt" -o "$W/good.sgn" -n SEP001122334455.cnf.xml.sgn \
  "$V/SEP001122334455.cnf.xml"
"$MKFIXTURE" sgn -k "$V/sast1.key" -c "$V/sast1.crt" -o "$W/other.sgn" -n SEP001122334455.cnf.xml.sgn \
  "$V/SEP001122334455.cnf.xml"
"$MKFIXTURE" sgn -k "$V/capf.key" -c "$V/capf.crt" -o "$W/capf.sgn" -n SEP001122334455.cnf.xml.sgn \
  "$V/SEP001122334455.cnf.xml"
S1=$W/phone1
expect 0 "$CTLVERIFY" install --store "$S1" "$T1/ITLFile.tlv"
mkdir -p "$W/cfg"
cp "$W/good.sgn" "$W/cfg/SEP001122334455.cnf.xml.sgn"
expect 0 "$CTLVERIFY" config --store "$S1" "$W/cfg/SEP001122334455.cnf.xml.sgn" -o "$W/cfg.xml"
cmp -s "$W/cfg.xml" "$V/SEP001122334455.cnf.xml" || fail "the accepted config is not the original"
cp "$W/other.sgn" "$W/cfg/SEP001122334455.cnf.xml.sgn"
expect 6 "$CTLVERIFY" config --store "$S1" "$W/cfg/SEP001122334455.cnf.xml.sgn" -o "$W/cfg2.xml"
cp "$W/capf.sgn" "$W/cfg/SEP001122334455.cnf.xml.sgn"
expect 9 "$CTLVERIFY" config --store "$S1" "$W/cfg/SEP001122334455.cnf.xml.sgn" -o "$W/cfg3.xml"

# --- our CTL for the same cluster: tvs and app-server left out; a store holding it
# installs the ITL
expect 0 "$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --yes \
  --token pkcs11:token=A --pin env:PIN_A --token pkcs11:token=B --pin env:PIN_B
r=$(roles "$T1/CTLFile.tlv")
[ "$r" = "SAST SAST CCM+TFTP TFTP CAPF TFTP CCM" ] || fail "CTL records: $r"
expect 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A
grep -q "up to date" "$W/out" || fail "ctl update with tvs/app-server entries is not up to date"
S2=$W/phone2
expect 0 "$CTLVERIFY" install --store "$S2" "$T1/CTLFile.tlv"
expect 0 "$CTLVERIFY" install --store "$S2" "$T1/ITLFile.tlv"
cp "$W/good.sgn" "$W/cfg/SEP001122334455.cnf.xml.sgn"
expect 0 "$CTLVERIFY" config --store "$S2" "$W/cfg/SEP001122334455.cnf.xml.sgn" -o "$W/cfg4.xml"

# --- replacing the ITL (non-secure mode now): .bak kept, audited, recorded
cp "$T1/ITLFile.tlv" "$W/first-itl.tlv"
n_intent=$(audit_count itl-create intent)
n_outcome=$(audit_count publish outcome)
[ "$n_intent" = 2 ] || fail "expected 2 itl-create intent records (one per directory), got $n_intent"
sed -i 's/^mode = mixed/mode = non-secure/' "$CL"
expect 0 "$CTLSIGN" "${ITL[@]}" --token pkcs11:token=TFTP --pin env:PIN_T --digest sha1
grep -q "Current ITL $T1/ITLFile.tlv" "$W/out" || fail "the plan does not show the ITL it replaces"
grep -q "previous kept as ITLFile.tlv.bak" "$W/out" || fail "no .bak reported"
! grep -q "refuse this ITL until" "$W/out" || fail "a note says the CTL does not list the signer, but it does"
for d in "$T1" "$T2"; do
  cmp -s "$d/ITLFile.tlv.bak" "$W/first-itl.tlv" || fail "$d/ITLFile.tlv.bak is not the previous ITL"
  ! cmp -s "$d/ITLFile.tlv" "$W/first-itl.tlv" || fail "$d/ITLFile.tlv was not replaced"
done
[ "$(audit_count itl-create intent)" = $((n_intent + 2)) ] || fail "the replacement has no intent records"
[ "$(audit_count publish outcome)" = $((n_outcome + 1)) ] || fail "the replacement has no outcome record"
python3 - "$CTLSIGN_AUDIT_LOG" "$CL" <<'PY' || fail "the last outcome is not ok, or an intent record does not name the cluster file"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
last = recs[-1]
assert last["operation"] == "publish" and last["phase"] == "outcome" and last["result"] == "ok", last
assert any(r.get("operation") == "itl-create" and r.get("intent") == last["intent"] for r in recs)
# the intent records name the cluster file, by its absolute path
import os
intents = [r for r in recs if r.get("operation") == "itl-create" and r.get("phase") == "intent"]
assert intents and all(r.get("cluster") == os.path.realpath(sys.argv[2]) for r in intents), intents
PY
grep -q "ITLFile.tlv" "$CTLSIGN_STATE_DIR/published.json" || fail "the ITL is not recorded in the state directory"
"$CTLSIGN" audit --verify >/dev/null 2>&1 || fail "the audit chain does not verify"

# --- non-secure mode: still every certificate (phones without a CTL rely on the ITL)
"$CTLVERIFY" check "$T1/ITLFile.tlv" >"$W/out" 2>"$W/err" || fail "ctlverify check refuses the non-secure ITL"
r=$(roles "$T1/ITLFile.tlv")
[ "$r" = "SAST CCM+TFTP TFTP CAPF TVS APP-SERVER" ] || fail "non-secure ITL records: $r"
"$CTLVERIFY" show --json "$T1/ITLFile.tlv" | python3 -c '
import json,sys; f=json.load(sys.stdin)
assert f["header"]["hash"] == "sha1", f["header"]["hash"]
assert all(r.get("cert_length", 0) > 0 for r in f["records"]), "a record without its certificate"' ||
  fail "non-secure ITL: wrong digest or a record without certificate"
S3=$W/phone3
expect 0 "$CTLVERIFY" install --store "$S3" "$T1/ITLFile.tlv"
cp "$W/good.sgn" "$W/cfg/SEP001122334455.cnf.xml.sgn"
expect 0 "$CTLVERIFY" config --store "$S3" "$W/cfg/SEP001122334455.cnf.xml.sgn" -o "$W/cfg5.xml"
cp "$W/other.sgn" "$W/cfg/SEP001122334455.cnf.xml.sgn"
expect 6 "$CTLVERIFY" config --store "$S3" "$W/cfg/SEP001122334455.cnf.xml.sgn" -o "$W/cfg6.xml"

# --- a CTL in the first directory that does not list the TFTP key: the plan says so
"$MKFIXTURE" tlv -K ctl -k "$V/sast1.key" -c "$V/sast1.crt" -o "$T1/CTLFile.tlv" \
  "sast:$V/sast1.crt" "sast:$V/sast2.crt" "ccm+tftp:$V/ccm.crt"
expect 0 "$CTLSIGN" "${ITL[@]}" --token pkcs11:token=TFTP --pin env:PIN_T
grep -q "does not list this token's certificate as TFTP or CCM+TFTP" "$W/out" ||
  fail "no note that phones holding the CTL refuse the ITL"

# --- usage
expect 2 "$CTLSIGN" itl create --cluster "$CL" --yes
expect 2 "$CTLSIGN" itl create --cluster "$CL" --pin env:PIN_T --token pkcs11:token=TFTP
echo "itl: ok"

# Issue 12 §4: the server certificates of the cluster file are sanity-checked before any
# token is asked for. A chain file with the CA first must not put the CA in the CTL as
# the publisher (the leaf is taken, and said so); an issued CA certificate alone is
# refused (exit 9); an expired certificate, or one that names another host, is a
# warning, and with --strict on create, update and diff a refusal (exit 9); a mixed-mode
# CTL without a TFTP record is refused (exit 9).
# shellcheck source=../sign-ctl-lib.sh
. "$SRC/tests/attack/sign-ctl-lib.sh"
CERTDATA=$SRC/tests/ctl/clusters/certs

no_ctl_written() {
  [ ! -e "$T1/CTLFile.tlv" ] && [ ! -e "$T2/CTLFile.tlv" ] || fail "a CTL was written: $*"
  [ "$(ok_records)" = 0 ] || fail "something was signed: $*"
}

# The publisher's certificate with its chain, CA first (as exported from a CA's portal).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/ca.key" -out "$W/ca.pem" -days 3650 \
  -sha256 -subj "/CN=Example Issuing CA/O=Demo Corp" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$W/leaf.key" -out "$W/leaf.csr" \
  -subj "/CN=cucm1.demo.example/O=Demo Corp/OU=Voice" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:cucm1.demo.example\n' >"$W/leaf.ext"
openssl x509 -req -in "$W/leaf.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial \
  -days 3650 -sha256 -extfile "$W/leaf.ext" -out "$W/leaf.pem" 2>/dev/null
cat "$W/ca.pem" "$W/leaf.pem" >"$W/cluster/certs/cucm1-chain.pem"

variant() { # NAME SED-EXPR: a copy of the demo cluster file with one change
  sed -e "$2" "$CL" >"$W/cluster/$1.ini"
  cmp -s "$CL" "$W/cluster/$1.ini" && fail "variant $1: the edit did not apply"
  echo "$W/cluster/$1.ini"
}
A_B=(--yes --token pkcs11:token=A --pin env:PIN_A --token pkcs11:token=B --pin env:PIN_B)

# An issued CA certificate alone: refused, with or without --strict, before any token.
cp "$CERTDATA/issued-ca.pem" "$W/cluster/certs/"
ca_only=$(variant ca-only 's#certs/cucm1.pem#certs/issued-ca.pem#')
run 9 "$CTLSIGN" ctl create --cluster "$ca_only" "${M[@]}" "${A_B[@]}"
err_has "is a CA certificate (CA:TRUE, issued by CN=Example Root CA"
no_ctl_written "an issued CA as the publisher"

# An expired certificate and a host its certificate does not name: --strict refuses.
cp "$CERTDATA/expired.pem" "$W/cluster/certs/"
expired=$(variant expired 's#certs/tftp1.pem#certs/expired.pem#')
run 9 "$CTLSIGN" ctl create --cluster "$expired" --strict "${M[@]}" "${A_B[@]}"
err_has "[server tftp1] cert: CN=cucm-old.example.com,O=Example Corp,OU=Voice expired on 2025-01-01"
err_has "(refused with --strict)"
no_ctl_written "--strict with an expired certificate"
misnamed=$(variant misnamed 's#^host = cucm2.demo.example#host = cucm9.demo.example#')
run 9 "$CTLSIGN" ctl create --cluster "$misnamed" --strict "${M[@]}" "${A_B[@]}"
err_has "[server cucm2] host cucm9.demo.example is neither the CN nor a subject alternative name of its certificate CN=cucm2.demo.example"
no_ctl_written "--strict with a misnamed certificate"

# Mixed mode without any TFTP record: refused before any token is asked for.
cat >"$W/cluster/no-tftp.ini" <<INI
[cluster]
mode = mixed
output = tftp/
output = tftp-backup/
[server cucm2]
role = ccm
host = cucm2.demo.example
cert = certs/cucm2.pem
[server capf]
role = capf
host = cucm2.demo.example
cert = certs/capf.pem
INI
run 9 "$CTLSIGN" ctl create --cluster "$W/cluster/no-tftp.ini" "${M[@]}" "${A_B[@]}"
err_has "a mixed-mode CTL needs a TFTP server"
no_ctl_written "mixed mode without TFTP"

# The chain file, CA first: the leaf is the publisher's record, the CA is nowhere; said so.
chain=$(variant chain 's#certs/cucm1.pem#certs/cucm1-chain.pem#')
run 0 "$CTLSIGN" ctl create --cluster "$chain" --strict "${M[@]}" "${A_B[@]}"
err_has "[server cucm1] cert: $W/cluster/certs/cucm1-chain.pem holds 2 certificates; taking the leaf CN=cucm1.demo.example,O=Demo Corp,OU=Voice"
run 0 "$CTLVERIFY" show --json "$T1/CTLFile.tlv"
python3 - "$W/out" "$(cert_sha256 "$W/leaf.pem")" "$(cert_sha256 "$W/ca.pem")" <<'PY' || fail "the CTL's publisher record"
import json, sys
d = json.load(open(sys.argv[1]))
leaf, ca = sys.argv[2], sys.argv[3]
text = json.dumps(d)
assert leaf in text, "the leaf certificate is not in the CTL"
assert ca not in text, "the CA certificate is in the CTL"
recs = [r for r in json.loads(text).get("records", []) if r.get("role") == "CCM+TFTP"]
assert [r["subject"] for r in recs] == ["CN=cucm1.demo.example,O=Demo Corp,OU=Voice"], recs
PY

# Later: the TFTP server's certificate expired. diff and update warn; --strict refuses.
sed -e 's#certs/tftp1.pem#certs/expired.pem#' "$chain" >"$W/cluster/chain-expired.ini"
run 0 "$CTLSIGN" ctl diff --cluster "$W/cluster/chain-expired.ini"
err_has "warning: [server tftp1] cert: CN=cucm-old.example.com,O=Example Corp,OU=Voice expired on 2025-01-01"
err_has "(--strict refuses this)"
run 9 "$CTLSIGN" ctl diff --cluster "$W/cluster/chain-expired.ini" --strict
err_has "expired on 2025-01-01; renew it on the server first (refused with --strict)"
oks=$(ok_records)
cp "$T1/CTLFile.tlv" "$W/before.tlv"
run 9 "$CTLSIGN" ctl update --cluster "$W/cluster/chain-expired.ini" --strict "${M[@]}" --yes \
  --token pkcs11:token=A --pin env:PIN_A
err_has "(refused with --strict)"
cmp -s "$T1/CTLFile.tlv" "$W/before.tlv" || fail "update --strict changed the CTL"
[ "$(ok_records)" = "$oks" ] || fail "update --strict signed something"

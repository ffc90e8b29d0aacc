# Provisioning: key made on the token, sensitive and not extractable; no silent overwrite.
. "$(dirname "$0")/lib.sh"

provision SAST1
err_has "provisioned RSA-2048"
pkcs11-tool --module "$MOD" --token-label SAST1 --login --pin "$FACTORY" --list-objects >"$WORK/objs" 2>&1
python3 - "$WORK/objs" <<'PY'
import sys, re
text = open(sys.argv[1]).read()
blocks = re.split(r"\n(?=\S)", text)
priv = [b for b in blocks if b.startswith("Private Key Object")]
cert = [b for b in blocks if b.startswith("Certificate Object")]
pub = [b for b in blocks if b.startswith("Public Key Object")]
assert len(priv) == 1 and len(cert) == 1 and len(pub) == 1, text
p = priv[0]
assert "RSA" in p and "label:      sast" in p, p
assert re.search(r"Access:.*\bsensitive\b", p), p
assert "never extractable" in p, p
assert "Usage:" in p and "sign" in p, p
idp = re.search(r"ID:\s+(\S+)", p).group(1)
idc = re.search(r"ID:\s+(\S+)", cert[0]).group(1)
assert idp == idc, (idp, idc)
assert "label:      sast" in cert[0], cert[0]
PY

# The certificate: self-signed by the token key, subject as asked, digitalSignature.
pkcs11-tool --module "$MOD" --token-label SAST1 --read-object --type cert --label sast -o "$WORK/cert.der" >/dev/null 2>&1
openssl x509 -inform DER -in "$WORK/cert.der" -noout -subject -ext keyUsage -text >"$WORK/cert.txt"
grep -q "subject=CN = SAST-ADN0001, O = Example Corp, OU = Voice" "$WORK/cert.txt" || fail "subject: $(cat "$WORK/cert.txt")"
grep -q "Digital Signature" "$WORK/cert.txt" || fail "no digitalSignature key usage"
grep -q "sha256WithRSAEncryption" "$WORK/cert.txt" || fail "not SHA-256"
openssl x509 -inform DER -in "$WORK/cert.der" -out "$WORK/cert.pem"
openssl verify -CAfile "$WORK/cert.pem" -check_ss_sig "$WORK/cert.pem" >/dev/null 2>&1 ||
	fail "self-signature does not verify"
sha_before=$(openssl x509 -in "$WORK/cert.pem" -noout -fingerprint -sha1)

# No overwrite without --force; with --force a fresh key and certificate.
run 9 "$CTLSIGN" token provision --token pkcs11:token=SAST1 --pin env:FACTORY --subject "$SUBJECT"
err_has "without --force"
run 0 "$CTLSIGN" token provision --token pkcs11:token=SAST1 --pin env:FACTORY --subject "$SUBJECT" --force --years 2
pkcs11-tool --module "$MOD" --token-label SAST1 --read-object --type cert --label sast -o "$WORK/cert2.der" >/dev/null 2>&1
sha_after=$(openssl x509 -inform DER -in "$WORK/cert2.der" -noout -fingerprint -sha1)
[ "$sha_before" != "$sha_after" ] || fail "--force did not replace the certificate"
n=$(pkcs11-tool --module "$MOD" --token-label SAST1 --login --pin "$FACTORY" --list-objects 2>/dev/null | grep -c '^Private Key Object')
[ "$n" = 1 ] || fail "expected one private key after --force, got $n"

# --cert-out writes the certificate that is on the token (PEM), e.g. for a cluster file.
run 0 "$CTLSIGN" token provision --token pkcs11:token=SAST1 --pin env:FACTORY --subject "$SUBJECT" --force --cert-out "$WORK/out.pem"
pkcs11-tool --module "$MOD" --token-label SAST1 --read-object --type cert --label sast -o "$WORK/cert3.der" >/dev/null 2>&1
[ "$(openssl x509 -inform DER -in "$WORK/cert3.der" -noout -fingerprint -sha256)" = \
  "$(openssl x509 -in "$WORK/out.pem" -noout -fingerprint -sha256)" ] || fail "--cert-out differs from the token's certificate"
run 3 "$CTLSIGN" token provision --token pkcs11:token=SAST1 --pin env:FACTORY --subject "$SUBJECT" --force --cert-out "$WORK/no-such-dir/c.pem"

# Key size and label options; bad values are usage errors.
run 0 "$CTLSIGN" token provision --token "pkcs11:token=SAST2;object=sast2" --pin env:FACTORY --subject "CN=SAST-2" --bits 1024
run 0 "$CTLSIGN" token list --json --token pkcs11:token=SAST2
python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))[0]["objects"][0]
assert o["label"] == "sast2" and o["key_bits"] == 1024, o' "$WORK/out"
run 2 "$CTLSIGN" token provision --token pkcs11:token=SAST2 --pin env:FACTORY --subject CN=x --bits 512
run 2 "$CTLSIGN" token provision --token pkcs11:token=SAST2 --pin env:FACTORY --subject "no-equals-sign" --label other
err_has "bad --subject"
echo ok

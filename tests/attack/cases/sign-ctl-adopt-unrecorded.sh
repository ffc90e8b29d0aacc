# Anchor (b): a CTL that ctlsign did not publish (made by the vendor's tool), with no
# record for the directory, is adopted only when its signature verifies with the
# certificate of a token presented in this run. An attacker's CTL in a directory ctlsign
# never published to is refused (exit 6), also when it lists the real SAST certificates,
# and so is a genuine-looking one whose signer's token is not presented.
# shellcheck source=../sign-ctl-lib.sh
. "$SRC/tests/attack/sign-ctl-lib.sh"

# The attacker's CTL, in a directory with no record.
forge "$W/planted.tlv" "$W/evil.key" "$W/evil.pem" "$W/hsm/A.pem" "$W/hsm/B.pem" "$W/evil.pem"
cp "$W/planted.tlv" "$T1/CTLFile.tlv"
cp "$W/planted.tlv" "$T2/CTLFile.tlv"
run 0 "$CTLSIGN" ctl diff --cluster "$CL"
out_has "not anchored: no record; an update will adopt it only if a presented token verifies it, or with --trust-current"
run 6 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
  --add-token pkcs11:token=C
err_has "(SHA-256 $(sha256 "$W/planted.tlv")) signed by CN=SAST-EVIL"
err_has "no token presented in this run verifies it (b)"
refused_untouched "$W/planted.tlv" "$W/planted.tlv" 0

# The vendor's CTL, signed by A's key (A's certificate is on token A).
forge "$W/vendor.tlv" "$W/hsm/A.key" "$W/hsm/A.pem" "$W/hsm/A.pem" "$W/hsm/B.pem"
cp "$W/vendor.tlv" "$T1/CTLFile.tlv"
cp "$W/vendor.tlv" "$T2/CTLFile.tlv"
# B and C are presented, A is not: not adopted.
run 6 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=B --pin env:PIN_B \
  --add-token pkcs11:token=C
err_has "signed by CN=SAST-A,O=Demo Corp,OU=Voice (certificate SHA-256 $(cert_sha256 "$W/hsm/A.pem"))"
err_has "no token presented in this run verifies it (b)"
refused_untouched "$W/vendor.tlv" "$W/vendor.tlv" 0
# A presented: adopted, and the new CTL recorded.
run 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
  --add-token pkcs11:token=C
out_has "anchored (b): no record for $T1; it verifies with token 'A'"
out_has "published  $T1/CTLFile.tlv"
run 0 "$CTLSIGN" ctl diff --cluster "$CL"
out_has "anchored (a): the last CTL ctlsign published to $T1"

# The same with A presented as a token to add (it is in the CTL already), with ctlsign's
# state lost: adopted again.
rm -rf "$CTLSIGN_STATE_DIR"
cp "$W/vendor.tlv" "$T1/CTLFile.tlv"
cp "$W/vendor.tlv" "$T2/CTLFile.tlv"
run 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=B --pin env:PIN_B \
  --add-token pkcs11:token=A --add-token pkcs11:token=C
out_has "anchored (b): no record for $T1; it verifies with token 'A'"
out_has "published  $T1/CTLFile.tlv"

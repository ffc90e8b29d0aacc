# Attack: a CTL planted in the first TFTP directory, laundered by a routine update.
# Someone who can write tftp/ (and holds no SAST token) replaces CTLFile.tlv with a CTL
# signed by their own key that lists the real SAST certificates of A and B plus their own
# as a third SAST. The officer's routine `ctl update --token A --add-token C` must refuse
# it (exit 6): it is not the CTL ctlsign last published there. Nothing is signed or
# published, and the planted file is not made legitimate. `ctl diff` shows the attacker's
# SAST record and says that the file is not anchored.
# shellcheck source=../sign-ctl-lib.sh
. "$SRC/tests/attack/sign-ctl-lib.sh"

real_create
oks=$(ok_records)
forge "$W/planted.tlv" "$W/evil.key" "$W/evil.pem" "$W/hsm/A.pem" "$W/hsm/B.pem" "$W/evil.pem"
"$CTLVERIFY" check "$W/planted.tlv" >/dev/null || fail "the planted CTL does not verify by itself"
cp "$W/planted.tlv" "$T1/CTLFile.tlv"
cp "$T2/CTLFile.tlv" "$W/t2.tlv"
planted=$(sha256 "$W/planted.tlv")
evil=$(cert_sha256 "$W/evil.pem")

run 6 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
  --add-token pkcs11:token=C
err_has "SHA-256 $planted"
err_has "signed by CN=SAST-EVIL,O=Demo Corp,OU=Voice (certificate SHA-256 $evil)"
err_has "is not the CTL ctlsign last published to $T1"
err_has "(a) fails"
err_has "--trust-current"
[ "$(wc -l < "$W/err")" = 1 ] || fail "the refusal is not one line: $(cat "$W/err")"
out_lacks "published  "
refused_untouched "$W/planted.tlv" "$W/t2.tlv" "$oks"

# The same with the ceremony's other command.
run 6 "$CTLSIGN" ctl delete-token --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A \
  --pin env:PIN_A SAST-B
err_has "SHA-256 $planted"
err_has "(a) fails"
refused_untouched "$W/planted.tlv" "$W/t2.tlv" "$oks"

# ctl diff shows the attacker's SAST (unchanged, so a plain diff would hide it) and
# the missing anchor, and exits 6 as the update would.
run 6 "$CTLSIGN" ctl diff --cluster "$CL"
out_has "NOT ANCHORED: not the last CTL ctlsign published to $T1"
out_has "signer   CN=SAST-EVIL,O=Demo Corp,OU=Voice (certificate SHA-256 $evil)"
out_has "SAST  CN=SAST-EVIL,O=Demo Corp,OU=Voice  SHA-256 $evil"
err_has "(a) fails"

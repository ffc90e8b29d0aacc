# Attack: an older CTL put back. The officer added token C, then deleted it again (C was
# lost, or its holder left). Someone who can write tftp/ puts the previous CTL back - it
# is even there, as CTLFile.tlv.bak - which is validly signed by the real token A and
# still lists C as a SAST. The officer's next routine update, signed by A, would make C
# a SAST again. It must be refused (exit 6): not the last CTL ctlsign published there,
# even though the officer's own token signed it (the adoption rule (b) applies only when
# nothing is recorded).
# shellcheck source=../sign-ctl-lib.sh
. "$SRC/tests/attack/sign-ctl-lib.sh"

real_create
run 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
  --add-token pkcs11:token=C
fpC=$(cert_sha256 "$W/hsm/C.pem")
run 0 "$CTLSIGN" ctl delete-token --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A \
  --pin env:PIN_A "$fpC"
out_has "- remove  SAST"
last=$(sha256 "$T1/CTLFile.tlv")
oks=$(ok_records)

cp "$T1/CTLFile.tlv.bak" "$W/old.tlv"              # signed by A, lists A, B and C
"$CTLVERIFY" check "$W/old.tlv" >/dev/null || fail "the old CTL does not verify"
cp "$W/old.tlv" "$T1/CTLFile.tlv"
cp "$T2/CTLFile.tlv" "$W/t2.tlv"
old=$(sha256 "$W/old.tlv")

run 6 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A
err_has "current CTL $T1/CTLFile.tlv (SHA-256 $old) signed by CN=SAST-A,O=Demo Corp,OU=Voice"
err_has "is not the CTL ctlsign last published to $T1 (SHA-256 $last,"
err_has "(a) fails"
out_lacks "published  "
refused_untouched "$W/old.tlv" "$W/t2.tlv" "$oks"

# Also when the officer presents C, whose record the old CTL holds, to be added "again".
run 6 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=B --pin env:PIN_B \
  --add-token pkcs11:token=C
err_has "(a) fails"
refused_untouched "$W/old.tlv" "$W/t2.tlv" "$oks"

# Putting the last CTL back in place makes the officer's update work again.
cp "$T2/CTLFile.tlv" "$T1/CTLFile.tlv"
run 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A
out_has "anchored (a): the last CTL ctlsign published to $T1"
out_has "up to date"

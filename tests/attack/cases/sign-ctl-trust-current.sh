# Anchor (c): when the current CTL is not the one ctlsign last published (here the
# vendor's tool re-signed it), the officer may vouch for it with --trust-current SHA256
# after comparing its hash out of band. Only the exact hash is taken (any case); a wrong
# one - say, the hash the officer compared before an attacker swapped the file - is
# refused (exit 6) and nothing is signed.
# shellcheck source=../sign-ctl-lib.sh
. "$SRC/tests/attack/sign-ctl-lib.sh"

real_create
recorded=$(sha256 "$T1/CTLFile.tlv")
forge "$W/vendor.tlv" "$W/hsm/A.key" "$W/hsm/A.pem" "$W/hsm/A.pem" "$W/hsm/B.pem"
cp "$W/vendor.tlv" "$T1/CTLFile.tlv"
cp "$T2/CTLFile.tlv" "$W/t2.tlv"
vendor=$(sha256 "$W/vendor.tlv")
oks=$(ok_records)

run 6 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A
err_has "(a) fails"
refused_untouched "$W/vendor.tlv" "$W/t2.tlv" "$oks"
# the wrong hash: refused, even when it is the recorded one
run 6 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
  --trust-current "$recorded"
err_has "(SHA-256 $vendor) signed by CN=SAST-A"
err_has "does not match --trust-current $recorded"
refused_untouched "$W/vendor.tlv" "$W/t2.tlv" "$oks"
run 6 "$CTLSIGN" ctl delete-token --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A \
  --pin env:PIN_A --trust-current "$recorded" SAST-B
err_has "does not match --trust-current $recorded"
refused_untouched "$W/vendor.tlv" "$W/t2.tlv" "$oks"
run 6 "$CTLSIGN" ctl diff --cluster "$CL" --trust-current "$recorded"
out_has "NOT ANCHORED: its SHA-256 does not match --trust-current $recorded"
# not a hash at all
run 2 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
  --trust-current "${vendor:0:63}"
err_has "64 hex digits"
run 2 "$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --yes --force --token pkcs11:token=A \
  --token pkcs11:token=B --trust-current "$vendor"
refused_untouched "$W/vendor.tlv" "$W/t2.tlv" "$oks"

# the right hash (in capitals, as some tools print it): anchored (c), published, recorded
run 0 "$CTLSIGN" ctl diff --cluster "$CL" --trust-current "$vendor"
out_has "anchored (c): its SHA-256 is the one given with --trust-current"
run 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
  --trust-current "${vendor^^}" --force
out_has "anchored (c)"
out_has "published  $T1/CTLFile.tlv"
run 0 "$CTLSIGN" ctl diff --cluster "$CL"
out_has "anchored (a): the last CTL ctlsign published to $T1"

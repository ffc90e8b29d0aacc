# Attack: roll the other TFTP directories back through the adoption rule (b). Nothing is
# recorded yet for this cluster (a CTL made by another tool). Someone who can write tftp/
# puts an OLDER CTL there, validly signed by the officer's token A, while tftp-backup/
# holds the newer one. The officer's update with A would adopt the old one (it verifies
# with A) and publish its successor to every directory. The output directories hold
# different CTLs and another one is newer: refused (exit 9), each listed, nothing signed
# (issue 12, item 11). ctl diff lists them too and says the same.
# shellcheck source=../sign-ctl-lib.sh
. "$SRC/tests/attack/sign-ctl-lib.sh"

"$MKFIXTURE" tlv -K ctl -k "$W/hsm/A.key" -c "$W/hsm/A.pem" -H sha512 -t 1000000000 -o "$W/old.tlv" \
  "sast:$W/hsm/A.pem" "sast:$W/hsm/B.pem" "sast:$W/hsm/C.pem" "${SERVERS[@]}" || fail "mkfixture"
"$MKFIXTURE" tlv -K ctl -k "$W/hsm/A.key" -c "$W/hsm/A.pem" -H sha512 -t 1500000000 -o "$W/new.tlv" \
  "sast:$W/hsm/A.pem" "sast:$W/hsm/B.pem" "${SERVERS[@]}" || fail "mkfixture"
cp "$W/old.tlv" "$T1/CTLFile.tlv"
cp "$W/new.tlv" "$T2/CTLFile.tlv"
oks=$(ok_records)

run 9 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A
out_has "The output directories do not hold the same CTL:"
out_has "$T2/CTLFile.tlv  SHA-256 $(sha256 "$W/new.tlv") (NEWER than the first)"
err_has "another output directory holds a newer CTL than $T1/CTLFile.tlv"
refused_untouched "$W/old.tlv" "$W/new.tlv" "$oks"
run 9 "$CTLSIGN" ctl diff --cluster "$CL"
err_has "another output directory holds a newer CTL"

# Both the same (the officer copied the right one): the update adopts it (b) and goes on.
cp "$W/new.tlv" "$T1/CTLFile.tlv"
run 0 "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A --force
out_has "anchored (b)"
cmp -s "$T1/CTLFile.tlv" "$T2/CTLFile.tlv" || fail "the two directories differ after the update"

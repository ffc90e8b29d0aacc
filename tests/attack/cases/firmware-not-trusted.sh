# Signed firmware and other vendor-signed files (header version 1.1) are shown, checked
# with a given certificate and stripped, but never trusted: a device holding a CTL whose
# TFTP record has the very key that signed the file still refuses it as a configuration
# file and as a CTL/ITL. vendor/fw-names-tftp2.sbn names tftp2 (issuer, serial) in its
# header, is signed by tftp2's key and carries its own name as header file name, so only
# its kind stops it (tests/tools/gen_vendor.py).
D=$SRC/tests/data/vendor
S=$W/store
run 0 "$CTLVERIFY" install --store "$S" "$V/CTLFile.tlv"
# Control: the same key's certificate verifies the file (so the refusal below is the kind).
run 0 "$CTLVERIFY" check --cert "$V/tftp2.crt" "$D/fw-names-tftp2.sbn"
cp "$D/fw-names-tftp2.sbn" "$W/fw-names-tftp2.sbn"
run 9 "$CTLVERIFY" config --store "$S" "$W/fw-names-tftp2.sbn" -o "$W/cfg"
err_has "signed firmware or another vendor-signed file"
err_has "not a configuration file"
[ ! -e "$W/cfg" ] || fail "config wrote an output for a firmware file"
run 9 "$CTLVERIFY" config --store "$S" --json "$D/cp-example.sbn" -o "$W/cfg"
out_has "signed firmware or another vendor-signed file"
[ ! -e "$W/cfg" ] || fail "config wrote an output for a firmware file"
before=$(sha256 "$S/CTLFile.tlv")
run 9 "$CTLVERIFY" install --store "$S" "$D/fw-names-tftp2.sbn"
err_has "not a CTL or ITL"
run 9 "$CTLVERIFY" install --store "$S" "$D/SIP-example.loads"
err_has "signed firmware or another vendor-signed file"
[ "$(sha256 "$S/CTLFile.tlv")" = "$before" ] || fail "held CTL changed"
[ ! -e "$S/ITLFile.tlv" ] || fail "a firmware file became the held ITL"

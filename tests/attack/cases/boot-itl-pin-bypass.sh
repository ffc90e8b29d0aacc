# Attack 2: pinning bypassed on a first boot through the ITL. The phone boots with
# --expect-sast (the cluster's SAST pinned) into an empty store; a rogue TFTP server
# answers "not found" for CTLFile.tlv and serves a self-signed ITLFile.tlv and a config
# signed by the same key. While pins are set and no CTL is held no ITL may be trusted:
# the ITL and the config are refused, nothing is written to -o, nothing is held.
rogue_tftp
fp=$(openssl x509 -in "$V/sast1.crt" -noout -fingerprint -sha256 | cut -d= -f2)

run 9 "$CTLVERIFY" boot --server "$SERVER" --mac "$MAC" --store "$W/store" \
  --expect-sast "$fp" -o "$W/config.xml"
[ ! -e "$W/config.xml" ] || fail "the forged config was written to -o"
out_has "CTLFile.tlv: not on server"
out_has "ITLFile.tlv: REJECTED (policy)"
out_has "$CFG.sgn: REJECTED (policy)"
err_has "pinned but no CTL is held"
out_lacks "accepted"
[ ! -e "$W/store/ITLFile.tlv" ] || fail "the forged ITL is held"

# The rule is the library's (ctlv_install), so `ctlverify install` refuses it the same way.
run 9 "$CTLVERIFY" install --store "$W/store" --expect-sast "$fp" "$TFTP/ITLFile.tlv"
err_has "pinned but no CTL is held"
[ ! -e "$W/store/ITLFile.tlv" ] || fail "the forged ITL is held"

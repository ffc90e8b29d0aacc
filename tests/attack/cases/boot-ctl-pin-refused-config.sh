# Attack 2, variant: the rogue TFTP server serves a forged CTL (the attacker's key as its
# SAST), a forged ITL and a forged config. The pin refuses the CTL; with no CTL held the
# ITL must not be trusted on first sight either, so the forged config is refused and
# nothing is written to -o.
rogue_tftp ctl
fp=$(openssl x509 -in "$V/sast1.crt" -noout -fingerprint -sha256 | cut -d= -f2)

run 9 "$CTLVERIFY" boot --server "$SERVER" --mac "$MAC" --store "$W/store" \
  --expect-sast "$fp" -o "$W/config.xml"
[ ! -e "$W/config.xml" ] || fail "the forged config was written to -o"
out_has "CTLFile.tlv: REJECTED (policy)"
err_has "none of the expected SAST fingerprints"
out_has "ITLFile.tlv: REJECTED (policy)"
out_has "$CFG.sgn: REJECTED"
[ -z "$(ls "$W/store" | grep -v '^lock$' || true)" ] || fail "the store holds: $(ls "$W/store")"

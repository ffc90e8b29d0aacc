# Attack 3c: after the officer removes a compromised TFTP record from the CTL, configs
# signed by that key are still accepted through the ITL it signed before. Installing the
# new CTL must drop that ITL (its signer is no TFTP record of the new CTL), so the
# compromised key's configs are refused, also when a rogue server serves them at boot.
. "$SRC/tests/lib/servers.sh"
trap servers_stop_all EXIT
MAC=001122334455 CFG=SEP001122334455.cnf.xml
"$MKFIXTURE" tlv -K ctl -k "$V/sast1.key" -c "$V/sast1.crt" -o "$W/ctl1.tlv" -t -3600 \
  "sast:$V/sast1.crt" "sast:$V/sast2.crt" "ccm+tftp:$V/ccm.crt" "tftp:$V/tftp2.crt"
"$MKFIXTURE" tlv -K itl -k "$V/tftp2.key" -c "$V/tftp2.crt" -o "$W/itl.tlv" -t -1800 \
  "tftp:$V/tftp2.crt" "ccm+tftp:$V/ccm.crt"
# the officer's new CTL: tftp2 removed
"$MKFIXTURE" tlv -K ctl -k "$V/sast1.key" -c "$V/sast1.crt" -o "$W/ctl2.tlv" \
  "sast:$V/sast1.crt" "sast:$V/sast2.crt" "ccm+tftp:$V/ccm.crt"
printf '<device><sshUserId>attacker</sshUserId></device>\n' >"$W/evil.xml"
TFTP=$W/rogue
mkdir -p "$TFTP"
"$MKFIXTURE" sgn -k "$V/tftp2.key" -c "$V/tftp2.crt" -o "$TFTP/$CFG.sgn" -n "$CFG.sgn" "$W/evil.xml"

run 0 "$CTLVERIFY" install --store "$W/store" "$W/ctl1.tlv"
run 0 "$CTLVERIFY" install --store "$W/store" "$W/itl.tlv"
out_has "signed by a TFTP record of the held CTL"
run 0 "$CTLVERIFY" config --store "$W/store" --name "$CFG.sgn" -o "$W/before.xml" "$TFTP/$CFG.sgn"
run 0 "$CTLVERIFY" install --store "$W/store" "$W/ctl2.tlv"
cp "$W/err" "$W/install.err"
run 6 "$CTLVERIFY" config --store "$W/store" --name "$CFG.sgn" -o "$W/after.xml" "$TFTP/$CFG.sgn"
[ ! -e "$W/after.xml" ] || fail "config signed by the removed TFTP key accepted"
cp "$W/install.err" "$W/err"
err_has "is DROPPED"
err_has "CN=tftp2"
tftpd_start
run 6 "$CTLVERIFY" boot --server "$SERVER" --mac "$MAC" --store "$W/store" -o "$W/boot.xml"
[ ! -e "$W/boot.xml" ] || fail "config signed by the removed TFTP key accepted at boot"

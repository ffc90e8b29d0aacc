# Attack 3a: an ITL trusted on first sight stays trusted after a CTL is installed. A
# phone first boots from a rogue TFTP server (no CTL there, no pin): the attacker's ITL
# is trusted on first sight (documented). Then it boots from the real server and gets
# the cluster's CTL, which does not list the attacker's key. From then on the attacker's
# config must be refused: installing the CTL judged the held ITL again and dropped it.
rogue_tftp
ROGUE=$SERVER
TFTP=$W/real
mkdir -p "$TFTP"
"$MKFIXTURE" tlv -K ctl -k "$V/sast1.key" -c "$V/sast1.crt" -o "$TFTP/CTLFile.tlv" \
  "sast:$V/sast1.crt" "sast:$V/sast2.crt" "ccm+tftp:$V/ccm.crt" "tftp:$V/tftp2.crt"
"$MKFIXTURE" sgn -k "$V/ccm.key" -c "$V/ccm.crt" -o "$TFTP/$CFG.sgn" -n "$CFG.sgn" "$V/$CFG"
tftpd_start
REAL=$SERVER

run 0 "$CTLVERIFY" boot --server "$ROGUE" --mac "$MAC" --store "$W/store" -o "$W/c1.xml"
out_has "first ITL, no CTL held"
run 0 "$CTLVERIFY" boot --server "$REAL" --mac "$MAC" --store "$W/store" -o "$W/c2.xml"
out_has "CTLFile.tlv: accepted CTL"
[ ! -e "$W/store/ITLFile.tlv" ] || fail "the first-sight ITL is still held"
err_has "the held ITL (signed by 'CN=SEP001122334455"
err_has "is DROPPED"
run 0 "$CTLVERIFY" status --store "$W/store" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if not d["itl"]["held"] and "not a TFTP" in d["itl"]["dropped"]["reason"] else 1)' "$W/out" \
  || fail "status does not show the dropped ITL: $(cat "$W/out")"

# Back on the rogue server: its ITL is refused (the CTL judges it), and so is its config.
run 6 "$CTLVERIFY" boot --server "$ROGUE" --mac "$MAC" --store "$W/store" -o "$W/c3.xml"
out_has "$CFG.sgn: REJECTED (signer)"
[ ! -e "$W/c3.xml" ] || fail "the attacker's config was accepted through the dropped ITL"

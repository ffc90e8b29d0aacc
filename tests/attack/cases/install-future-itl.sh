# Attack 3b: an ITL dated in 2106 makes every real ITL a "replay", forever. Now an ITL
# dated more than 24 hours ahead of the device's clock is refused (exit 9, naming whose
# clock is wrong); an ITL already held with such a date (by an older version) is dropped
# when a CTL is installed that does not vouch for it, and does not block a later real ITL
# signed by a TFTP record of the CTL either way.
Y2106=4294967295 # 2106-02-07T06:28:15Z, the largest header timestamp
"$MKFIXTURE" tlv -K itl -k "$V/phone.key" -c "$V/phone.crt" -o "$W/itl2106.tlv" -t "$Y2106" \
  "sast:$V/phone.crt" "tftp:$V/phone.crt"
"$MKFIXTURE" tlv -K ctl -k "$V/sast1.key" -c "$V/sast1.crt" -o "$W/ctl.tlv" -t -3600 \
  "sast:$V/sast1.crt" "sast:$V/sast2.crt" "ccm+tftp:$V/ccm.crt"
"$MKFIXTURE" tlv -K itl -k "$V/ccm.key" -c "$V/ccm.crt" -o "$W/itl.tlv" \
  "sast:$V/ccm.crt" "ccm+tftp:$V/ccm.crt"

run 9 "$CTLVERIFY" install --store "$W/store" "$W/itl2106.tlv"
err_has "2106-02-07T06:28:15Z, more than 24 hours ahead of this device's clock"
err_has "the clock of its signer 'CN=SEP001122334455"
[ ! -e "$W/store/ITLFile.tlv" ] || fail "the ITL from 2106 is held"

# A store in which an older version accepted that ITL (installed an hour ago).
hand_store() { # DIR SHA256 SIGNER: the state file of a store holding $W/itl2106.tlv
  mkdir -p "$1"
  cp "$W/itl2106.tlv" "$1/ITLFile.tlv"
  printf 'ctlverify-store 1\nitl.sha256=%s\nitl.installed=%s\nitl.trust=first-sight\nitl.signer=%s\n' \
    "$(sha256 "$1/ITLFile.tlv")" "$(($(date +%s) - 3600))" "CN=SEP001122334455" >"$1/state"
}
hand_store "$W/s1"
run 0 "$CTLVERIFY" install --store "$W/s1" "$W/ctl.tlv"
err_has "DROPPED"
run 0 "$CTLVERIFY" install --store "$W/s1" "$W/itl.tlv"
out_has "signed by a TFTP record of the held CTL"
cmp -s "$W/s1/ITLFile.tlv" "$W/itl.tlv" || fail "the real ITL is not held"

# Without a CTL: a real ITL signed by a record of the held 2106 ITL is judged against the
# time the held one was installed, not its date.
"$MKFIXTURE" tlv -K itl -k "$V/phone.key" -c "$V/phone.crt" -o "$W/itl-now.tlv" \
  "sast:$V/phone.crt" "tftp:$V/phone.crt"
hand_store "$W/s2"
run 0 "$CTLVERIFY" install --store "$W/s2" "$W/itl-now.tlv"
# ... while one signed before that install time is still a replay
"$MKFIXTURE" tlv -K itl -k "$V/phone.key" -c "$V/phone.crt" -o "$W/itl-old.tlv" -t -7200 \
  "sast:$V/phone.crt" "tftp:$V/phone.crt" "capf:$V/capf.crt"
hand_store "$W/s3"
run 9 "$CTLVERIFY" install --store "$W/s3" "$W/itl-old.tlv"
err_has "before the held ITL was installed"

# A CTL dated in 2106, validly signed by a SAST (a wrong clock on the signing machine,
# or a stolen SAST key): accepted, it would make every later real CTL a "replay", and the
# cluster could never update its phones again. It is refused (exit 9, naming whose clock
# is wrong). A CTL already held with such a date (accepted by an older version) does not
# block a later CTL signed by one of its SASTs; the replay rule then uses the time it was
# installed.
Y2106=4294967295
"$MKFIXTURE" tlv -K ctl -k "$V/sast1.key" -c "$V/sast1.crt" -o "$W/ctl2106.tlv" -t "$Y2106" \
  "sast:$V/sast1.crt" "sast:$V/sast2.crt" "ccm+tftp:$V/ccm.crt"
"$MKFIXTURE" tlv -K ctl -k "$V/sast2.key" -c "$V/sast2.crt" -o "$W/ctl.tlv" \
  "sast:$V/sast1.crt" "sast:$V/sast2.crt" "ccm+tftp:$V/ccm.crt" "tftp:$V/tftp2.crt"
"$MKFIXTURE" tlv -K ctl -k "$V/sast2.key" -c "$V/sast2.crt" -o "$W/ctl-old.tlv" -t -7200 \
  "sast:$V/sast1.crt" "sast:$V/sast2.crt" "ccm+tftp:$V/ccm.crt" "capf:$V/capf.crt"

run 9 "$CTLVERIFY" install --store "$W/store" "$W/ctl2106.tlv"
err_has "CTL is dated 2106-02-07T06:28:15Z, more than 24 hours ahead of this device's clock"
err_has "the clock of its signer 'CN=SAST-ADN0001"
[ ! -e "$W/store/CTLFile.tlv" ] || fail "the CTL from 2106 is held"
run 0 "$CTLVERIFY" install --store "$W/store" "$W/ctl.tlv"
run 9 "$CTLVERIFY" install --store "$W/store" "$W/ctl2106.tlv"
err_has "more than 24 hours ahead"
cmp -s "$W/store/CTLFile.tlv" "$W/ctl.tlv" || fail "the held CTL changed"

hand_store() { # DIR: a store holding $W/ctl2106.tlv, installed an hour ago
  mkdir -p "$1"
  cp "$W/ctl2106.tlv" "$1/CTLFile.tlv"
  printf 'ctlverify-store 1\nctl.sha256=%s\nctl.installed=%s\nctl.trust=tofu\nctl.signer=%s\n' \
    "$(sha256 "$1/CTLFile.tlv")" "$(($(date +%s) - 3600))" "CN=SAST-ADN0001" >"$1/state"
}
hand_store "$W/s1"
run 0 "$CTLVERIFY" install --store "$W/s1" "$W/ctl.tlv"
cmp -s "$W/s1/CTLFile.tlv" "$W/ctl.tlv" || fail "the real CTL is not held"
hand_store "$W/s2"
run 9 "$CTLVERIFY" install --store "$W/s2" "$W/ctl-old.tlv"
err_has "before the held CTL was installed"

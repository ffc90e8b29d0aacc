# Two cards: insert a second one into reader slot 1, provision it, pull them one by
# one; OpenSC follows (what the one-token-at-a-time ceremony needs).
"$stack" insert token2 1
s1=$(serial_of card); s2=$(serial_of token2)
[ "$s1" != "$s2" ] || fail "two cards with one serial"
out=$(p11 -L)
must_contain "$out" "serial num *: $s1" "card 1 listed"
must_contain "$out" "serial num *: $s2" "card 2 listed"
[ "$(grep -c 'token label *: OpenPGP card' <<<"$out")" -eq 4 ] || { echo "$out"; fail "expected 4 token slots"; }
"$stack" provision token2 >/dev/null
"$stack" remove card
out=$(p11 -L)
must_not_contain "$out" "serial num *: $s1" "card 1 pulled"
must_contain "$out" "serial num *: $s2" "card 2 still in"
objs=$(p11 --token-label "$SIG_TOKEN" -O)
must_contain "$objs" "subject: *DN: CN=SAST-TOKEN2, O=Example Corp, OU=Voice" "card 2 certificate"
# card 2 signs, verified with its own certificate; not with card 1's
printf 'two\n' >"$work/msg"
sign_with PW1 "$work/msg" "$work/sig" >/dev/null 2>&1 || fail "card 2 does not sign"
openssl x509 -inform der -in "$VCARD_DIR/token2.crt" -pubkey -noout >"$work/pub2.pem"
openssl x509 -inform der -in "$VCARD_DIR/card.crt" -pubkey -noout >"$work/pub1.pem"
openssl dgst -sha256 -verify "$work/pub2.pem" -signature "$work/sig" "$work/msg" >/dev/null ||
  fail "card 2's signature does not verify with its certificate"
! openssl dgst -sha256 -verify "$work/pub1.pem" -signature "$work/sig" "$work/msg" >/dev/null 2>&1 ||
  fail "card 2's signature verifies with card 1's certificate"
# card 1 back in: its key is still there
"$stack" remove token2
"$stack" insert card
out=$(p11 -L)
must_contain "$out" "serial num *: $s1" "card 1 back"
must_not_contain "$out" "serial num *: $s2" "card 2 out"

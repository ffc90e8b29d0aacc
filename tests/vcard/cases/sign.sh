# The card signs; openssl verifies with the certificate read back from the card;
# the key and certificate survive a restart of the whole stack.
printf 'CTL content to sign\n' >"$work/msg"
sign_with PW1 "$work/msg" "$work/sig" >/dev/null 2>&1 || fail "signing on the card failed"
p11 --token-label "$SIG_TOKEN" --read-object --type cert --id 01 -o "$work/cert.der" >/dev/null 2>&1 ||
  fail "cannot read the certificate from the card"
openssl x509 -inform der -in "$work/cert.der" -pubkey -noout >"$work/pub.pem"
openssl dgst -sha256 -verify "$work/pub.pem" -signature "$work/sig" "$work/msg" >/dev/null ||
  fail "openssl rejects the card's signature"
# The certificate is self-signed by the card key.
openssl x509 -inform der -in "$work/cert.der" -out "$work/cert.pem"
openssl verify -check_ss_sig -partial_chain -trusted "$work/cert.pem" "$work/cert.pem" >/dev/null ||
  fail "the certificate's self-signature does not verify"
# A changed message must not verify with that signature.
printf 'CTL content to sigN\n' >"$work/msg2"
! openssl dgst -sha256 -verify "$work/pub.pem" -signature "$work/sig" "$work/msg2" >/dev/null 2>&1 ||
  fail "a signature verified for a different message"
# The signature PIN (81) is good for one signature only; OpenSC re-sends it: two in a row work.
sign_with PW1 "$work/msg2" "$work/sig2" >/dev/null 2>&1 || fail "second signature failed"
openssl dgst -sha256 -verify "$work/pub.pem" -signature "$work/sig2" "$work/msg2" >/dev/null ||
  fail "openssl rejects the second signature"
# Restart everything: same key, same certificate.
"$stack" stop
"$stack" start
sign_with PW1 "$work/msg" "$work/sig3" >/dev/null 2>&1 || fail "signing after restart failed"
openssl dgst -sha256 -verify "$work/pub.pem" -signature "$work/sig3" "$work/msg" >/dev/null ||
  fail "after a restart the card signs with another key"

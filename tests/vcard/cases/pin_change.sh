# CHANGE REFERENCE DATA through PKCS#11: the new PIN works, the old one fails.
export NEWPIN=24681357
p11 --token-label "$USER_TOKEN" --change-pin --login --pin env:PW1 --new-pin env:NEWPIN >/dev/null 2>&1 ||
  fail "PIN change failed"
printf 'x\n' >"$work/msg"
out=$(sign_with PW1 "$work/msg" "$work/sig" 2>&1) && fail "the old PIN still works"
must_contain "$out" "CKR_PIN_INCORRECT" "login with the old PIN"
sign_with NEWPIN "$work/msg" "$work/sig" >/dev/null 2>&1 || fail "the new PIN does not work"
# The failed try was counted, the good one reset the counter: no warning flags.
must_not_contain "$(token_flags "$SIG_TOKEN")" "final user PIN try|locked" "flags after good login"
# Too short a new PIN is refused by the card.
export SHORT=12345
! p11 --token-label "$USER_TOKEN" --change-pin --login --pin env:NEWPIN --new-pin env:SHORT >/dev/null 2>&1 ||
  fail "a 5-digit PIN was accepted"
sign_with NEWPIN "$work/msg" "$work/sig" >/dev/null 2>&1 || fail "the PIN changed after a refused change"

# Wrong PINs: 3 tries; after 2 wrong ones FINAL_TRY, after 3 LOCKED; then even the
# right PIN is refused (CKR_PIN_LOCKED), on both slots (they share PW1).
export BAD=999999
login_bad() { p11 --token-label "$SIG_TOKEN" --login --pin env:BAD -O 2>&1 && fail "a wrong PIN logged in"; true; }
out=$(login_bad); must_contain "$out" "CKR_PIN_INCORRECT" "1st wrong PIN"
# OpenSC does not report COUNT_LOW; nothing yet.
must_not_contain "$(token_flags "$SIG_TOKEN")" "final user PIN try|user PIN locked" "after 1 wrong PIN"
out=$(login_bad); must_contain "$out" "CKR_PIN_INCORRECT" "2nd wrong PIN"
must_contain "$(token_flags "$SIG_TOKEN")" "final user PIN try" "after 2 wrong PINs (sig slot)"
must_contain "$(token_flags "$USER_TOKEN")" "final user PIN try" "after 2 wrong PINs (user slot)"
must_not_contain "$(token_flags "$SIG_TOKEN")" "user PIN locked" "after 2 wrong PINs"
out=$(login_bad); must_contain "$out" "CKR_PIN_INCORRECT|CKR_PIN_LOCKED" "3rd wrong PIN"
must_contain "$(token_flags "$SIG_TOKEN")" "user PIN locked" "after 3 wrong PINs (sig slot)"
must_contain "$(token_flags "$USER_TOKEN")" "user PIN locked" "after 3 wrong PINs (user slot)"
must_not_contain "$(token_flags "$SIG_TOKEN")" "final user PIN try" "locked token"
printf 'x\n' >"$work/msg"
out=$(sign_with PW1 "$work/msg" "$work/sig" 2>&1) && fail "a locked card signed"
must_contain "$out" "CKR_PIN_LOCKED" "right PIN on a locked card"
# The lock is persistent: a restart does not reset the counter.
"$stack" stop
"$stack" start
must_contain "$(token_flags "$SIG_TOKEN")" "user PIN locked" "after a restart"

# ctlsign token passwd against the card: the new PIN works and the old one fails;
# at FINAL_TRY it refuses to make the last try without --final-try; LOCKED is refused.
[ -x "$CTLSIGN" ] || fail "ctlsign not built"
export NEWPIN=Sast-2468 NEWPIN2=Sast-1357 BADOLD=999999
"$CTLSIGN" token passwd --module "$MODULE" --token "$SIG_URI" --pin env:PW1 --new-pin env:NEWPIN \
  </dev/null || fail "ctlsign token passwd failed"
printf 'x\n' >"$work/msg"
out=$(sign_with PW1 "$work/msg" "$work/sig" 2>&1) && fail "the old PIN still works after ctlsign token passwd"
must_contain "$out" "CKR_PIN_INCORRECT" "old PIN"
sign_with NEWPIN "$work/msg" "$work/sig" >/dev/null 2>&1 || fail "the new PIN set by ctlsign does not work"
# A wrong current PIN is refused and counted.
! "$CTLSIGN" token passwd --module "$MODULE" --token "$SIG_URI" --pin env:BADOLD --new-pin env:NEWPIN2 \
  </dev/null 2>"$work/err" || fail "passwd with a wrong current PIN succeeded"
# Bring the token to FINAL_TRY (two wrong tries in all), then ctlsign must not try.
wrong_logins 1
must_contain "$(token_flags "$SIG_TOKEN")" "final user PIN try" "flags before the last try"
rc=0
"$CTLSIGN" token passwd --module "$MODULE" --token "$SIG_URI" --pin env:NEWPIN --new-pin env:NEWPIN2 \
  </dev/null 2>"$work/err" || rc=$?
[ "$rc" -ne 0 ] || fail "ctlsign made the last try without --final-try"
must_contain "$(cat "$work/err")" "final-try" "refusal message names --final-try"
# It did not spend the try: still FINAL_TRY, not LOCKED.
flags=$(token_flags "$SIG_TOKEN")
must_contain "$flags" "final user PIN try" "flags after the refusal"
must_not_contain "$flags" "locked" "flags after the refusal"
# With --final-try and the right PIN it works and the counter is back to full.
"$CTLSIGN" token passwd --module "$MODULE" --token "$SIG_URI" --pin env:NEWPIN --new-pin env:NEWPIN2 \
  --final-try </dev/null || fail "passwd with --final-try failed"
must_not_contain "$(token_flags "$SIG_TOKEN")" "final user PIN try|locked" "flags after a good change"
sign_with NEWPIN2 "$work/msg" "$work/sig" >/dev/null 2>&1 || fail "the PIN set with --final-try does not work"
# Locked: refused with a message that says what to do.
wrong_logins 3
rc=0
"$CTLSIGN" token passwd --module "$MODULE" --token "$SIG_URI" --pin env:NEWPIN2 --new-pin env:NEWPIN \
  --final-try </dev/null 2>"$work/err" || rc=$?
[ "$rc" -ne 0 ] || fail "passwd on a locked token succeeded"
must_contain "$(cat "$work/err")" "[Ll]ocked" "message for a locked token"

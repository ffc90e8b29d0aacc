# ctlsign token wait against the card stack: pcsc-lite events (OpenSC drives PC/SC
# readers). One card = one token even though OpenSC shows it as two slots; two cards =
# "remove one"; insert and removal while waiting; timeouts end the wait.
[ -x "$CTLSIGN" ] || fail "ctlsign not built"
s1=$(serial_of card)
out=$("$CTLSIGN" token wait --module "$MODULE" --timeout 5) || fail "wait with one card in"
must_contain "$out" "^present .* $s1\$" "the card is present"
"$stack" insert token2 1
rc=0
"$CTLSIGN" token wait --module "$MODULE" --timeout 5 2>"$work/err" >/dev/null || rc=$?
[ "$rc" -eq 9 ] || fail "two cards: exit $rc, want 9"
must_contain "$(cat "$work/err")" "remove one" "two cards"
"$stack" remove token2
# Removal while waiting for it: pulled once ctlsign asks for the removal (stderr).
"$CTLSIGN" token wait --module "$MODULE" --removed --timeout 60 >"$work/out" 2>"$work/err" &
pid=$!
asked=false
deadline=$((SECONDS + 60))
while [ "$SECONDS" -lt "$deadline" ]; do
  grep -q "remove token" "$work/err" && { asked=true; break; }
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
$asked || grep -q "remove token" "$work/err" || { cat "$work/err" >&2; fail "ctlsign never asked to remove the card"; }
"$stack" remove card
wait "$pid" || fail "wait --removed: $(cat "$work/err")"
must_contain "$(cat "$work/out")" "^removed .* $s1\$" "the card was removed"
# Nothing inserted: the wait ends with exit 12.
rc=0
"$CTLSIGN" token wait --module "$MODULE" --timeout 2 2>"$work/err" >/dev/null || rc=$?
[ "$rc" -eq 12 ] || fail "empty reader: exit $rc, want 12"
# Insert while waiting.
( sleep 2; "$stack" insert card ) &
out=$("$CTLSIGN" token wait --module "$MODULE" --timeout 30) || fail "wait for an insert"
wait
must_contain "$out" "^present .* $s1\$" "the card arrived"

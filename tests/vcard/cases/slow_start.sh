# A card whose process is slow to exec (the first run on a fresh machine, cold caches):
# vcard-stack must wait for the exec, not call the card dead from one look at its PID.
# The card's log is made a FIFO that nobody reads for 2 s, so the forked shell blocks in
# opening it, before exec, for that long. (The stack before this case read that as "the
# card card exited" with an empty log: the first-run failure of vcard_provision.)
"$stack" remove card
rm -f "$VCARD_DIR/card.log"
mkfifo "$VCARD_DIR/card.log"
( sleep 2; exec cat "$VCARD_DIR/card.log" >"$work/card.log" ) &
reader=$!
out=$("$stack" insert card 2>&1) || { echo "$out" >&2; fail "insert with a slow exec"; }
st=$("$stack" status) || fail "status after the slow start: $st"
must_contain "$st" "^card card: in \(pid [0-9]+" "the card is running"
must_contain "$st" "token label *: OpenPGP card \(User PIN \(sig\)\)" "OpenSC sees the card"
# The card still works: a signature with its key.
printf 'slow start\n' >"$work/in"
sign_with PW1 "$work/in" "$work/sig" >/dev/null 2>&1 || fail "signing after the slow start"
[ -s "$work/sig" ] || fail "no signature"
"$stack" stop
kill "$reader" 2>/dev/null || true

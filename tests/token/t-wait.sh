# Insert/remove events by slot polling (SoftHSM: token directories moved in and out).
. "$(dirname "$0")/lib.sh"

d1=$(token_dir SAST1)
d2=$(token_dir SAST2)
run 9 "$CTLSIGN" token wait --timeout 2
err_has "2 tokens are inserted"
err_has "remove one"

mv "$d2" "$WORK/t2"
run 0 "$CTLSIGN" token wait --timeout 2
out_has "present SAST1"

mv "$d1" "$WORK/t1"
run 12 "$CTLSIGN" token wait --timeout 1
err_has "no token was inserted within 1 seconds"

# Insert while waiting.
( sleep 1; mv "$WORK/t2" "$d2" ) &
run 0 "$CTLSIGN" token wait --timeout 20
out_has "present SAST2"
wait

# Remove while waiting for the removal: pulled only once ctlsign has found the token and
# asks for its removal (stderr), not after a fixed time.
rc=0
"$CTLSIGN" token wait --removed --timeout 60 >"$WORK/out" 2>"$WORK/err" &
pid=$!
asked=false
deadline=$((SECONDS + 60))
while [ "$SECONDS" -lt "$deadline" ]; do
	grep -q "remove token 'SAST2'" "$WORK/err" && { asked=true; break; }
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
$asked || grep -q "remove token 'SAST2'" "$WORK/err" || { cat "$WORK/err" >&2; fail "ctlsign never asked to remove SAST2"; }
mv "$d2" "$WORK/t2"
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { cat "$WORK/err" >&2; fail "wait --removed: exit $rc"; }
out_has "removed SAST2"

# Not removed in time.
mv "$WORK/t1" "$d1"
run 12 "$CTLSIGN" token wait --removed --timeout 1
err_has "was not removed within 1 seconds"
echo ok

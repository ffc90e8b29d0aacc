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

# Remove while waiting for the removal.
( sleep 1; mv "$d2" "$WORK/t2" ) &
run 0 "$CTLSIGN" token wait --removed --timeout 20
out_has "removed SAST2"
wait

# Not removed in time.
mv "$WORK/t1" "$d1"
run 12 "$CTLSIGN" token wait --removed --timeout 1
err_has "was not removed within 1 seconds"
echo ok

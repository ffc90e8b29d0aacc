# ctlsign ctl create --token URI1 --token URI2 (non-interactive) with two virtual
# cards: the signing card (the last --token) is pulled at the test pause just before
# the signature (the test PKCS#11 shim in front of OpenSC, tests/p11shim: its first
# C_SignInit waits on the FIFO of P11SHIM_PAUSE_FIFO): exit 11, a message that the token
# was removed, and nothing written to the output directories (no temp files).
[ -x "$CTLSIGN" ] || fail "ctlsign not built"
[ -f "${CTL_P11SHIM:-}" ] || fail "CTL_P11SHIM (the test PKCS#11 shim) is not set"
export PIN=$PW1 CTLSIGN_AUDIT_LOG=$work/audit.log CTLSIGN_STATE_DIR=$work/state
second_card_and_cluster
uri1="$SIG_URI;serial=$(serial_of card)"
uri2="$SIG_URI;serial=$(serial_of token2)"
fifo=$work/pause
mkfifo "$fifo"
# Open read-write so that neither side blocks in open(); ctlsign then blocks in read().
exec 3<>"$fifo"
P11SHIM_MODULE=$MODULE P11SHIM_PAUSE_FIFO=$fifo "$CTLSIGN" ctl create --cluster "$work/cluster/cluster.ini" \
  --module "$CTL_P11SHIM" --token "$uri1" --pin env:PIN --token "$uri2" --pin env:PIN --yes \
  </dev/null >"$work/out" 2>"$work/err" 3>&- &
pid=$!
# At the pause: ctlsign holds the FIFO open (it logged in to card 2 just before; it
# must not inherit our fd 3, or this would see the FIFO at once).
paused=false
for _ in $(seq 600); do
  # (the forked shell holds fd 3 too until it execs ctlsign: only ctlsign's own counts)
  if [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$CTLSIGN")" ] &&
     ls -l "/proc/$pid/fd" 2>/dev/null | grep -qF -- "$fifo"; then paused=true; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
$paused || { exec 3>&-; wait "$pid" || true; cat "$work/out" "$work/err" >&2; fail "ctlsign never reached the pause"; }
"$stack" remove token2
echo go >&3
exec 3>&-
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 11 ] || { cat "$work/out" "$work/err" >&2; fail "card pulled before signing: exit $rc, want 11"; }
must_contain "$(cat "$work/err")" "removed" "message for the pulled card"
for d in tftp tftp-backup; do
  left=$(ls -A "$work/cluster/$d" | grep -vxF .ctlsign.lock || true)
  [ -z "$left" ] || fail "$d holds files after the failed run: $left"
done

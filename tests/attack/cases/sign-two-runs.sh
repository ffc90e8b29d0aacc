# Attack 6: two `ctlsign sign --dir` runs at once on one directory both signed (and
# audited) the same files. Required: the directory's .ctlsign.lock, with the holder's PID
# in it from the moment it exists; a second run waits up to --wait SECONDS and then exits
# 12 naming the holder's PID and command line (never "pid 0"), or runs after the first.
# The lock is held from this shell (flock), so that every step is deterministic.
need_ctlsign
. "$SRC/tests/sign/tftp-token.sh"
tftp_token "$W/hsm"
export CTLSIGN_AUDIT_LOG=$W/audit.log
T=$W/tftp
mkdir "$T"
cp "$V/CTLFile.tlv" "$T/"
for i in $(seq 10 19); do
  printf '<device><fullConfig>true</fullConfig><n>%s</n></device>\n' "$i" >"$T/SEP0000000000$i.cnf.xml"
done
sign() { "$CTLSIGN" sign --pin env:CTL_TEST_PIN --key pkcs11:token=tftp --dir "$T" "$@"; }
nsgn() { ls -A "$T" | grep -c '\.sgn$' || true; }

# another run holds the lock (this shell: its PID in the file, the flock on fd 9)
echo $$ >"$T/.ctlsign.lock"
exec 9<"$T/.ctlsign.lock"
flock 9
run 12 sign --wait 1 9<&-
err_has "waiting up to 1 s for $T/.ctlsign.lock, held by pid $$: "
err_has "another run holds $T/.ctlsign.lock (pid $$: $(tr '\0' ' ' </proc/$$/cmdline | cut -c1-40)"
! grep -q "pid 0" "$W/err" || fail "said pid 0"
[ "$(nsgn)" = 0 ] || fail "signed while another run held the directory"
# without --wait: the documented default, 10 s, then the same refusal
run 12 sign 9<&-
err_has "waiting up to 10 s for $T/.ctlsign.lock, held by pid $$: "
err_has "waited 10 s (--wait SECONDS to wait longer), nothing was done"
[ "$(nsgn)" = 0 ] || fail "signed while another run held the directory"

# a second run waits, and runs once the first is done
sign --wait 300 </dev/null >"$W/out2" 2>"$W/err2" 9<&- &
bg=$!
for _ in $(seq 6000); do   # up to 5 minutes for the positive signal
  grep -q "waiting up to 300 s" "$W/err2" && break
  kill -0 "$bg" 2>/dev/null || break
  sleep 0.05
done
grep -q "waiting up to 300 s for $T/.ctlsign.lock, held by pid $$" "$W/err2" \
  || { cat "$W/err2" >&2; fail "the second run did not wait for the lock"; }
[ "$(nsgn)" = 0 ] || fail "signed while another run held the directory"
rm "$T/.ctlsign.lock"   # as a run does: the name goes while the flock is still held
exec 9<&-
rc=0; wait "$bg" || rc=$?
[ "$rc" = 0 ] || { cat "$W/err2" >&2; fail "the waiting run failed ($rc)"; }
grep -q "signed 10, unchanged 0" "$W/out2" || fail "the waiting run: $(cat "$W/out2")"
[ ! -e "$T/.ctlsign.lock" ] || fail "lock file left behind"

# two real runs at once: whichever order, every file is signed once, never twice
rm "$T"/*.sgn
: >"$CTLSIGN_AUDIT_LOG"
sign --all --wait 300 --json </dev/null >"$W/a.json" 2>"$W/a.err" &
a=$!
sign --all --wait 300 --json </dev/null >"$W/b.json" 2>"$W/b.err" &
b=$!
rca=0; rcb=0; wait "$a" || rca=$?; wait "$b" || rcb=$?
[ "$rca$rcb" = 00 ] || { cat "$W/a.err" "$W/b.err" >&2; fail "concurrent runs: exit $rca and $rcb"; }
# --all re-signs: run after run, 10 signatures each, batches never interleaved
python3 - "$CTLSIGN_AUDIT_LOG" <<'PY' || fail "the two runs' records interleave"
import json, sys
ids = [json.loads(l).get("intent") for l in open(sys.argv[1]) if '"phase":"intent"' in l]
assert len(ids) == 20, len(ids)
runs = [i.split("-")[0] for i in ids]          # PID of the run that announced it
assert runs[:10] == [runs[0]] * 10 and runs[10:] == [runs[10]] * 10 and runs[0] != runs[10], runs
PY
run 0 "$CTLSIGN" audit --verify "$CTLSIGN_AUDIT_LOG"

#!/usr/bin/env bash
# officer.sh CTLSIGN CTLVERIFY SRCDIR WORKDIR - issue 15 on the officer's side, each with one
# I/O error injected by strace at an exact call (numbered from a clean run's trace):
#   §3  sign --dir: the audit intent cannot be written -> nothing is published; the outcome
#       cannot be written -> what was published has its intent record, and the run fails;
#   §4  ctl update: the fsync of the first directory after its rename fails -> stdout and
#       stderr say the new CTL is in place but not synced (no "FAILED", no "1 of 2"), exit
#       3, outcome record "published-unsynced", both directories hold the new CTL;
#   §5  an interrupted (EINTR) write of the audit record and read of the cluster file are
#       retried: the runs succeed;
#   the lock's temporary name cannot be unlinked: nothing of ours stays in the directory.
set -euo pipefail
CTLSIGN=$1 CTLVERIFY=$2 SRC=$3 W=$4
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$SRC/tests/ctl/softhsm-lib.sh"
officer_fixture "$W"
V=$SRC/tests/data/vectors
softhsm_import_token T pin-T-1234 "$V/ccm.key" "$V/ccm.crt" tftp
export PIN_T='pin-T-1234'

# Each fault is injected with strace -P PATH: only calls on that path are counted and
# failed (SoftHSM writes its token files on its own schedule; they are never touched).
# injected TRACE PATTERN: a call was failed, and only calls on PATTERN (with -f the count
# is per thread: the committing thread's and the main thread's Nth write may both be hit)
injected() {
  local got other
  got=$(grep INJECTED "$1" || true)
  other=$(grep INJECTED "$1" | grep -vF -- "$2" || true)
  [ -n "$got" ] && [ -z "$other" ] || { bad "not injected (only) at $2: $(grep INJECTED "$1")"; return 1; }
}

# ---- §3: sign --dir, audit first
T=$W/tftp; mkdir -p "$T"; cp "$V/CTLFile.tlv" "$T/"
mkcfgs() { for i in 10 11 12; do printf '<device><n>%s</n></device>\n' "$i" >"$T/SEP0000000000$i.cnf.xml"; done; }
SIGNDIR=("$CTLSIGN" sign --pin env:PIN_T --key pkcs11:token=T --dir "$T" --jobs 1)
mkcfgs
# the run's writes to the audit log: 1 the intent records (one batch), 2 the outcome
w_intent=1 w_outcome=2
: >"$W/audit.log"
for which in intent outcome; do
  rm -f "$T"/*.sgn; mkcfgs; cp "$W/audit.log" "$W/audit.before"
  n=$([ "$which" = intent ] && echo "$w_intent" || echo "$w_outcome")
  echo "--- §3: the audit $which record cannot be written (write #$n EIO)"
  rc=0
  strace -f -qq -y -o "$W/t" -P "$W/audit.log" -e trace=write -e inject=write:error=EIO:when="$n" "${SIGNDIR[@]}" >"$W/out" 2>"$W/err" || rc=$?
  injected "$W/t" "$W/audit.log>" || continue
  [ "$rc" != 0 ] || bad "§3 $which: exit 0 although the audit record was not written"
  grep -q "audit" "$W/err" || bad "§3 $which: stderr does not name the audit log: $(cat "$W/err")"
  nsgn=$(ls "$T" | grep -c '\.sgn$' || true)
  if [ "$which" = intent ]; then
    [ "$nsgn" = 0 ] || bad "§3 intent: $nsgn .sgn published without an intent record"
  else
    [ "$nsgn" = 3 ] || bad "§3 outcome: expected the 3 announced .sgn, found $nsgn"
  fi
  for f in "$T"/*.sgn; do
    [ -e "$f" ] || continue
    h=$(sha256sum <"$f" | cut -d' ' -f1)
    tail -n +$(($(wc -l <"$W/audit.before") + 1)) "$W/audit.log" | grep '"phase":"intent"' | grep -q "$h" \
      || bad "§3 $which: $f published without its intent record"
  done
  "${SIGNDIR[@]}" >"$W/out" 2>"$W/err" || bad "§3 $which: the rerun failed: $(cat "$W/err")"
  "$CTLSIGN" audit --verify "$W/audit.log" >/dev/null || bad "§3 $which: the audit chain is broken"
done

# ---- sign --dir: the directory's fsync after the batch's renames fails: the files are in
# place, the run says they may not survive a power loss, exit 3, outcome 'published-unsynced'
echo "--- sign --dir: the directory's fsync after the renames (EIO)"
rm -f "$T"/*.sgn; mkcfgs; wc -l <"$W/audit.log" >"$W/nlines"
rc=0
strace -f -qq -y -o "$W/t" -P "$T" -e trace=fsync -e inject=fsync:error=EIO:when=1 "${SIGNDIR[@]}" --json >"$W/out" 2>"$W/err" || rc=$?
injected "$W/t" "<$T>)" || true
[ "$rc" = 3 ] || bad "sign unsynced: exit $rc, expected 3"
grep -q "3 signed files are in place but their directory could not be synced: they may not survive a power loss; run again" "$W/err" \
  || bad "sign unsynced: stderr: $(cat "$W/err")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["signed"]==3 and d["unsynced"]==3, d' "$W/out" \
  || bad "sign unsynced: the JSON summary does not count them"
[ "$(ls "$T" | grep -c '\.sgn$')" = 3 ] || bad "sign unsynced: the signed files are not in place"
tail -n +$(($(cat "$W/nlines") + 1)) "$W/audit.log" | grep '"phase":"outcome"' | grep -q '"result":"published-unsynced"' \
  || bad "sign unsynced: no outcome record 'published-unsynced'"
"${SIGNDIR[@]}" >"$W/out" 2>"$W/err" || bad "sign unsynced: the rerun failed: $(cat "$W/err")"

# ---- §5: EINTR on the audit record's write and on the cluster file's read, and on the
# audit log's reads (audit --verify; the scan for interrupted runs at the start of a run)
for what in "audit --verify" "sign --dir"; do
  for e in EINTR EIO; do
    echo "--- §5: the audit log's first read fails with $e ($what)"
    rc=0
    if [ "$what" = "audit --verify" ]; then
      strace -f -qq -o "$W/t" -P "$W/audit.log" -e trace=read -e inject=read:error=$e:when=1 \
        "$CTLSIGN" audit --verify "$W/audit.log" >"$W/out" 2>"$W/err" || rc=$?
    else
      strace -f -qq -o "$W/t" -P "$W/audit.log" -e trace=read -e inject=read:error=$e:when=1 \
        "${SIGNDIR[@]}" >"$W/out" 2>"$W/err" || rc=$?
    fi
    grep -q INJECTED "$W/t" || bad "§5 $what $e: nothing injected"
    if [ "$e" = EINTR ]; then
      [ "$rc" = 0 ] || bad "§5 $what EINTR: exit $rc: $(cat "$W/err")"
    else
      [ "$rc" = 3 ] || bad "§5 $what EIO: exit $rc, expected 3 (an unread log is not an empty one)"
      grep -q "cannot read audit log $W/audit.log: Input/output error" "$W/err" || bad "§5 $what EIO: $(cat "$W/err")"
    fi
  done
done

echo "--- §5: the audit write is interrupted (EINTR)"
rm -f "$T"/*.sgn; mkcfgs
rc=0
strace -f -qq -y -o "$W/t" -P "$W/audit.log" -e trace=write -e inject=write:error=EINTR:when="$w_intent" "${SIGNDIR[@]}" >"$W/out" 2>"$W/err" || rc=$?
injected "$W/t" "$W/audit.log>" && { [ "$rc" = 0 ] || bad "§5 audit EINTR: exit $rc: $(cat "$W/err")"; }
[ "$(ls "$T" | grep -c '\.sgn$')" = 3 ] || bad "§5 audit EINTR: not all signed"
"$CTLSIGN" audit --verify "$W/audit.log" >/dev/null || bad "§5 audit EINTR: the audit chain is broken"

"$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
  --token pkcs11:token=B --pin env:PIN_B </dev/null >"$W/out" 2>"$W/err" || { cat "$W/err"; exit 1; }
UPDATE=("$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A)
r_cluster=1
echo "--- §5: the cluster file's read is interrupted (read #$r_cluster EINTR)"
rc=0
strace -f -qq -y -o "$W/t" -P "$CL" -e trace=read -e inject=read:error=EINTR:when="$r_cluster" \
  "$CTLSIGN" ctl diff --cluster "$CL" --mode mixed >"$W/out" 2>"$W/err" || rc=$?
injected "$W/t" "<$CL>" && { [ "$rc" = 0 ] || bad "§5 cluster EINTR: exit $rc: $(cat "$W/err")"; }

# ---- §4: the first directory's fsync after its rename fails
# SoftHSM never fsyncs, so the fsyncs of an update are ours and in a fixed order (audit
# log, state, then per directory: .bak temp, directory, CTL temp, directory, ...):
# numbered from a clean run, the one of the first directory after the new CTL's rename.
strace -f -qq -y -o "$W/t.upd" -e trace=fsync,rename "${UPDATE[@]}" --mode non-secure >/dev/null 2>&1 \
  || { echo "FAIL: clean ctl update"; exit 1; }
# fsync_after_rename TRACE DIR: the per-thread number of DIR's fsync after the rename of
# DIR/CTLFile.tlv into place
fsync_after_rename() {
  awk -v d="$2" '
    { split($2, a, "(") } a[1] == "fsync" { n[$1]++ ; if (armed && index($0, "<" d ">)")) { print n[$1]; exit } }
    a[1] == "rename" && index($0, "\"" d "/CTLFile.tlv\")") { armed = 1 }' "$1"
}
f_t1=$(fsync_after_rename "$W/t.upd" "$T1")
[ -n "$f_t1" ] || { echo "FAIL: the fsync after the rename not found"; exit 1; }
echo "--- §4: fsync #$f_t1 ($T1 after the rename) EIO"
wc -l <"$W/audit.log" >"$W/nlines"
rc=0
strace -f -qq -y -o "$W/t" -e trace=fsync -e inject=fsync:error=EIO:when="$f_t1" "${UPDATE[@]}" --mode mixed >"$W/out" 2>"$W/err" || rc=$?
injected "$W/t" "<$T1>)" || true
[ "$rc" = 3 ] || bad "§4: exit $rc, expected 3"
grep -q "FAILED" "$W/out" && bad "§4: stdout reports a failure that did not happen: $(grep FAILED "$W/out")"
grep -q "1 of 2" "$W/err" && bad "§4: stderr says 1 of 2: $(cat "$W/err")"
grep -q "the new CTLFile.tlv is in place in $T1 but the directory could not be synced: it may not survive a power loss; run again" "$W/err" \
  || bad "§4: stderr does not say what is true: $(cat "$W/err")"
[ "$(grep -c . "$W/err")" = 1 ] || bad "§4: expected one line on stderr: $(cat "$W/err")"
cmp -s "$T1/CTLFile.tlv" "$T2/CTLFile.tlv" || bad "§4: the two directories differ"
"$CTLSIGN" ctl show --json "$T1/CTLFile.tlv" | grep -q '"mode":"mixed"\|"mode": "mixed"' || bad "§4: $T1 does not hold the new CTL"
tail -n +$(($(cat "$W/nlines") + 1)) "$W/audit.log" | grep '"phase":"outcome"' | grep -q '"result":"published-unsynced"' \
  || bad "§4: no outcome record 'published-unsynced': $(tail -n 1 "$W/audit.log")"
"${UPDATE[@]}" --mode mixed >"$W/out" 2>"$W/err" || bad "§4: the rerun failed: $(cat "$W/err")"
"$CTLSIGN" audit --verify "$W/audit.log" >/dev/null || bad "the audit chain is broken"

# ---- catch-up (the second directory lags; an update with nothing to sign copies the
# first one's CTL there): its directory's fsync after the rename fails -> the same truth
lag() { cp "$T1/CTLFile.tlv.bak" "$T2/CTLFile.tlv"; cmp -s "$T1/CTLFile.tlv" "$T2/CTLFile.tlv" && { echo "FAIL: no lag"; exit 1; }; true; }
lag
strace -f -qq -y -o "$W/t.cu" -e trace=fsync,rename "${UPDATE[@]}" --mode mixed >/dev/null 2>&1 \
  || { echo "FAIL: clean catch-up"; exit 1; }
f_t2=$(fsync_after_rename "$W/t.cu" "$T2")
[ -n "$f_t2" ] || { echo "FAIL: the catch-up's fsync after the rename not found"; exit 1; }
echo "--- catch-up: fsync #$f_t2 ($T2 after the rename) EIO"
lag; wc -l <"$W/audit.log" >"$W/nlines"
rc=0
strace -f -qq -y -o "$W/t" -e trace=fsync -e inject=fsync:error=EIO:when="$f_t2" "${UPDATE[@]}" --mode mixed >"$W/out" 2>"$W/err" || rc=$?
injected "$W/t" "<$T2>)" || true
[ "$rc" = 3 ] || bad "catch-up unsynced: exit $rc, expected 3"
grep -q "^UNSYNCED   $T2: the new CTLFile.tlv is in place in $T2 but the directory could not be synced" "$W/out" \
  || bad "catch-up unsynced: stdout: $(cat "$W/out")"
grep -q "^FAILED" "$W/out" && bad "catch-up unsynced: reported as FAILED"
cmp -s "$T1/CTLFile.tlv" "$T2/CTLFile.tlv" || bad "catch-up unsynced: $T2 was not brought level"
tail -n +$(($(cat "$W/nlines") + 1)) "$W/audit.log" | grep '"phase":"outcome"' | grep -q '"result":"published-unsynced"' \
  || bad "catch-up unsynced: no outcome record 'published-unsynced': $(tail -n 1 "$W/audit.log")"
"${UPDATE[@]}" --mode mixed >"$W/out" 2>"$W/err" || bad "catch-up: the rerun failed: $(cat "$W/err")"

# ---- the lock's temporary name (".ctlsign.lock.PID.tmp"), whose unlink after the link
# fails: the run removes it again while it holds the lock, and a run that is gone leaves
# its name to the next run; a live run's name is left alone.
strace -qq -y -o "$W/t.lock" -e trace=unlinkat,linkat "${UPDATE[@]}" --mode mixed >/dev/null 2>&1 \
  || { echo "FAIL: clean ctl update (lock trace)"; exit 1; }
u_tmp=$(awk '/^unlinkat\(/ { n++ } /^linkat\(.*\.ctlsign\.lock".* = 0$/ { armed = 1; next }
  armed && /^unlinkat\(.*"\.ctlsign\.lock\.[0-9]+\.tmp"/ { print n; exit }' "$W/t.lock")
[ -n "$u_tmp" ] || { echo "FAIL: the unlink of the lock's temporary name not found"; exit 1; }
echo "--- lock: unlinkat #$u_tmp (the lock's temporary name) EACCES"
rc=0
strace -qq -y -o "$W/t" -e trace=unlinkat -e inject=unlinkat:error=EACCES:when="$u_tmp" "${UPDATE[@]}" --mode mixed >"$W/out" 2>"$W/err" || rc=$?
injected "$W/t" ".ctlsign.lock." || true
[ "$rc" = 0 ] || bad "lock: exit $rc: $(cat "$W/err")"
left=$(ls -A "$T1" "$T2" | grep '^\.ctlsign\.lock' || true)
[ -z "$left" ] || bad "lock: left behind in a TFTP directory: $left"
sh -c 'echo $$ >"$1"' sh "$W/deadpid"; dead=$(cat "$W/deadpid")
sleep 600 & live=$!
: >"$T1/.ctlsign.lock.$dead.tmp"; : >"$T1/.ctlsign.lock.$live.tmp"
"${UPDATE[@]}" --mode mixed >"$W/out" 2>"$W/err" || bad "lock: the run with leftovers failed: $(cat "$W/err")"
[ ! -e "$T1/.ctlsign.lock.$dead.tmp" ] || bad "lock: the temporary name of a run that is gone (pid $dead) was left"
[ -e "$T1/.ctlsign.lock.$live.tmp" ] || bad "lock: the temporary name of a live process (pid $live) was removed"
kill "$live"; wait "$live" 2>/dev/null || true
rm -f "$T1/.ctlsign.lock.$live.tmp"

finish "officer fault"

#!/usr/bin/env bash
# ctl-crash.sh CTLSIGN CTLVERIFY SRCDIR WORKDIR - `ctlsign ctl update` killed (SIGKILL,
# injected by strace at an exact system call) at each step of publishing to the two TFTP
# directories: the backup's rename, the directory fsync after it, the new file's fsync
# and its rename. After every kill each directory holds a complete CTL that verifies
# (the old one, or in the first directory the complete new one when the kill hit the
# second), the three backup generations (.bak, .bak.1, .bak.2) are each a whole CTL and
# none is lost (the shifts of .bak.1 and .bak are kill points too), and rerunning the SAME
# command succeeds, brings both directories to one identical new CTL and leaves nothing
# behind. Skips (77) only when strace cannot trace here.
set -euo pipefail
CTLSIGN=$1 CTLVERIFY=$2 SRC=$3 W=$4
if ! strace -o /dev/null true 2>/dev/null; then
  echo "SKIP: strace cannot trace processes here"
  exit 77
fi
rm -rf "$W"
mkdir -p "$W"
. "$SRC/tests/ctl/softhsm-lib.sh"
officer_fixture "$W"
# LeakSanitizer cannot run in a traced process; the killed runs never reach exit anyway.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
ctl_mode() { "$CTLSIGN" ctl show --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["mode"])'; }
# valid FILE MODE: a complete CTL in MODE that ctlverify accepts
valid() {
  "$CTLVERIFY" check "$1" >/dev/null 2>&1 || { bad "$1 does not verify"; return; }
  [ "$(ctl_mode "$1")" = "$2" ] || bad "$1 is not the $2 CTL"
}
# only DIR NAME...: the directory holds exactly these names (a trailing * = a 6-char suffix)
only() {
  local d=$1 got want=""; shift
  got=$(ls -A "$d" | sed -E 's/\.tmp\.[A-Za-z0-9]{6}$/.tmp.*/' | sort | tr '\n' ' ')
  want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
  [ "$got" = "$want" ] || bad "$d holds [$got], expected [$want]"
}
update() { # update MODE: the operator's command
  "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
    --mode "$1"
}

# create (mixed), then three updates so that both directories hold every backup
# generation (.bak, .bak.1, .bak.2) and each run below shifts all of them
"$CTLSIGN" ctl create --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A --token pkcs11:token=B \
  --pin env:PIN_B </dev/null >"$W/out" 2>"$W/err" || { cat "$W/err"; exit 1; }
for m in non-secure mixed non-secure; do
  update "$m" </dev/null >"$W/out" 2>"$W/err" || { cat "$W/err"; exit 1; }
done
mode=non-secure

# Each kill point: DIR SYSCALL N PATTERN-OF-THE-KILLED-CALL. The syscalls of one run, in
# order (one thread): fsync audit.log (the intent records: audit first, publish second;
# the locks are linked into place, no rename); the state directory's record of the CTL
# being published (fsync its temp, rename, fsync the state directory); per directory: the
# backups shifted (rename .bak.1 to .bak.2, rename .bak to .bak.1), fsync bak temp, rename
# it to .bak, fsync dir, fsync the new CTL's temp, rename it to CTLFile.tlv, fsync dir;
# then the records of what was published (after the last kill point).
points=(
  "1 rename 2 \"$T1/CTLFile.tlv.bak.1\","
  "1 rename 3 \"$T1/CTLFile.tlv.bak\","
  "1 rename 4 \"$T1/CTLFile.tlv.bak.tmp."
  "1 fsync 5 <$T1>)"
  "1 fsync 6 <$T1/CTLFile.tlv.tmp."
  "1 rename 5 \"$T1/CTLFile.tlv.tmp."
  "2 rename 7 \"$T2/CTLFile.tlv.bak\","
  "2 rename 8 \"$T2/CTLFile.tlv.bak.tmp."
  "2 fsync 10 <$T2/CTLFile.tlv.tmp."
  "2 rename 9 \"$T2/CTLFile.tlv.tmp."
)
# same FILE SAVED WHAT: FILE is byte for byte SAVED
same() { cmp -s "$1" "$2" || bad "$3"; }
for p in "${points[@]}"; do
  read -r dir sc n pat <<<"$p"
  new=$([ "$mode" = mixed ] && echo non-secure || echo mixed)
  echo "--- killed at $sc #$n (directory $dir), update $mode -> $new"
  cp "$T1/CTLFile.tlv" "$W/old.tlv"
  for d in 1 2; do
    T=$([ $d = 1 ] && echo "$T1" || echo "$T2")
    cp "$T/CTLFile.tlv.bak" "$W/b$d.0"; cp "$T/CTLFile.tlv.bak.1" "$W/b$d.1"
    cp "$T/CTLFile.tlv.bak.2" "$W/b$d.2"
  done
  cmp -s "$T2/CTLFile.tlv" "$W/old.tlv" || bad "directories differ before the kill"
  rc=0
  strace -f -q -y -o "$W/trace" -e trace=rename,renameat,renameat2,fsync \
    -e inject="$sc:signal=SIGKILL:when=$n" \
    "$CTLSIGN" ctl update --cluster "$CL" "${M[@]}" --yes --token pkcs11:token=A --pin env:PIN_A \
    --mode "$new" </dev/null >"$W/out" 2>"$W/err" || rc=$?
  [ "$rc" = 137 ] || { bad "expected the run to be killed (137), got $rc"; cat "$W/err"; }
  killed=$(grep -v '+++' "$W/trace" | tail -n 1)
  case "$killed" in
    [0-9]*" $sc("*"$pat"*"= ?") ;;
    *) bad "killed at the wrong call: '$killed' (wanted $pat)" ;;
  esac

  # the state the kill left: every name holds a whole file, no backup generation is lost
  if [ "$dir" = 1 ]; then
    T=$T1 d=1
  else
    T=$T2 d=2
    valid "$T1/CTLFile.tlv" "$new"                     # the first directory is done
    same "$T1/CTLFile.tlv.bak" "$W/old.tlv" "$T1: .bak is not the old CTL"
    same "$T1/CTLFile.tlv.bak.1" "$W/b1.0" "$T1: .bak.1 is not the previous .bak"
    same "$T1/CTLFile.tlv.bak.2" "$W/b1.1" "$T1: .bak.2 is not the previous .bak.1"
    only "$T1" .ctlsign.lock CTLFile.tlv CTLFile.tlv.bak CTLFile.tlv.bak.1 CTLFile.tlv.bak.2
  fi
  same "$T/CTLFile.tlv" "$W/old.tlv" "$T: current CTL changed"
  valid "$T/CTLFile.tlv" "$mode"
  case "$sc$n" in
    rename2) # nothing shifted yet
      same "$T/CTLFile.tlv.bak" "$W/b$d.0" "$T: .bak changed"
      same "$T/CTLFile.tlv.bak.1" "$W/b$d.1" "$T: .bak.1 changed"
      same "$T/CTLFile.tlv.bak.2" "$W/b$d.2" "$T: .bak.2 changed"
      only "$T" .ctlsign.lock CTLFile.tlv CTLFile.tlv.bak CTLFile.tlv.bak.1 CTLFile.tlv.bak.2 ;;
    rename3|rename7) # .bak.1 shifted to .bak.2; .bak not yet shifted
      same "$T/CTLFile.tlv.bak" "$W/b$d.0" "$T: .bak changed"
      same "$T/CTLFile.tlv.bak.2" "$W/b$d.1" "$T: .bak.2 is not the previous .bak.1"
      only "$T" .ctlsign.lock CTLFile.tlv CTLFile.tlv.bak CTLFile.tlv.bak.2 ;;
    rename4|rename8) # both shifted; the old CTL complete in the backup's temp
      same "$T/CTLFile.tlv.bak.1" "$W/b$d.0" "$T: .bak.1 is not the previous .bak"
      same "$T/CTLFile.tlv.bak.2" "$W/b$d.1" "$T: .bak.2 is not the previous .bak.1"
      same "$T"/CTLFile.tlv.bak.tmp.* "$W/old.tlv" "$T: backup temp is not the old CTL"
      only "$T" .ctlsign.lock CTLFile.tlv CTLFile.tlv.bak.1 CTLFile.tlv.bak.2 'CTLFile.tlv.bak.tmp.*' ;;
    fsync5) # the old CTL is .bak
      same "$T/CTLFile.tlv.bak" "$W/old.tlv" "$T: .bak is not the old CTL"
      same "$T/CTLFile.tlv.bak.1" "$W/b$d.0" "$T: .bak.1 is not the previous .bak"
      same "$T/CTLFile.tlv.bak.2" "$W/b$d.1" "$T: .bak.2 is not the previous .bak.1"
      only "$T" .ctlsign.lock CTLFile.tlv CTLFile.tlv.bak CTLFile.tlv.bak.1 CTLFile.tlv.bak.2 ;;
    *) # the complete new CTL, not yet in place
      same "$T/CTLFile.tlv.bak" "$W/old.tlv" "$T: .bak is not the old CTL"
      same "$T/CTLFile.tlv.bak.1" "$W/b$d.0" "$T: .bak.1 is not the previous .bak"
      same "$T/CTLFile.tlv.bak.2" "$W/b$d.1" "$T: .bak.2 is not the previous .bak.1"
      valid "$T"/CTLFile.tlv.tmp.* "$new"
      only "$T" .ctlsign.lock CTLFile.tlv CTLFile.tlv.bak CTLFile.tlv.bak.1 CTLFile.tlv.bak.2 'CTLFile.tlv.tmp.*' ;;
  esac
  if [ "$dir" = 1 ]; then
    same "$T2/CTLFile.tlv" "$W/old.tlv" "$T2: touched before its turn"
    same "$T2/CTLFile.tlv.bak" "$W/b2.0" "$T2: .bak touched before its turn"
    same "$T2/CTLFile.tlv.bak.1" "$W/b2.1" "$T2: .bak.1 touched before its turn"
    same "$T2/CTLFile.tlv.bak.2" "$W/b2.2" "$T2: .bak.2 touched before its turn"
    only "$T2" .ctlsign.lock CTLFile.tlv CTLFile.tlv.bak CTLFile.tlv.bak.1 CTLFile.tlv.bak.2
  fi

  # the killed run announced its CTL for both directories before its first rename
  tail -n 2 "$W/audit.log" | grep '"phase":"intent"' | grep -c -e "\"output\":\"$T1/CTLFile.tlv\"" \
    -e "\"output\":\"$T2/CTLFile.tlv\"" | grep -x 2 >/dev/null || bad "no intent records before the kill"

  # the operator runs the same command again
  rc=0
  update "$new" </dev/null >"$W/out" 2>"$W/err" || rc=$?
  [ "$rc" = 0 ] || { bad "rerun failed ($rc)"; cat "$W/err" "$W/out"; }
  grep -q "took over a stale lock" "$W/err" || bad "rerun did not report the stale lock"
  grep -q "an earlier run was interrupted after announcing 2 files" "$W/err" \
    || { bad "rerun did not report the interrupted publication"; cat "$W/err"; }
  # the first directory's new CTL, in place but not yet recorded, is still ctlsign's own
  if [ "$dir" = 2 ]; then
    grep -q "anchored (a): .*by a run interrupted before it recorded it" "$W/out" \
      || { bad "rerun did not anchor the interrupted run's CTL"; cat "$W/out"; }
  fi
  case "$sc$n" in
    rename2|rename3|rename7|fsync5) ;;
    *) grep -q "removed    1 temporary file left in $([ "$dir" = 1 ] && echo "$T1" || echo "$T2") by an interrupted run" "$W/out" \
         || { bad "rerun did not report the removed temporary file"; cat "$W/out"; } ;;
  esac
  valid "$T1/CTLFile.tlv" "$new"
  cmp -s "$T1/CTLFile.tlv" "$T2/CTLFile.tlv" || bad "after the rerun the two directories differ"
  # three generations, each once: the old CTL, the .bak and .bak.1 from before the kill
  for d in 1 2; do
    T=$([ $d = 1 ] && echo "$T1" || echo "$T2")
    same "$T/CTLFile.tlv.bak" "$W/old.tlv" "$T: after the rerun .bak is not the old CTL"
    same "$T/CTLFile.tlv.bak.1" "$W/b$d.0" "$T: after the rerun .bak.1 is not the previous .bak"
    same "$T/CTLFile.tlv.bak.2" "$W/b$d.1" "$T: after the rerun .bak.2 is not the previous .bak.1"
    only "$T" CTLFile.tlv CTLFile.tlv.bak CTLFile.tlv.bak.1 CTLFile.tlv.bak.2
  done
  # ...and from now on recorded as what ctlsign published there
  "$CTLSIGN" ctl diff --cluster "$CL" --mode "$new" >"$W/out" 2>"$W/err" || bad "ctl diff after the rerun"
  grep -q "anchored (a): the last CTL ctlsign published to $T1 ([0-9T:-]*Z)\$" "$W/out" \
    || { bad "after the rerun the CTL is not recorded"; cat "$W/out"; }
  mode=$new
done

"$CTLSIGN" audit --verify "$W/audit.log" >/dev/null || bad "the audit chain is broken"
if [ "$fails" -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "all ctl crash checks passed"

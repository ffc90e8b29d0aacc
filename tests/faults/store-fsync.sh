#!/usr/bin/env bash
# store-fsync.sh CTLVERIFY MKFIXTURE VECTORS WORKDIR - issue 15 §1: `ctlverify install`
# with one I/O error injected (strace) at an exact call of the store's two-step commit.
# After the state file's rename the new CTL is committed: a failing directory fsync (or
# the directory's open for it) finishes the install and reports that only durability is
# in doubt; before it (the state's temp file cannot be synced, or renamed) the install
# is rolled back completely. Either way `status` reads the store (exit 0) and names the
# old or the new CTL, nothing is left behind, and the next install works.
set -euo pipefail
CTLVERIFY=$1 MKFIXTURE=$2 V=$3 W=$4
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
recs=("sast:$V/sast1.crt" "sast:$V/sast2.crt" "ccm+tftp:$V/ccm.crt" "capf:$V/capf.crt")
"$MKFIXTURE" tlv -K ctl -k "$V/sast1.key" -c "$V/sast1.crt" -o "$W/old.tlv" -t -60 "${recs[@]}" "tftp:$V/tftp2.crt"
"$MKFIXTURE" tlv -K ctl -k "$V/sast2.key" -c "$V/sast2.crt" -o "$W/new.tlv" -t +0 "${recs[@]}"
old=$(sha256sum <"$W/old.tlv" | cut -d' ' -f1) new=$(sha256sum <"$W/new.tlv" | cut -d' ' -f1)
S=$W/store
fresh() { rm -rf "$S"; "$CTLVERIFY" install --store "$S" "$W/old.tlv" >/dev/null; }
held() { "$CTLVERIFY" status --store "$S" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ctl"]["sha256"])'; }

# The calls of one clean install, numbered per syscall: which fsync/openat is the
# directory's after the state file's rename, and which fsync is the state's temp file.
fresh
strace -f -qq -y -o "$W/trace" -e trace=fsync,openat,rename,renameat,renameat2 \
  "$CTLVERIFY" install --store "$S" "$W/new.tlv" >/dev/null
nth() { # nth SYSCALL REGEX-AFTER-STATE-RENAME(0/1) PATTERN: the number of the first match
  awk -v sc="$1" -v after="$2" -v pat="$3" '
    $2 ~ "^" sc "\\(" { n++ ; if ((!after || seen) && index($0, pat)) { print n; exit } }
    $2 ~ /^rename/ && index($0, "/state\"") { seen = 1 }' "$W/trace"
}
dir_fsync=$(nth fsync 1 "<$S>)")
dir_open=$(nth openat 1 "\"$S\"")
tmp_fsync=$(nth fsync 0 "<$S/state.tmp.")
[ -n "$dir_fsync" ] && [ -n "$dir_open" ] && [ -n "$tmp_fsync" ] \
  || { cat "$W/trace"; echo "FAIL: cannot find the commit's calls in the trace"; exit 1; }

# point SYSCALL N ERRNO EXPECT(old|new) EXIT
point() {
  local sc=$1 n=$2 e=$3 want=$4 xrc=$5 rc=0 h
  echo "--- $sc #$n $e: the store must hold the $want CTL, exit $xrc"
  fresh
  strace -f -qq -o "$W/trace2" -e trace="$sc" -e inject="$sc:error=$e:when=$n" \
    "$CTLVERIFY" install --store "$S" "$W/new.tlv" >"$W/out" 2>"$W/err" || rc=$?
  grep -q INJECTED "$W/trace2" || bad "$sc #$n: nothing injected"
  [ "$rc" = "$xrc" ] || bad "$sc #$n: exit $rc, expected $xrc: $(cat "$W/err")"
  if [ "$xrc" != 0 ]; then
    [ "$(wc -l <"$W/err")" = 1 ] || bad "$sc #$n: expected one line on stderr: $(cat "$W/err")"
  fi
  if [ "$want$xrc" = new3 ]; then
    grep -q "installed .* but cannot sync the store directory .*may not survive a power loss" "$W/err" \
      || bad "message: $(cat "$W/err")"
  fi
  # a reader first: status never fails on what an error left, and names the CTL kept
  h=$(held) || bad "$sc #$n: status failed"
  [ "$h" = "$([ "$want" = new ] && echo "$new" || echo "$old")" ] || bad "$sc #$n: status names $h"
  cmp -s "$S/CTLFile.tlv" "$W/$want.tlv" || bad "$sc #$n: CTLFile.tlv is not the $want CTL"
  left=$(ls -A "$S" | grep -v -x -e CTLFile.tlv -e state -e lock || true)
  [ -z "$left" ] || bad "$sc #$n: left behind: $left"
  "$CTLVERIFY" install --store "$S" "$W/new.tlv" >"$W/out" 2>"$W/err" || bad "$sc #$n: the next install failed: $(cat "$W/err")"
  [ "$(held)" = "$new" ] || bad "$sc #$n: the next install did not take"
}
# After the commit point: finished. The directory's fsync after the final rename makes
# the state's rename durable too, so one failed fsync is recovered (exit 0); when that
# one fails as well, the install is done but its durability is in doubt: exit 3.
point fsync "$dir_fsync" EIO new 0
point fsync "$dir_fsync..$((dir_fsync + 2))" EIO new 3
point openat "$dir_open" EACCES new 0   # the directory cannot even be opened for its fsync
point fsync "$tmp_fsync" EIO old 3      # before it: rolled back

# A reader meets a committed install that was not finished (killed between the state's
# rename and the CTL's) and cannot repair it (every rename fails): it still reads the
# store, and names the CTL the repair keeps; a reader that can repairs it.
echo "--- status on an unfinished install it cannot repair"
fresh
rc=0
strace -f -qq -o "$W/trace3" -e trace=rename -e inject=rename:signal=SIGKILL:when=3 \
  "$CTLVERIFY" install --store "$S" "$W/new.tlv" >/dev/null 2>&1 || rc=$?
[ "$rc" = 137 ] || bad "install was not killed at its third rename ($rc)"
[ -e "$S/CTLFile.tlv.next" ] || bad "no CTLFile.tlv.next after the kill"
h=$(strace -f -qq -o /dev/null -e trace=rename,unlink,unlinkat -e inject=rename,unlink,unlinkat:error=EROFS \
  "$CTLVERIFY" status --store "$S" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ctl"]["sha256"])') \
  || bad "status failed on a store it cannot repair"
[ "$h" = "$new" ] || bad "status names $h, not the committed CTL"
[ -e "$S/CTLFile.tlv.next" ] || bad "the injected errors did not stop the repair"
[ "$(held)" = "$new" ] || bad "status (repairing) does not name the committed CTL"
[ ! -e "$S/CTLFile.tlv.next" ] && cmp -s "$S/CTLFile.tlv" "$W/new.tlv" || bad "status did not finish the install"

finish "store fsync"

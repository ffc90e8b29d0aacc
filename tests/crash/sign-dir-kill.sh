#!/usr/bin/env bash
# sign-dir-kill.sh CTLSIGN CTLVERIFY VECTORS WORKDIR - `ctlsign sign --dir` over 20 configs
# killed at its 5th rename (the commit of a batch: temp files written and synced, the
# batch announced in the audit log, renamed one by one). Afterwards every .sgn present is
# whole and verifies, exactly the 4 renamed ones exist, each with an intent record in the
# audit log (audit first, publish second), the lock file names the killed run; a rerun
# takes the stale lock over, reports the interrupted run, signs exactly the other 16 and
# leaves no temporary files and no lock.
set -euo pipefail
CTLSIGN=$1 CTLVERIFY=$2 V=$3 W=$4
if ! strace -o /dev/null true 2>/dev/null; then
  echo "SKIP: strace cannot trace processes here"
  exit 77
fi

rm -rf "$W"; mkdir -p "$W/softhsm" "$W/tftp"
export SOFTHSM2_CONF=$W/softhsm2.conf
printf 'directories.tokendir = %s/softhsm\nobjectstore.backend = file\nlog.level = ERROR\n' "$W" >"$SOFTHSM2_CONF"
MODULE=${CTLSIGN_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
export CTLSIGN_PKCS11_MODULE=$MODULE CTL_TEST_PIN=crash-pin-4711 CTLSIGN_AUDIT_LOG=$W/audit.log
# LeakSanitizer cannot run in a traced process; the killed run never reaches exit anyway.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
# token "tftp": the vectors' CCM+TFTP key pair, listed in the vector CTL
softhsm2-util --init-token --free --label tftp --so-pin so-pin-97531 --pin "$CTL_TEST_PIN" >/dev/null
softhsm2-util --import "$V/ccm.key" --token tftp --label tftp --id 01 --pin "$CTL_TEST_PIN" >/dev/null
openssl x509 -in "$V/ccm.crt" -outform DER -out "$W/ccm.der"
pkcs11-tool --module "$MODULE" --token-label tftp --login --pin "$CTL_TEST_PIN" \
  --write-object "$W/ccm.der" --type cert --id 01 --label tftp >/dev/null 2>&1
T=$W/tftp
cp "$V/CTLFile.tlv" "$T/"
for i in $(seq 10 29); do
  printf '<device><fullConfig>true</fullConfig><n>%s</n></device>\n' "$i" >"$T/SEP0000000000$i.cnf.xml"
done

fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
sgns() { ls -A "$T" | grep '\.sgn$' || true; }
temps() { ls -A "$T" | grep -v -e '\.cnf\.xml$' -e '\.sgn$' | grep -v -x -e CTLFile.tlv -e .ctlsign.lock || true; }
# every .sgn present verifies with the TFTP certificate and carries its config
check_sgns() {
  local f
  for f in $(sgns); do
    "$CTLVERIFY" check --cert "$V/ccm.crt" "$T/$f" >"$W/check.out" 2>&1 \
      || { bad "$f does not verify: $(cat "$W/check.out")"; continue; }
    tail -c "$(stat -c %s "$T/${f%.sgn}")" "$T/$f" | cmp -s - "$T/${f%.sgn}" \
      || bad "$f does not end with the content of ${f%.sgn}"
  done
}

rc=0
strace -f -q -y -o "$W/trace" -e trace=rename,renameat,renameat2 \
  -e inject=rename,renameat,renameat2:signal=SIGKILL:when=5 \
  "$CTLSIGN" sign --pin env:CTL_TEST_PIN --key pkcs11:token=tftp --dir "$T" --jobs 2 --json \
  </dev/null >"$W/out" 2>"$W/err" || rc=$?
[ "$rc" = 137 ] || { bad "expected the run to be killed (137), got $rc"; cat "$W/err"; }
# the trace: 4 renames done, the 5th is where it died (one thread commits)
done_renames=$(grep -c 'renameat(.*\.ctlsign-[0-9]*-[0-9]*\.tmp.*\.cnf\.xml\.sgn") = 0$' "$W/trace" || true)
[ "$done_renames" = 4 ] || { bad "expected 4 completed renames, got $done_renames"; cat "$W/trace"; }
grep -v '+++' "$W/trace" | tail -n 1 | grep -q 'renameat(.*\.ctlsign-.*\.cnf\.xml\.sgn") = ?$' \
  || bad "not killed at a commit rename: $(tail -n 2 "$W/trace")"
killed_pid=$(grep -o '\.ctlsign-[0-9]*-' "$W/trace" | head -n 1 | tr -dc 0-9)

# after the kill: exactly the 4 renamed outputs, each whole and valid; no half-written .sgn
renamed=$(grep -o '"SEP[0-9]*\.cnf\.xml\.sgn") = 0$' "$W/trace" | tr -d '"' | sed 's/) = 0$//' | sort)
[ "$(sgns | sort)" = "$renamed" ] || bad "outputs after the kill [$(sgns | tr '\n' ' ')] are not the renamed ones [$renamed]"
check_sgns
left=$(temps)
# How many temp files exist at the kill depends on how far the signing threads got
# before the committer's batch: at least the one being renamed, at most the other 16.
ntemp=$(echo "$left" | grep -c . || true)
echo "after the kill: $(sgns | wc -l) .sgn, temp files: $ntemp"
[ "$ntemp" -ge 1 ] && [ "$ntemp" -le 16 ] || bad "expected 1 to 16 temp files after the kill, found $ntemp"
echo "$left" | grep -q -v -x "\.ctlsign-$killed_pid-[0-9]*\.tmp" && bad "unexpected files: $left"
# audit first, publish second: every file the killed run put in place was announced
for f in $renamed; do
  grep '"phase":"intent"' "$W/audit.log" | grep -F "\"output\":\"$T/$f\"" >/dev/null \
    || bad "$f is in place without an intent record in the audit log"
done
grep -q '"phase":"outcome"' "$W/audit.log" && bad "the killed run recorded an outcome"
echo "intent records of the killed run: $(grep -c '"phase":"intent"' "$W/audit.log" || true)"
[ "$(cat "$T/.ctlsign.lock" 2>/dev/null)" = "$killed_pid" ] || bad "the lock file does not name the killed run ($killed_pid)"

# the rerun signs exactly the rest
rc=0
"$CTLSIGN" sign --pin env:CTL_TEST_PIN --key pkcs11:token=tftp --dir "$T" --json \
  </dev/null >"$W/sum.json" 2>"$W/err" || rc=$?
[ "$rc" = 0 ] || { bad "rerun failed ($rc)"; cat "$W/err"; }
grep -q "removed $ntemp temporary files\? an interrupted run left" "$W/err" || { bad "rerun did not say it removed the killed run's $ntemp temp files"; cat "$W/err"; }
grep -q "took over a stale lock left by pid $killed_pid" "$W/err" || { bad "rerun did not report the stale lock"; cat "$W/err"; }
grep -q "an earlier run was interrupted after announcing" "$W/err" || { bad "rerun did not report the interrupted run"; cat "$W/err"; }
grep -q '"result":"interrupted"' "$W/audit.log" || bad "the interrupted intent was not closed in the audit log"
python3 - "$W/sum.json" <<'PY' || bad "rerun summary: $(cat "$W/sum.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert (s["signed"], s["unchanged"], s["failed"]) == (16, 4, 0), s
PY
[ "$(sgns | wc -l)" = 20 ] || bad "expected 20 .sgn after the rerun, got $(sgns | wc -l)"
check_sgns
left=$(temps)
[ -z "$left" ] || bad "left behind: $left"
[ ! -e "$T/.ctlsign.lock" ] || bad "the rerun left its lock file"
"$CTLSIGN" audit --verify "$W/audit.log" >/dev/null || bad "the audit chain is broken"
if [ "$fails" -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "all sign --dir crash checks passed"

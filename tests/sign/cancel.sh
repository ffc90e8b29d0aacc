#!/usr/bin/env bash
# Issue 12 §10: Ctrl-C, SIGTERM and broken pipes.
#  - at the no-echo PIN prompt, Ctrl-C (typed on a real terminal) and SIGTERM cancel at
#    once: echo restored, the directory's lock removed, exit 12, nothing written;
#  - while waiting for another run's lock: cancelled at once, exit 12, the other run's lock
#    untouched and no temporary lock file of ours left;
#  - a signal while publishing (strace delivers SIGTERM at the first rename): the batch
#    is put in place and its audit outcome written, then exit 12, no lock left;
#  - a closed stdout does not kill ctlsign (SIGPIPE ignored): the operation finishes with
#    its own exit code, quietly.
. "$(dirname "$0")/lib.sh" "$@"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
T=$WORK/tftp; C=$WORK/certs; mkdir "$T" "$C"; cd "$WORK"
cp "$V/CTLFile.tlv" "$T/"
for i in $(seq 10 29); do
  printf '<device><fullConfig>true</fullConfig><n>%s</n></device>\n' "$i" >"$T/SEP0000000000$i.cnf.xml"
done
# LeakSanitizer cannot run in a traced process, and a cancelled run ends with _exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
pty() { python3 "$SRC/tests/ctl/pty-driver.py" "$1" -- "$CTLSIGN"; }
nolock() {
  [ ! -e "$1/.ctlsign.lock" ] || fail "$2: the lock was left behind"
  [ -z "$(ls -A "$1" | grep '^\.ctlsign\.lock\.' || true)" ] || fail "$2: a temporary lock file was left: $(ls -A "$1")"
}
nosgn() { [ -z "$(ls "$T" | grep '\.sgn$' || true)" ] || fail "$1: files were signed: $(ls "$T" | grep sgn)"; }

# 1. Ctrl-C at the PIN prompt (sign --dir holds the directory's lock meanwhile).
cat >ctrl-c.txt <<EOF
start sign --key pkcs11:token=tftp --dir $T
expect PIN for token 'tftp'
echo off
ctrl-c
expect cancelled (SIGINT); nothing was published
exit 12
echo on
EOF
pty ctrl-c.txt || fail "Ctrl-C at the PIN prompt"
nolock "$T" "Ctrl-C at the PIN prompt"; nosgn "Ctrl-C at the PIN prompt"

# 2. SIGTERM at the PIN prompt of encrypt --dir.
cp "$V/phone.crt" "$C/SEP001122334455.pem"; cp "$V/SEP001122334455.cnf.xml" "$T/"
cat >term.txt <<EOF
start encrypt --key pkcs11:token=tftp --device-certs $C --dir $T
expect PIN for token 'tftp'
signal TERM
expect cancelled (SIGTERM)
exit 12
echo on
EOF
pty term.txt || fail "SIGTERM at the PIN prompt"
nolock "$T" "SIGTERM at the PIN prompt"; nosgn "SIGTERM at the PIN prompt"
[ -e "$T/SEP001122334455.cnf.xml" ] || fail "SIGTERM at the PIN prompt: the clear config went"
rm "$T/SEP001122334455.cnf.xml"

# 3. Waiting for another run's lock (this shell's): Ctrl-C ends the wait at once.
echo $$ >"$T/.ctlsign.lock"
exec 9<"$T/.ctlsign.lock"
flock 9
cat >wait.txt <<EOF
start sign --pin env:CTL_TEST_PIN --key pkcs11:token=tftp --dir $T --wait 3600
expect waiting up to 3600 s for $T/.ctlsign.lock
ctrl-c
expect cancelled (SIGINT); nothing was published
exit 12
EOF
pty wait.txt 9<&- || fail "Ctrl-C while waiting for the lock"
[ "$(cat "$T/.ctlsign.lock")" = $$ ] || fail "the other run's lock was touched"
[ -z "$(ls -A "$T" | grep '^\.ctlsign\.lock\.' || true)" ] || fail "a temporary lock file was left: $(ls -A "$T")"
rm "$T/.ctlsign.lock"; exec 9<&-
nosgn "Ctrl-C while waiting"

# 4. SIGTERM while publishing: strace delivers it at the first rename (a batch announced
# in the audit log, its files being put in place). The batch is finished and its outcome
# audited, the run stops, exit 12.
if strace -o /dev/null true 2>/dev/null; then
  rc=0
  strace -f -q -o trace -e trace=rename,renameat,renameat2 \
    -e inject=rename,renameat,renameat2:signal=SIGTERM:when=1 \
    "$CTLSIGN" sign --pin env:CTL_TEST_PIN --key pkcs11:token=tftp --dir "$T" --jobs 1 --json \
    </dev/null >sum.json 2>err.txt || rc=$?
  [ "$rc" = 12 ] || fail "SIGTERM while publishing: exit $rc (expected 12): $(cat err.txt)"
  grep -q "stopped: cancelled (SIGTERM)" err.txt || fail "message: $(cat err.txt)"
  n=$(ls "$T" | grep -c '\.sgn$' || true)
  [ "$n" -ge 1 ] || fail "the batch being published was not finished"
  for f in $(ls "$T" | grep '\.sgn$'); do vcheck "$T/$f" "$V/ccm.crt" "$f"; done
  python3 - audit.log "$n" sum.json <<'PY' || fail "audit after SIGTERM while publishing"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
intents = [r for r in recs if r.get("phase") == "intent"]
outcomes = [r for r in recs if r.get("phase") == "outcome"]
assert len(intents) == int(sys.argv[2]), (len(intents), sys.argv[2])
assert len(outcomes) == 1 and outcomes[0]["intent"] == intents[0]["intent"] and outcomes[0]["result"] == "ok", outcomes
s = json.load(open(sys.argv[3]))
assert s["stopped"] and s["stop_reason"] == "cancelled (SIGTERM)" and s["signed"] == int(sys.argv[2]), s
PY
  nolock "$T" "SIGTERM while publishing"
  [ -z "$(ls -A "$T" | grep '^\.ctlsign-' || true)" ] || fail "temporary files left: $(ls -A "$T")"
  # the rerun signs the rest
  sign --key pkcs11:token=tftp --dir "$T" -q >out.txt || fail "rerun"
  grep -q "signed $((20 - n)), unchanged $n, failed 0" out.txt || fail "rerun: $(cat out.txt)"

  # encrypt: the phone being published gets both files, its outcome, and loses its clear
  # config; then the run stops.
  cp "$V/SEP001122334455.cnf.xml" "$T/"; cp "$V/phone.crt" "$C/SEP001122334455.pem"
  rc=0
  strace -f -q -o trace -e trace=rename,renameat,renameat2 \
    -e inject=rename,renameat,renameat2:signal=SIGTERM:when=1 \
    "$CTLSIGN" encrypt --pin env:CTL_TEST_PIN --key pkcs11:token=tftp --device-certs "$C" --dir "$T" \
    </dev/null >out.txt 2>err.txt || rc=$?
  [ "$rc" = 12 ] || fail "encrypt, SIGTERM while publishing: exit $rc (expected 12): $(cat err.txt)"
  grep -q "stopped: cancelled (SIGTERM)" err.txt || fail "message: $(cat err.txt)"
  [ ! -e "$T/SEP001122334455.cnf.xml" ] || fail "encrypt: the clear config stayed"
  vdecrypt "$T/SEP001122334455.cnf.xml.enc.sgn" "$V/ccm.crt" "$V/phone.key" plain
  vcheck "$T/SEP001122334455.cnf.xml.sgn" "$V/ccm.crt" SEP001122334455.cnf.xml.sgn
  [ "$(tail -n 1 audit.log | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["phase"], r["result"])')" = "outcome ok" ] \
    || fail "encrypt: no outcome record last: $(tail -n 1 audit.log)"
  nolock "$T" "encrypt, SIGTERM while publishing"
else
  echo "note: strace cannot trace here; the publishing part is not run"
fi
"$CTLSIGN" audit --verify audit.log >/dev/null || fail "audit chain"

# 5. A closed stdout: the report ends quietly, the operation goes on, its exit code stays.
closed_stdout() {
  python3 -c 'import os, subprocess, sys
r, w = os.pipe(); os.close(r)
sys.exit(subprocess.call(sys.argv[1:], stdout=w))' "$@"
}
printf '<device><n>new</n></device>\n' >"$T/SEP000000000099.cnf.xml"
rc=0; closed_stdout "$CTLSIGN" sign --pin env:CTL_TEST_PIN --key pkcs11:token=tftp --dir "$T" -q 2>err.txt || rc=$?
[ "$rc" = 0 ] || fail "sign --dir with a closed stdout: exit $rc: $(cat err.txt)"
[ ! -s err.txt ] || fail "sign --dir with a closed stdout: $(cat err.txt)"
vcheck "$T/SEP000000000099.cnf.xml.sgn" "$V/ccm.crt" SEP000000000099.cnf.xml.sgn
# ... and its own failure code still: a file that cannot be signed (13)
printf 'x' >"$T/SEP000000000098.cnf.xml"; chmod 000 "$T/SEP000000000098.cnf.xml"
if ! cat "$T/SEP000000000098.cnf.xml" >/dev/null 2>&1; then  # (root reads it anyway)
  rc=0; closed_stdout "$CTLSIGN" sign --pin env:CTL_TEST_PIN --key pkcs11:token=tftp --dir "$T" -q 2>err.txt || rc=$?
  [ "$rc" = 13 ] || fail "sign --dir (one file unreadable) with a closed stdout: exit $rc: $(cat err.txt)"
fi
rm -f "$T/SEP000000000098.cnf.xml"
# `| head -1` over a report longer than a pipe holds: ctlsign must write after head exits.
: >big.log
while [ "$(stat -c %s big.log)" -lt 200000 ]; do cat audit.log >>big.log; done
set +o pipefail
first=$("$CTLSIGN" audit --audit-log big.log 2>err.txt | head -1; echo "rc=${PIPESTATUS[0]}")
set -o pipefail
case "$first" in *rc=0) ;; *) fail "audit | head -1: $first: $(cat err.txt)";; esac
echo PASS

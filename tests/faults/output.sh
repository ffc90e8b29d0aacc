#!/usr/bin/env bash
# output.sh CTLVERIFY CTLSIGN VECTORS WORKDIR - issue 15 §6: an error writing the report
# (stdout) is reported on stderr in one line and exits 3, instead of a lost report and
# exit 0; a reader that went away (EPIPE, SIGPIPE ignored) ends the report quietly with
# the command's own exit code. The top-level --help and --version, and a warning on
# stderr, count too. Faults injected by strace at the exact write (-P: only
# writes to the report file count).
set -euo pipefail
CTLVERIFY=$1 CTLSIGN=$2 V=$3 W=$4
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# expect_io_error NAME ERRNO CMD...: the report's first write fails with ERRNO
expect_io_error() {
  local name=$1 e=$2 rc=0; shift 2
  strace -f -qq -o "$W/trace" -P "$W/out" -e trace=write -e inject=write:error="$e":when=1 \
    "$@" >"$W/out" 2>"$W/err" || rc=$?
  grep -q INJECTED "$W/trace" || { bad "$name: nothing injected"; return; }
  [ "$rc" = 3 ] || bad "$name: $e on stdout: exit $rc, expected 3"
  [ "$(grep -c . "$W/err")" = 1 ] || bad "$name: expected one line on stderr, got: $(cat "$W/err")"
  grep -q "cannot write to standard output" "$W/err" || bad "$name: message: $(cat "$W/err")"
}
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[-1]^=1; open(sys.argv[2],"wb").write(b)' "$V/CTLFile.tlv" "$W/bad.tlv"
rc=0; "$CTLVERIFY" check "$W/bad.tlv" >/dev/null 2>&1 || rc=$?
[ "$rc" = 5 ] || bad "the damaged CTL: check exit $rc, expected 5"
expect_io_error "ctlverify show" EIO "$CTLVERIFY" show "$V/CTLFile.tlv"
expect_io_error "ctlverify show --json" ENOSPC "$CTLVERIFY" show --json "$V/CTLFile.tlv"
CTLSIGN_AUDIT_LOG=$W/audit.log "$CTLSIGN" audit >/dev/null 2>&1 || true
expect_io_error "ctlsign --help" EIO "$CTLSIGN" sign --help
# a full disk, without strace
rc=0
"$CTLVERIFY" show "$V/CTLFile.tlv" >/dev/full 2>"$W/err" || rc=$?
[ "$rc" = 3 ] || bad "/dev/full: exit $rc"

# The top-level --help and --version are reports too
for c in "$CTLVERIFY --help" "$CTLSIGN --help" "$CTLSIGN --version" "$CTLVERIFY --version"; do
  rc=0; $c >/dev/full 2>"$W/err" || rc=$?
  [ "$rc" = 3 ] || bad "'$c' onto a full disk: exit $rc, expected 3"
  grep -q "cannot write to standard output" "$W/err" || bad "'$c': message: $(cat "$W/err")"
done

# stderr: a warning of a successful run that cannot be written is an I/O error too
rc=0
strace -f -qq -o "$W/trace" -P "$W/err" -e trace=write -e inject=write:error=EIO:when=1 \
  "$CTLVERIFY" install --store "$W/store" "$V/CTLFile.tlv" >"$W/out" 2>"$W/err" || rc=$?
grep -q INJECTED "$W/trace" || bad "stderr: nothing injected"
[ "$rc" = 3 ] || bad "stderr: the TOFU warning was lost and the exit is $rc, expected 3"

# EPIPE: the reader is gone before the first write (the read end is closed), with
# SIGPIPE at its default for the child: the report ends quietly with the command's own
# code, not a kill by SIGPIPE and not an I/O error.
epipe() { # NAME WANT CMD...
  /usr/bin/python3 - "$W/err" "$@" <<'PY' || bad "EPIPE: $1"
import os, subprocess, sys
err, name, want, cmd = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
r, w = os.pipe()
os.close(r)
with open(err, "wb") as e:
    rc = subprocess.run(cmd, stdout=w, stderr=e, restore_signals=True).returncode
os.close(w)
msg = open(err, "rb").read().decode(errors="replace").strip()
ok = rc == want and (msg == "" or "cannot write" not in msg)
if not ok:
    print("FAIL: EPIPE %s: exit %d (want %d), stderr: %s" % (name, rc, want, msg))
sys.exit(0 if ok else 1)
PY
}
epipe "ctlverify show" 0 "$CTLVERIFY" show --json "$V/CTLFile.tlv"
epipe "ctlverify check (a bad signature)" 5 "$CTLVERIFY" check "$W/bad.tlv"
epipe "ctlsign --help" 0 "$CTLSIGN" --help
epipe "ctlsign sign --help" 0 "$CTLSIGN" sign --help

finish "output error"

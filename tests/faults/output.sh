#!/usr/bin/env bash
# output.sh CTLVERIFY CTLSIGN VECTORS WORKDIR - issue 15 §6: an error writing the report
# (stdout) is reported on stderr in one line and exits 3, instead of a lost report and
# exit 0; a reader that went away (EPIPE, SIGPIPE ignored) ends the report quietly with
# the command's own exit code. Faults injected by strace at the exact write (-P: only
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
expect_io_error "ctlverify show" EIO "$CTLVERIFY" show "$V/CTLFile.tlv"
expect_io_error "ctlverify show --json" ENOSPC "$CTLVERIFY" show --json "$V/CTLFile.tlv"
CTLSIGN_AUDIT_LOG=$W/audit.log "$CTLSIGN" audit >/dev/null 2>&1 || true
expect_io_error "ctlsign --help" EIO "$CTLSIGN" sign --help
# a full disk, without strace
rc=0
"$CTLVERIFY" show "$V/CTLFile.tlv" >/dev/full 2>"$W/err" || rc=$?
[ "$rc" = 3 ] || bad "/dev/full: exit $rc"

# EPIPE: the reader is gone and SIGPIPE is ignored (inherited): quiet, the command's code
rc=0
( trap '' PIPE; exec "$CTLVERIFY" show --json "$V/CTLFile.tlv" 2>"$W/err" ) | true || rc=$?
rc=${PIPESTATUS[0]:-$rc}
[ "$rc" = 0 ] || bad "EPIPE: exit $rc, expected the command's own 0"
[ ! -s "$W/err" ] || bad "EPIPE: not quiet: $(cat "$W/err")"

finish "output error"

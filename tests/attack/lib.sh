# lib.sh - helpers for the attack cases (sourced by run.sh; W, SRC, V, CTLSIGN,
# CTLVERIFY, MKFIXTURE are set).
fail() { echo "FAIL: $*" >&2; exit 1; }

# run WANT_RC CMD...: stdout in $W/out, stderr in $W/err; the exit code must be WANT_RC.
run() {
  local want=$1 rc=0
  shift
  "$@" >"$W/out" 2>"$W/err" </dev/null || rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "--- stdout" >&2; cat "$W/out" >&2
    echo "--- stderr" >&2; cat "$W/err" >&2
    fail "expected exit $want, got $rc: $*"
  fi
}
out_has() { grep -qF -- "$1" "$W/out" || { cat "$W/out" >&2; fail "stdout lacks '$1'"; }; }
err_has() { grep -qF -- "$1" "$W/err" || { cat "$W/err" >&2; fail "stderr lacks '$1'"; }; }
out_lacks() { ! grep -qF -- "$1" "$W/out" || { cat "$W/out" >&2; fail "stdout has '$1'"; }; }
need_ctlsign() { [ -n "$CTLSIGN" ] || { echo "SKIP: ctlsign is not built"; exit 77; }; }
sha256() { sha256sum "$1" | cut -d' ' -f1; }

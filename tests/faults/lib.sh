# lib.sh - sourced by the tests/faults/*.sh regression tests after they set W (their work
# directory): skips (77) where strace cannot trace, starts W afresh, and gives bad() (one
# failure, counted) and finish() (the summary line and the exit code).
if ! strace -o /dev/null true 2>/dev/null; then
  echo "SKIP: strace cannot trace processes here"
  exit 77
fi
rm -rf "$W"; mkdir -p "$W"
# a process killed or failed on purpose leaves what LeakSanitizer would report
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
# finish WHAT: "N failure(s)" and exit 1, or "all WHAT checks passed"
finish() {
  if [ "$fails" -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
  echo "all $1 checks passed"
}

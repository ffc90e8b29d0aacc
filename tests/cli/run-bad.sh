#!/usr/bin/env bash
# run-bad.sh CTLVERIFY FILE.bin - a hostile file must give a clean one-line error.
# FILE.expect holds "exit: N" and "message: SUBSTRING". `check` must exit N with the
# message on its single output line; `show` must exit N too when the file does not
# parse (4, 7), or show it (exit 0) when only its signature/signer is wrong.
set -u
prog=$1 bin=$2
expect=${bin%.bin}.expect
want=$(sed -n 's/^exit: *//p' "$expect")
msg=$(sed -n 's/^message: *//p' "$expect")
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
say() { echo "FAIL ($(basename "$bin")): $*"; fail=1; }

timeout 60 "$prog" check "$bin" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ "$rc" = "$want" ] || say "check: exit $rc, expected $want"
grep -qF -- "$msg" "$tmp/out" || say "check: output lacks: $msg"
[ "$(wc -l <"$tmp/out")" -eq 1 ] || say "check: not exactly one line"
grep -q '^invalid: ' "$tmp/out" || say "check: no 'invalid:' line"
grep -qE 'AddressSanitizer|runtime error:|LeakSanitizer' "$tmp/err" && say "check: sanitizer report"
cat "$tmp/out" "$tmp/err"

timeout 60 "$prog" show "$bin" >"$tmp/sout" 2>"$tmp/serr"; src=$?
if [ "$want" = 4 ] || [ "$want" = 7 ]; then
  [ "$src" = "$want" ] || say "show: exit $src, expected $want"
  grep -qF -- "$msg" "$tmp/serr" || say "show: stderr lacks: $msg"
  [ "$(wc -l <"$tmp/serr")" -eq 1 ] || say "show: error is not one line"
else
  [ "$src" = 0 ] || say "show: exit $src, expected 0"
fi
grep -qE 'AddressSanitizer|runtime error:|LeakSanitizer' "$tmp/serr" && say "show: sanitizer report"
[ $fail -eq 0 ] || { echo "--- show stderr:"; head -c 2000 "$tmp/serr"; }
exit $fail

#!/usr/bin/env bash
# run-case.sh CTLVERIFY DATA_DIR CASE - runs one command-line case.
# A case file has lines "key: value":
#   args:   the ctlverify arguments (split on spaces; run from DATA_DIR, so paths are
#           relative to tests/data)
#   exit:   the expected exit code
#   stdout: a substring stdout must contain (any number of these lines)
#   stderr: a substring stderr must contain (any number)
#   absent: a substring neither may contain (any number)
# Lines starting with '#' are comments.
set -u
prog=$1 data=$2 case=$3
args=() exit_want='' outs=() errs=() absents=()
while IFS= read -r line || [ -n "$line" ]; do
  case $line in
    '#'*|'') continue ;;
    args:*) read -ra args <<<"${line#args:}" ;;
    exit:*) exit_want=$(echo ${line#exit:}) ;;
    stdout:*) v=${line#stdout:}; outs+=("${v# }") ;;
    stderr:*) v=${line#stderr:}; errs+=("${v# }") ;;
    absent:*) v=${line#absent:}; absents+=("${v# }") ;;
    *) echo "$case: bad line: $line" >&2; exit 1 ;;
  esac
done <"$case"
[ -n "$exit_want" ] || { echo "$case: no 'exit:' line" >&2; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
(cd "$data" && timeout 120 "$prog" "${args[@]}") >"$tmp/out" 2>"$tmp/err"
rc=$?
fail=0
say() { echo "FAIL ($(basename "$case")): $*"; fail=1; }
[ "$rc" = "$exit_want" ] || say "exit code $rc, expected $exit_want"
for s in "${outs[@]+"${outs[@]}"}"; do grep -qF -- "$s" "$tmp/out" || say "stdout lacks: $s"; done
for s in "${errs[@]+"${errs[@]}"}"; do grep -qF -- "$s" "$tmp/err" || say "stderr lacks: $s"; done
for s in "${absents[@]+"${absents[@]}"}"; do
  ! grep -qF -- "$s" "$tmp/out" "$tmp/err" || say "output contains: $s"
done
if grep -qE 'AddressSanitizer|runtime error:|LeakSanitizer' "$tmp/err"; then say "sanitizer report"; fi
if [ $fail -ne 0 ]; then
  echo "--- command: ctlverify ${args[*]}"; echo "--- stdout:"; head -c 4000 "$tmp/out"
  echo "--- stderr:"; head -c 4000 "$tmp/err"
fi
exit $fail

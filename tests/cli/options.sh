#!/usr/bin/env bash
# tests/cli/options.sh PROG... - every command takes only the options it declares
# (issue 14 §3). For each command of each program (walked from --help like man.sh and
# the completion test walk them):
#   - an unknown option exits 2 with the one line "CMD: option '--x' is not known; see
#     'PROG CMD --help'" on stderr, nothing on stdout;
#   - every --option that another command's --help lists, and this command's does not,
#     is refused the same way (`ctlsign itl create --prune`, `ctlverify show --store x`).
# Each probe is "PROG CMD --opt=x --help": an option the command wrongly accepts ends in
# its help (exit 0) and never runs anything.
set -euo pipefail
fail() { echo "options: FAIL: $*" >&2; exit 1; }
[ $# -ge 1 ] || fail "usage: options.sh PROG..."

# Commands to leave out (comma-separated "prog command" prefixes), for trying a change by
# hand; every command declares its options as tables, so none by default.
SKIP=${CTL_OPTIONS_SKIP-}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CTLSIGN_STATE_DIR=$work/state CTLSIGN_AUDIT_LOG=$work/audit.log
export CTLSIGN_PKCS11_MODULE=$work/no-such-module.so

subcommands() { # like man.sh: the words under "commands:"
  awk '/^usage:/ {next} /^(commands:|  [a-z][a-z-]+  +[A-Za-z(])/ { if ($1 != "commands:") print $1 }' <<<"$1"
}
options_of() { grep -oE -- '--[a-z][a-z0-9-]*' <<<"$1" | sort -u | grep -vx -- --help || true; }

leaves=() # "prog words..." of the commands that take options
declare -A optsof=()
walk() {
  local help sub subs
  help=$("$@" --help 2>&1) || fail "'$* --help' failed"
  subs=$(subcommands "$help")
  if [ -z "$subs" ]; then
    leaves+=("$*")
    optsof["$*"]=$(options_of "$help")
    return
  fi
  for sub in $subs; do walk "$@" "$sub"; done
}
for prog in "$@"; do walk "$(readlink -f "$prog")"; done
[ ${#leaves[@]} -ge 10 ] || fail "only ${#leaves[@]} commands found"

all=$(for l in "${leaves[@]}"; do echo "${optsof[$l]}"; done | sort -u)
probe() { # leaf option: must be refused as unknown
  local leaf=$1 opt=$2 name=${1#* } out rc=0
  out=$(cd "$work" && timeout 30 $leaf "$opt=x" --help 2>"$work/err") || rc=$?
  [ "$rc" = 2 ] || fail "'${leaf##*/} $opt=x' exits $rc, not 2 (the option is not ${name}'s)"
  [ -z "$out" ] || fail "'${leaf##*/} $opt=x' printed on stdout: $out"
  [ "$(wc -l <"$work/err")" = 1 ] || fail "'${leaf##*/} $opt=x': not one line: $(cat "$work/err")"
  local cmd=${name##* } prog=${leaf%% *}
  local want
  want="$cmd: option '$opt' is not known; see '$(basename "$prog") $name --help'"
  grep -qF -- "$want" "$work/err" || fail "'${leaf##*/} $opt=x' says: $(cat "$work/err") (want: $want)"
}

checked=0 refused=0
for leaf in "${leaves[@]}"; do
  skip=0
  IFS=, read -ra skips <<<"$SKIP"
  for s in "${skips[@]+"${skips[@]}"}"; do
    case "$(basename "${leaf%% *}") ${leaf#* } " in "$s "*) skip=1 ;; esac
  done
  [ $skip = 0 ] || continue
  [ -z "${OPTIONS_DEBUG-}" ] || echo "checking: $leaf" >&2
  probe "$leaf" --no-such-option
  checked=$((checked + 1))
  for opt in $all; do
    # its own, or an abbreviation of one of its own (getopt_long takes unique prefixes:
    # strip's --output answers to --out)
    grep -q -- "^$opt" <<<"${optsof[$leaf]}" && continue
    probe "$leaf" "$opt"
    refused=$((refused + 1))
  done
done
[ $checked -ge 10 ] || fail "only $checked commands checked"
[ $refused -ge 50 ] || fail "only $refused foreign options tried"
echo "options: $checked commands, $refused options of other commands refused"

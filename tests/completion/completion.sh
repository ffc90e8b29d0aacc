#!/usr/bin/env bash
# tests/completion/completion.sh COMPLETION-SCRIPT CTLVERIFY [CTLSIGN]
# The completion offers, for every command and subcommand, every --option that
# command's --help prints, the subcommands at each level, and for option arguments
# what the help says they are (directories, files, fixed words).
set -euo pipefail
script=$(realpath "$1") CTLVERIFY=$(realpath "$2") CTLSIGN=${3:+$(realpath "$3")}
fail() { echo "completion: FAIL: $*" >&2; exit 1; }
# shellcheck disable=SC1090
source "$script"
complete -p ctlsign ctlverify >/dev/null || fail "$script registers no completion for ctlsign and ctlverify"

W=$(mktemp -d "${TMPDIR:-/tmp}/ctl-completion.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"
mkdir flashdir
: >cluster.ini

comp() { # words... (the last is the one being completed) -> candidates, one per line
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMP_LINE="$*" COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _ctltools_complete "$1" "${!#}" "${COMP_WORDS[COMP_CWORD - 1]}"
  if [ ${#COMPREPLY[@]} -gt 0 ]; then printf '%s\n' "${COMPREPLY[@]}"; fi
}
offers() { # "what" expected-word words...
  local what=$1 want=$2 got; shift 2
  got=$(comp "$@")
  grep -qxF -- "$want" <<<"$got" ||
    fail "'${*##*/} <TAB>' does not offer $want ($what); it offers: $(tr '\n' ' ' <<<"$got")"
}
lacks() {
  local what=$1 no=$2 got; shift 2
  got=$(comp "$@")
  if grep -qxF -- "$no" <<<"$got"; then fail "'${*##*/} <TAB>' offers $no ($what)"; fi
}

checked=0
walk() { # prog words... : every --option of "prog words... --help", then each subcommand
  local help opt sub
  help=$("$@" --help 2>&1) || fail "'$* --help' failed"
  for opt in $(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$help" | sort -u); do
    [ "$opt" = --help ] && continue
    offers "printed by '${*##*/} --help'" "$opt" "$@" --
    checked=$((checked + 1))
  done
  for sub in $(comp "$@" ""); do
    case $sub in -*) continue ;; esac
    [ -e "$sub" ] && continue  # a file operand, not a subcommand
    walk "$@" "$sub"
  done
}

# Subcommands (at least these; new ones come from --help by themselves).
for c in show check install config decrypt status boot tls; do
  offers "a ctlverify command" "$c" "$CTLVERIFY" ""
done
offers "prefix" install "$CTLVERIFY" in
lacks "prefix" show "$CTLVERIFY" in
walk "$CTLVERIFY"
# Option arguments by kind.
offers "--store takes a directory" flashdir "$CTLVERIFY" install --store ""
lacks "--store takes a directory" cluster.ini "$CTLVERIFY" install --store ""
offers "--cert takes a file" cluster.ini "$CTLVERIFY" check --cert ""
offers "the FILE operand" cluster.ini "$CTLVERIFY" show ""
lacks "--mac takes no file" cluster.ini "$CTLVERIFY" boot --mac ""

if [ -n "$CTLSIGN" ]; then
  for c in token ctl audit sign encrypt; do offers "a ctlsign command" "$c" "$CTLSIGN" ""; done
  for c in list passwd provision sign wait; do offers "a token command" "$c" "$CTLSIGN" token ""; done
  for c in create update delete-token diff show; do offers "a ctl command" "$c" "$CTLSIGN" ctl ""; done
  walk "$CTLSIGN"
  offers "--cluster takes a file" cluster.ini "$CTLSIGN" ctl create --cluster ""
  offers "--dir takes a directory" flashdir "$CTLSIGN" sign --dir ""
  lacks "--dir takes a directory" cluster.ini "$CTLSIGN" sign --dir ""
  offers "--digest" sha256 "$CTLSIGN" sign --digest ""
  offers "--hash sha1|sha256|sha512" sha1 "$CTLSIGN" token sign --hash ""
  offers "--mode" non-secure "$CTLSIGN" ctl update --mode ""
  offers "options after an option's argument" --yes "$CTLSIGN" ctl create --cluster cluster.ini --
fi
[ "$checked" -gt 20 ] || fail "only $checked options checked: the walk over --help found too little"
echo "completion: ok ($checked options of every command's --help offered)"

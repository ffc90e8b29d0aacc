#!/usr/bin/env bash
# tests/cli/man.sh MANDIR CTLVERIFY [CTLSIGN] - the manual pages against the programs:
# ctlverify(1) and ctlsign(1) name every subcommand and every --option that each
# command's --help prints (walked like the completion test walks them), the sections an
# officer looks for are there, and groff renders both pages without a warning.
set -euo pipefail
MAN=$1 CTLVERIFY=$2 CTLSIGN=${3:-}
fail() { echo "man: FAIL: $*" >&2; exit 1; }
command -v groff >/dev/null || fail "groff is missing (Debian package groff-base)"

checked=0 missing=""
# The page's text with roff escapes undone: "\-\-cluster" -> "--cluster", fonts dropped.
page_text() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(dq/"/g' "$1"; }
mentions() { # page-text word: the word stands alone (not part of a longer option)
  grep -qE -- "(^|[^a-z0-9-])$(sed 's/[+.]/\\&/g' <<<"$2")([^a-z0-9-]|$)" <<<"$1"
}
subcommands() { # help text: the words listed under "commands:" or as "  NAME  text" lines
  awk '/^usage:/ {next} /^(commands:|  [a-z][a-z-]+  +[A-Za-z(])/ { if ($1 != "commands:") print $1 }' <<<"$1"
}
walk() { # page-text prog words...
  local text=$1 help opt sub; shift
  help=$("$@" --help 2>&1) || fail "'${*##*/} --help' failed"
  for opt in $(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$help" | sort -u); do
    [ "$opt" = --help ] && continue
    mentions "$text" "$opt" ||
      missing+="$(basename "$1")(1) does not mention $opt, which '${*##*/} --help' prints"$'\n'
    checked=$((checked + 1))
  done
  # subcommands only at the levels that list them (a leaf's help has options only)
  for sub in $(subcommands "$help"); do
    mentions "$text" "$sub" ||
      missing+="$(basename "$1")(1) does not mention the command '$sub' ('${*##*/} --help')"$'\n'
    walk "$text" "$@" "$sub"
  done
}

for prog in "$CTLVERIFY" $CTLSIGN; do
  name=$(basename "$prog")
  page=$MAN/$name.1
  [ -f "$page" ] || fail "no manual page $page"
  # groff: no warning at all (-ww), UTF-8 output
  warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || fail "groff failed on $page: $warn"
  [ -z "$warn" ] || fail "groff warns on $page: $warn"
  if command -v man >/dev/null; then
    out=$(MANWIDTH=80 man -l "$page" 2>&1 >/dev/null) || fail "man -l $page failed: $out"
    [ -z "$out" ] || fail "man -l $page warns: $out"
  fi
  text=$(page_text "$page")
  for sec in NAME SYNOPSIS DESCRIPTION FILES "EXIT STATUS" ENVIRONMENT EXAMPLES; do
    grep -q "^\.SH \"\\?$sec" "$page" || fail "$name(1) has no $sec section"
  done
  walk "$text" "$prog"
done
[ -z "$missing" ] || fail "$(printf '%s' "$missing" | sed -n '1p') (and $(($(grep -c . <<<"$missing") - 1)) more):"$'\n'"$missing"
if [ -n "$CTLSIGN" ]; then
  text=$(page_text "$MAN/ctlsign.1")
  # what the officer must find (issue 13, §3)
  for w in "[cluster]" "[server" "[tftp" "[firewall" "mode" "digest" "output" "role" "host" \
           "cert" "ip" "tvs" "app-server" "CTLFile.tlv.bak" ".ctlsign.lock" "published.json" \
           "audit.log" "CTLSIGN_STATE_DIR" "CTLSIGN_AUDIT_LOG" "CTLSIGN_PKCS11_MODULE" \
           "itl create" "relative" "--force"; do
    grep -qF -- "$w" <<<"$text" || fail "ctlsign(1) does not mention $w"
  done
  for code in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do
    grep -A1 -x '\.TP' "$MAN/ctlsign.1" | grep -qx "\.B $code" || fail "ctlsign(1) EXIT STATUS lacks $code"
  done
  # the SYNOPSIS of ctl delete-token names --cluster (it is required)
  sed -n '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/p' "$MAN/ctlsign.1" | sed 's/\\-/-/g' |
    awk '/^\.B ctlsign ctl delete-token/ {on=1} on && /^\.br/ {exit} on' | grep -q -- '--cluster' ||
    fail "ctlsign(1)'s SYNOPSIS of ctl delete-token lacks --cluster"
fi
echo "man: $checked options found in the manual pages"

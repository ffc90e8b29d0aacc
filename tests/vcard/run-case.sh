#!/usr/bin/env bash
# run-case.sh CASE.sh STATE_DIR [CTLSIGN] - runs one vcard test case against a fresh
# stack (pcscd + vpcd + virtual OpenPGP card, provisioned through PKCS#11).
# The stack is machine-wide (pcscd owns /run/pcscd, vpcd one port), so cases are
# serialised with a lock; everything started here is stopped on exit.
# Exit 77 (CTest SKIP) only when the vpcd driver cannot be loaded on this machine.
set -euo pipefail
case_file=$1
export VCARD_DIR=$2
export CTLSIGN=${3:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
stack=$root/scripts/vcard-stack
driver=/usr/lib/pcsc/drivers/serial/libifdvpcd.so

if [ ! -e "$driver" ] || ! command -v pcscd >/dev/null; then
  echo "SKIP: the vpcd reader driver ($driver) or pcscd is not installed: scripts/deps installs them"
  exit 77
fi

exec 9>"${TMPDIR:-/tmp}/ctltools-vcard.lock"
flock -w 110 9 || { echo "FAIL: another vcard stack holds the lock for 110 s"; exit 1; }

# A run killed before its trap (ctest timeout with SIGKILL) may have left a stack in a
# sibling state directory: stop it (by its recorded PIDs) or it would hold vpcd's port.
for old in "$(dirname "$VCARD_DIR")"/state-*; do
  [ -d "$old" ] && "$stack" --dir "$old" stop
done
rm -rf "$VCARD_DIR"
mkdir -p "$VCARD_DIR"
# A card provisioned once (test vcard_provision) is copied: its key was made on the card.
if [ -n "${VCARD_TEMPLATE:-}" ]; then
  [ -s "$VCARD_TEMPLATE/card.json" ] || { echo "FAIL: no provisioned card in $VCARD_TEMPLATE"; exit 1; }
  cp "$VCARD_TEMPLATE/card.json" "$VCARD_TEMPLATE/card.crt" "$VCARD_DIR/"
fi
trap '"$stack" stop || true' EXIT
trap 'exit 143' TERM INT HUP
"$stack" start
"$stack" provision >/dev/null

# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck disable=SC1090
. "$case_file"
echo "PASS: $(basename "$case_file" .sh)"

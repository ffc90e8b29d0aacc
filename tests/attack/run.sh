#!/usr/bin/env bash
# run.sh CASE WORK CTLVERIFY MKFIXTURE [CTLSIGN] - runs one attack case in a fresh WORK
# directory (also the current directory). ctlsign's state directory and audit log are
# inside WORK, never the user's. The case sources lib.sh's helpers and ends with "ok".
set -euo pipefail
CASE=$1
W=$2
CTLVERIFY=$3
MKFIXTURE=$4
CTLSIGN=${5:-}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
V=$SRC/tests/data/vectors
rm -rf "$W"
mkdir -p "$W"
cd "$W"
export CTLSIGN_STATE_DIR=$W/state
unset CTLSIGN_AUDIT_LOG
# shellcheck source=lib.sh
. "$SRC/tests/attack/lib.sh"
# shellcheck disable=SC1090
. "$CASE"
echo "attack $(basename "$CASE" .sh): refused as it must be"

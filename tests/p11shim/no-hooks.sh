#!/usr/bin/env bash
# no-hooks.sh CTLSIGN - the signing binary reads no test hook: faults are injected from
# outside (tests/p11shim, strace). No CTLSIGN_TEST_ or P11SHIM_ string in it; the control
# is a variable it does read (CTLSIGN_PKCS11_MODULE), so the check would see such names.
set -euo pipefail
bin=$1
s=$(strings "$bin")
grep -q '^CTLSIGN_PKCS11_MODULE$' <<<"$s" ||
  { echo "FAIL: control: strings finds no CTLSIGN_PKCS11_MODULE in $bin: the check sees nothing"; exit 1; }
hooks=$(grep -E 'CTLSIGN_TEST_|P11SHIM_' <<<"$s" || true)
[ -z "$hooks" ] || { echo "FAIL: $bin holds test hook names: $(echo $hooks)"; exit 1; }
echo "ok: no test hook names in $bin"

#!/usr/bin/env bash
# demo-device.sh SCRIPT BUILD - runs scripts/demo-device (self-contained mode) and checks
# that the story it tells is the right one.
set -uo pipefail
export DEMO_DEVICE_WORK=$2/tests/verify/work/demo-device
log=$2/tests/verify/work/demo-device.log
mkdir -p "$(dirname "$log")"
"$1" "$2" >"$log" 2>&1 || { cat "$log"; echo "FAIL: demo-device exited $?" >&2; exit 1; }
cat "$log"
for want in 'CTLFile.tlv: accepted CTL \(first CTL, TRUSTED ON FIRST USE\)' \
            'SEP001122334455.cnf.xml.enc.sgn: accepted ENC-SGN' \
            'CTLFile.tlv: unchanged CTL' \
            'CTLFile.tlv: REJECTED \(signer\), signer O=Rogue' \
            'SEP001122334455.cnf.xml.sgn: REJECTED \(signer\)' \
            'CTLFile.tlv: failed \(network\)' \
            'accepted \(matches a CCM\+TFTP record of the held CTL\)' \
            'is not in the held CTL; not trusted' \
            'does not connect at all'; do
  grep -Eq -- "$want" "$log" || { echo "FAIL: demo output lacks /$want/" >&2; exit 1; }
done
echo "ok: demo-device told the right story"

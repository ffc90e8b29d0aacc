#!/usr/bin/env bash
# ctl-dumpable.sh CTLSIGN SRCDIR WORKDIR - ctlsign holds PINs (logged in to both tokens,
# paused right before the signature) in a process that is not dumpable: no core dump, no
# ptrace or /proc/PID/mem for other processes of the officer's user.
#
# How it is seen from outside: the kernel gives the /proc/PID/ entries of a non-dumpable
# process to root (the root of its user namespace) instead of the process's own user. As
# root that difference does not show, so when run as root ctlsign runs as nobody (setpriv)
# and /proc/PID/status must then belong to root, not to nobody. A control run of a plain
# process under the same user shows its /proc entry as its own, so the check is not
# vacuous. The pause is the test PKCS#11 shim's (tests/p11shim, in front of SoftHSM): its
# first C_SignInit opens the FIFO of P11SHIM_PAUSE_FIFO and waits for a byte; our
# non-blocking open for writing succeeds only then.
set -euo pipefail
CTLSIGN=$1 SRC=$2 W=$3
rm -rf "$W"
mkdir -p "$W"
. "$SRC/tests/ctl/softhsm-lib.sh"
softhsm_init "$W/hsm"
softhsm_token A 'pin-A-1234'
softhsm_token B 'pin-B-1234'
export PIN_A='pin-A-1234' PIN_B='pin-B-1234'
export CTLSIGN_STATE_DIR="$W/state" CTLSIGN_AUDIT_LOG="$W/audit.log"
cp -r "$SRC/examples/demo-cluster" "$W/cluster"
mkdir -p "$W/cluster/tftp" "$W/cluster/tftp-backup" "$W/state"
mkfifo "$W/pause"
[ -f "${CTL_P11SHIM:-}" ] || { echo "FAIL: CTL_P11SHIM (the test PKCS#11 shim) is not set"; exit 1; }

as=()
if [ "$(id -u)" = 0 ]; then
  command -v setpriv >/dev/null || { echo "SKIP: running as root and no setpriv to drop to nobody"; exit 77; }
  chown -R 65534:65534 "$W"
  as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi

# Control: a process of that user that did not ask to be non-dumpable owns its /proc entry.
ctrl=$("${as[@]}" sh -c 'echo "$(stat -c %u /proc/$$/status) $(id -u)"')
set -- $ctrl
[ "$1" = "$2" ] && [ "$2" != 0 ] ||
  { echo "FAIL: control: a dumpable process of uid $2 does not own its /proc entry (owner $1)"; exit 1; }

P11SHIM_MODULE=$SOFTHSM_MODULE P11SHIM_PAUSE_FIFO="$W/pause" "${as[@]}" "$CTLSIGN" ctl create \
  --cluster "$W/cluster/cluster.ini" --module "$CTL_P11SHIM" --yes \
  --token pkcs11:token=A --pin env:PIN_A --token pkcs11:token=B --pin env:PIN_B \
  </dev/null >"$W/out" 2>"$W/err" &
pid=$!

rc=0
python3 - "$W/pause" "$pid" <<'PY' || rc=$?
import errno, os, sys, time
fifo, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 120
while True:
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        break
    except OSError as e:
        if e.errno != errno.ENXIO:
            raise
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        state = "Z"
    if state in ("Z", "X"):
        sys.exit("FAIL: ctlsign ended before it reached the pause before the signature")
    if time.monotonic() > deadline:
        sys.exit("FAIL: ctlsign did not reach the pause before the signature in 120 s")
    time.sleep(0.02)
# ctlsign is logged in to both tokens (PINs read) and waits on the FIFO.
uid = None
for line in open(f"/proc/{pid}/status"):
    if line.startswith("Uid:"):
        uid = int(line.split()[2])  # effective uid
owner = os.stat(f"/proc/{pid}/status").st_uid
os.write(fd, b"g")
os.close(fd)
if uid is None or uid == 0:
    sys.exit(f"FAIL: ctlsign runs as uid {uid}; the check needs a non-root uid")
if owner == uid:
    sys.exit(f"FAIL: /proc/{pid} of ctlsign holding PINs belongs to its own uid {uid}: it is dumpable")
print(f"ok: ctlsign (uid {uid}) holding PINs: /proc/{pid} belongs to uid {owner} (not dumpable)")
PY
wrc=0
wait "$pid" || wrc=$?
if [ "$rc" != 0 ]; then
  sed 's/^/  | /' "$W/err"
  exit 1
fi
if [ "$wrc" != 0 ]; then
  echo "FAIL: ctl create after the pause: exit $wrc"
  sed 's/^/  | /' "$W/err" "$W/out"
  exit 1
fi
[ -s "$W/cluster/tftp/CTLFile.tlv" ] || { echo "FAIL: no CTL written after the pause"; exit 1; }
echo ok

# PIN prompts on a terminal (a pty played by tests/ctl/pty-driver.py): no echo, new PIN asked twice.
. "$(dirname "$0")/lib.sh"
DRIVER=$SRC/tests/ctl/pty-driver.py
[ -f "$DRIVER" ] || fail "$DRIVER is missing"

# A terminal played by pty-driver: each PIN is typed only once its prompt is on the
# screen (the prompt appears after echo is off), never after a fixed time.
cat >"$WORK/mismatch.txt" <<EOF
start token passwd --token pkcs11:token=SAST1
expect current PIN for token 'SAST1'
send $FACTORY
expect new PIN
send First-Try-1
expect new PIN again
send Other-Try-2
expect the two new PINs differ
exit 2
absent $FACTORY
absent First-Try-1
absent Other-Try-2
EOF
python3 "$DRIVER" "$WORK/mismatch.txt" -- "$CTLSIGN" >"$WORK/tty1" 2>&1 ||
	{ cat "$WORK/tty1" >&2; fail "mismatched new PINs on a terminal"; }

cat >"$WORK/passwd.txt" <<EOF
start token passwd --token pkcs11:token=SAST1
expect current PIN for token 'SAST1'
send $FACTORY
expect new PIN
send $NEWPIN
expect new PIN again
send $NEWPIN
expect PIN changed
exit 0
absent $FACTORY
absent $NEWPIN
EOF
python3 "$DRIVER" "$WORK/passwd.txt" -- "$CTLSIGN" >"$WORK/tty2" 2>&1 ||
	{ cat "$WORK/tty2" >&2; fail "passwd on a terminal failed"; }
pkcs11-tool --module "$MOD" --token-label SAST1 --login --pin "$NEWPIN" --list-objects >/dev/null 2>&1 ||
	fail "the PIN typed on the terminal was not set"

# The URI's module-path picks the module when there is no --module.
run 0 env -u CTLSIGN_PKCS11_MODULE "$CTLSIGN" token list --token "pkcs11:token=SAST1?module-path=$MOD"
out_has "token 'SAST1'"
echo ok

# PIN prompts on a terminal (a pty played by tests/ctl/pty-driver.py): no echo, new PIN asked twice.
. "$(dirname "$0")/lib.sh"
DRIVER=$SRC/tests/ctl/pty-driver.py
[ -f "$DRIVER" ] || fail "$DRIVER is missing"

# A terminal played by pty-driver: each PIN is typed only once its prompt is on the
# screen (the prompt appears after echo is off), never after a fixed time.
# A confirmation that differs asks again, three times in all, then gives up: exit 12
# (cancelled), nothing changed. Every prompt names the token.
cat >"$WORK/mismatch.txt" <<EOF
start token passwd --token pkcs11:token=SAST1
expect current PIN for token 'SAST1'
send $FACTORY
expect new PIN for token 'SAST1': 
send First-Try-1
expect new PIN for token 'SAST1' again
send Other-Try-2
expect the two new PINs for token 'SAST1' differ; try again (2 of 3)
expect new PIN for token 'SAST1': 
send First-Try-1
expect new PIN for token 'SAST1' again
send Other-Try-3
expect try again (3 of 3)
expect new PIN for token 'SAST1': 
send First-Try-1
expect new PIN for token 'SAST1' again
send Other-Try-4
expect the two new PINs for token 'SAST1' differed 3 times; nothing changed
exit 12
absent $FACTORY
absent First-Try-1
absent Other-Try-2
EOF
python3 "$DRIVER" "$WORK/mismatch.txt" -- "$CTLSIGN" >"$WORK/tty1" 2>&1 ||
	{ cat "$WORK/tty1" >&2; fail "mismatched new PINs on a terminal"; }
pkcs11-tool --module "$MOD" --token-label SAST1 --login --pin "$FACTORY" --list-objects >/dev/null 2>&1 ||
	fail "three mismatched confirmations changed the PIN"

# A trivial PIN typed at the prompt is refused with the reason and asked again; then a
# mismatch; then the third attempt takes.
cat >"$WORK/passwd.txt" <<EOF
start token passwd --token pkcs11:token=SAST1
expect current PIN for token 'SAST1'
send $FACTORY
expect new PIN for token 'SAST1': 
send 12345678
expect the new PIN for token 'SAST1' is too easy to guess (an ascending run)
expect try again (2 of 3)
expect new PIN for token 'SAST1': 
send $NEWPIN
expect new PIN for token 'SAST1' again
send Not-The-Same-1
expect try again (3 of 3)
expect new PIN for token 'SAST1': 
send $NEWPIN
expect new PIN for token 'SAST1' again
send $NEWPIN
expect PIN changed
exit 0
absent $FACTORY
absent $NEWPIN
absent 12345678
EOF
python3 "$DRIVER" "$WORK/passwd.txt" -- "$CTLSIGN" >"$WORK/tty2" 2>&1 ||
	{ cat "$WORK/tty2" >&2; fail "passwd on a terminal failed"; }
pkcs11-tool --module "$MOD" --token-label SAST1 --login --pin "$NEWPIN" --list-objects >/dev/null 2>&1 ||
	fail "the PIN typed on the terminal was not set"

# The URI's module-path picks the module when there is no --module.
run 0 env -u CTLSIGN_PKCS11_MODULE "$CTLSIGN" token list --token "pkcs11:token=SAST1?module-path=$MOD"
out_has "token 'SAST1'"
echo ok

# PIN prompts on a terminal (a pty from script(1)): no echo, new PIN asked twice.
. "$(dirname "$0")/lib.sh"
command -v script >/dev/null || fail "script(1) (util-linux) is needed"

# Input lines are sent one per second, after the prompt switched echo off.
typed() { ( for l in "$@"; do sleep 1; printf '%s\n' "$l"; done; sleep 1 ) }

rc=0
typed "$FACTORY" "First-Try-1" "Other-Try-2" |
	script -qec "'$CTLSIGN' token passwd --token pkcs11:token=SAST1" /dev/null >"$WORK/tty1" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || { cat "$WORK/tty1" >&2; fail "mismatched new PINs: exit $rc, want 2"; }
grep -q "current PIN for token 'SAST1'" "$WORK/tty1" || fail "no current-PIN prompt"
grep -q "the two new PINs differ" "$WORK/tty1" || fail "no mismatch message"

typed "$FACTORY" "$NEWPIN" "$NEWPIN" |
	script -qec "'$CTLSIGN' token passwd --token pkcs11:token=SAST1" /dev/null >"$WORK/tty2" 2>&1 ||
	{ cat "$WORK/tty2" >&2; fail "passwd on a terminal failed"; }
grep -q "new PIN again" "$WORK/tty2" || fail "new PIN not asked twice"
grep -q "PIN changed" "$WORK/tty2" || fail "no confirmation"
if grep -qF -e "$FACTORY" -e "$NEWPIN" "$WORK/tty1" "$WORK/tty2"; then
	fail "a PIN was echoed on the terminal"
fi
pkcs11-tool --module "$MOD" --token-label SAST1 --login --pin "$NEWPIN" --list-objects >/dev/null 2>&1 ||
	fail "the PIN typed on the terminal was not set"

# The URI's module-path picks the module when there is no --module.
run 0 env -u CTLSIGN_PKCS11_MODULE "$CTLSIGN" token list --token "pkcs11:token=SAST1?module-path=$MOD"
out_has "token 'SAST1'"
echo ok

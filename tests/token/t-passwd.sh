# PIN change, checked by an independent peer (OpenSC pkcs11-tool).
. "$(dirname "$0")/lib.sh"

p11() { pkcs11-tool --module "$MOD" --token-label SAST1 --login --pin "$1" --list-objects; }

export SHORT=abc12 LONG=$(printf 'x%.0s' $(seq 1 300)) OTHER=Another-PIN-9
run 9 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin env:FACTORY --new-pin env:FACTORY
err_has "differ from the current"
run 9 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin env:FACTORY --new-pin env:SHORT
err_has "at least 8"
run 9 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin env:FACTORY --new-pin env:SHORT --min-length 12
err_has "at least 12"
run 2 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin env:FACTORY --new-pin env:LONG
err_has "longer than"
# Trivial PINs (issue 12 §13): refused before any login, the message names the token.
export TRIVIAL=12345678
run 9 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin env:FACTORY --new-pin env:TRIVIAL
err_has "the new PIN for token 'SAST1' is too easy to guess (an ascending run)"
export TRIVIAL=87654321
run 9 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin env:FACTORY --new-pin env:TRIVIAL
err_has "too easy to guess (a descending run)"
export TRIVIAL=aaaaaaaa
run 9 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin env:FACTORY --new-pin env:TRIVIAL
err_has "too easy to guess (one character repeated)"
export TRIVIAL=sast1
run 9 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin env:FACTORY --new-pin env:TRIVIAL --min-length 4
err_has "the new PIN for token 'SAST1' must not be the token's label"
run 11 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin env:OTHER --new-pin env:NEWPIN
err_has "wrong PIN"
p11 "$FACTORY" >/dev/null 2>&1 || fail "a refused change altered the PIN"

run 0 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin env:FACTORY --new-pin env:NEWPIN
err_has "PIN changed"
p11 "$NEWPIN" >/dev/null 2>&1 || fail "pkcs11-tool cannot log in with the new PIN"
if p11 "$FACTORY" >/dev/null 2>&1; then fail "pkcs11-tool still logs in with the old PIN"; fi

# Back to the factory PIN is refused; a configured factory PIN is refused too.
run 9 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin env:NEWPIN --new-pin env:FACTORY
err_has "factory default"
run 9 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin env:NEWPIN --new-pin env:OTHER --factory-pin "$OTHER"
err_has "factory default"
run 0 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin env:NEWPIN --new-pin env:OTHER
p11 "$OTHER" >/dev/null 2>&1 || fail "second change did not take"
# The current and the new PIN from one descriptor: one line each.
run 0 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin fd:3 --new-pin fd:3 3< <(printf '%s\n%s\n' "$OTHER" "$NEWPIN")
p11 "$NEWPIN" >/dev/null 2>&1 || fail "--pin fd:3 --new-pin fd:3 did not set the second line"
run 0 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin fd:3 --new-pin fd:3 3< <(printf '%s\n%s\n' "$NEWPIN" "$OTHER")
p11 "$OTHER" >/dev/null 2>&1 || fail "changing back through one descriptor did not take"
# A stray argument (a PIN typed in the wrong place) is not echoed.
run 2 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin env:OTHER Str0ngPin99
! grep -qF -- Str0ngPin99 "$WORK/err" || fail "a stray argument of token passwd was echoed"
# SAST2 untouched.
pkcs11-tool --module "$MOD" --token-label SAST2 --login --pin "$FACTORY" --list-objects >/dev/null 2>&1 ||
	fail "the other token's PIN changed"
# No terminal and no --new-pin: a usage error, not a hang.
run 2 "$CTLSIGN" token passwd --token pkcs11:token=SAST1 --pin env:OTHER </dev/null
err_has "no terminal"
echo ok

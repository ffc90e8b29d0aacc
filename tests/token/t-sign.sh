# Signing: refused with the factory PIN; after passwd, signatures verify with OpenSSL;
# several threads sign at once.
. "$(dirname "$0")/lib.sh"

provision SAST1
printf 'some bytes to sign\n' >"$WORK/msg"
run 9 "$CTLSIGN" token sign --token pkcs11:token=SAST1 --pin env:FACTORY --in "$WORK/msg" --out "$WORK/sig"
err_has "factory default PIN"
err_has "ctlsign token passwd"
[ ! -e "$WORK/sig" ] || fail "a signature was written with the default PIN"

passwd SAST1
for h in sha256 sha1 sha512; do
	run 0 "$CTLSIGN" token sign --token "pkcs11:token=SAST1;object=sast" --pin env:NEWPIN \
		--in "$WORK/msg" --out "$WORK/sig.$h" --hash $h
	cp "$WORK/out" "$WORK/cert.pem"
	openssl x509 -in "$WORK/cert.pem" -pubkey -noout >"$WORK/pub.pem"
	openssl dgst -$h -verify "$WORK/pub.pem" -signature "$WORK/sig.$h" "$WORK/msg" >/dev/null ||
		fail "openssl does not verify the $h signature"
done
printf 'other bytes\n' >"$WORK/msg2"
if openssl dgst -sha256 -verify "$WORK/pub.pem" -signature "$WORK/sig.sha256" "$WORK/msg2" >/dev/null 2>&1; then
	fail "signature verifies over other data"
fi

# The PIN from the URI's pin-source (file), and the plain-path form. PIN files are 0600.
(umask 077 && printf '%s\n' "$NEWPIN" >"$WORK/pinfile")
run 0 "$CTLSIGN" token sign --token "pkcs11:token=SAST1?pin-source=file:$WORK/pinfile" \
	--in "$WORK/msg" --out "$WORK/sig2"
run 0 "$CTLSIGN" token sign --token "pkcs11:token=SAST1?pin-source=$WORK/pinfile" \
	--in "$WORK/msg" --out "$WORK/sig3"
# ... and from a file descriptor.
run 0 "$CTLSIGN" token sign --token pkcs11:token=SAST1 --pin fd:5 --in "$WORK/msg" --out "$WORK/sig4" 5<"$WORK/pinfile"
cmp -s "$WORK/sig2" "$WORK/sig.sha256" || fail "PKCS#1 v1.5 signatures should be deterministic"

# A PIN file others may read, or its group may change, is refused (exit 9), with the fix.
for mode in 644 604 620 666; do
	chmod "$mode" "$WORK/pinfile"
	run 9 "$CTLSIGN" token sign --token pkcs11:token=SAST1 --pin "file:$WORK/pinfile" --in "$WORK/msg" --out "$WORK/x"
	err_has "chmod 600 $WORK/pinfile"
	run 9 "$CTLSIGN" token sign --token "pkcs11:token=SAST1?pin-source=file:$WORK/pinfile" \
		--in "$WORK/msg" --out "$WORK/x"
	err_has "chmod 600 $WORK/pinfile"
	[ ! -e "$WORK/x" ] || fail "signed with a PIN file of mode $mode"
done
chmod 640 "$WORK/pinfile"
run 0 "$CTLSIGN" token sign --token pkcs11:token=SAST1 --pin "file:$WORK/pinfile" --in "$WORK/msg" --out "$WORK/x"
rm -f "$WORK/x"
chmod 600 "$WORK/pinfile"

# A PIN is never a plain argument; pin-value in a URI is refused. A value that is not a
# PIN source is not echoed back (it is probably the PIN, and stderr ends up in CI logs).
run 2 "$CTLSIGN" token sign --token pkcs11:token=SAST1 --pin "$NEWPIN" --in "$WORK/msg" --out "$WORK/x"
err_has "env:VARIABLE, file:PATH or fd:N"
! grep -qF -- "$NEWPIN" "$WORK/err" "$WORK/out" || fail "the PIN given as --pin was echoed"
run 2 "$CTLSIGN" token sign --token pkcs11:token=SAST1 --pin Str0ngPin99 --in "$WORK/msg" --out "$WORK/x"
! grep -qF -- Str0ngPin99 "$WORK/err" "$WORK/out" || fail "--pin Str0ngPin99 was echoed"
run 2 "$CTLSIGN" token sign --token "pkcs11:token=SAST1?pin-source=pin:Str0ngPin99" --in "$WORK/msg" --out "$WORK/x"
err_has "pin-source"
! grep -qF -- Str0ngPin99 "$WORK/err" "$WORK/out" || fail "a URI's pin-source was echoed"
run 3 "$CTLSIGN" token sign --token "pkcs11:token=SAST1?pin-source=Str0ngPin99" --in "$WORK/msg" --out "$WORK/x"
! grep -qF -- Str0ngPin99 "$WORK/err" "$WORK/out" || fail "a URI's plain pin-source was echoed"
run 2 "$CTLSIGN" token sign --token "pkcs11:token=SAST1?pin-value=$NEWPIN" --in "$WORK/msg" --out "$WORK/x"
err_has "pin-value is not accepted"

# Wrong PIN: a token error saying what the token's flags say now.
export BAD=Wrong-PIN-1
run 11 "$CTLSIGN" token sign --token pkcs11:token=SAST1 --pin env:BAD --in "$WORK/msg" --out "$WORK/x"
err_has "wrong PIN for token 'SAST1'"
# SoftHSM raises CKF_USER_PIN_COUNT_LOW after a wrong PIN: the message says what the
# flags say now, and token list shows the same.
err_has "count-low"
run 0 "$CTLSIGN" token list --json --token pkcs11:token=SAST1
python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))[0]["pin_flags"]
assert f["count_low"] is True and f["locked"] is False, f' "$WORK/out"
# A good login clears it again.
run 0 "$CTLSIGN" token sign --token pkcs11:token=SAST1 --pin env:NEWPIN --in "$WORK/msg" --out "$WORK/x"

# A token without a key says how to get one.
run 0 "$CTLSIGN" token passwd --token pkcs11:token=SAST2 --pin env:FACTORY --new-pin env:NEWPIN
run 11 "$CTLSIGN" token sign --token pkcs11:token=SAST2 --pin env:NEWPIN --in "$WORK/msg" --out "$WORK/x"
err_has "holds no private key"
err_has "ctlsign token provision"

# Many threads at once through token_signer().
[ -n "$THREADS_BIN" ] || fail "no threads test binary"
run 0 "$THREADS_BIN" "$MOD" pkcs11:token=SAST1 env:NEWPIN 8 25
out_has "8 threads x 25 signatures, 0 bad"
# The token going away under the signer: CTL_E_TOKEN "was removed".
run 0 "$THREADS_BIN" "$MOD" pkcs11:token=SAST1 env:NEWPIN 1 1 removed
out_has "rc 11: token 'SAST1'"
out_has "was removed"
echo ok

# ctlverify strip -o: the payload of a signed firmware file, atomically; with a --cert that
# does not verify (an image someone re-signed), nothing is written and an existing OUT is
# left as it was, with no temporary file behind.
D=$SRC/tests/data/vendor
python3 - "$D/cp-example.sbn" "$W/want" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(d[struct.unpack(">H", d[8:10])[0]:])
PY
run 0 "$CTLVERIFY" strip --cert "$D/firmware.crt" "$D/cp-example.sbn" -o "$W/img"
out_has "wrote $W/img: 1500 bytes"
cmp "$W/img" "$W/want" || fail "stripped payload differs from the body after the header"
run 0 "$CTLVERIFY" strip "$D/cp-example.sbn" -o "$W/img2"
err_has "signature NOT verified"
cmp "$W/img2" "$W/want" || fail "stripped payload (no --cert) differs"
# A body changed after signing: --cert refuses, OUT keeps its old content.
cp "$D/cp-example.sbn" "$W/evil.sbn"
printf 'X' | dd of="$W/evil.sbn" bs=1 seek=1000 conv=notrunc status=none
echo old >"$W/prev"
run 5 "$CTLVERIFY" strip --cert "$D/firmware.crt" "$W/evil.sbn" -o "$W/prev"
err_has "nothing written"
[ "$(cat "$W/prev")" = old ] || fail "strip overwrote OUT although the signature failed"
run 5 "$CTLVERIFY" strip --cert "$D/firmware.crt" "$W/evil.sbn" -o "$W/new"
[ ! -e "$W/new" ] || fail "strip created OUT although the signature failed"
ls "$W" | grep -q '\.tmp\.' && fail "temporary file left behind"
true

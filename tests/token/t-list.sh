# token list: text and JSON, without and with login.
. "$(dirname "$0")/lib.sh"

run 0 "$CTLSIGN" token list
out_has "token 'SAST1'"
out_has "token 'SAST2'"
out_has "manufacturer SoftHSM project"
out_has "PIN flags: initialised"

provision SAST1
run 0 "$CTLSIGN" token list --json
python3 - "$WORK/out" <<'PY'
import json, sys
toks = json.load(open(sys.argv[1]))
init = [t for t in toks if t["pin_flags"]["initialised"]]
assert sorted(t["label"] for t in init) == ["SAST1", "SAST2"], init
t1 = [t for t in init if t["label"] == "SAST1"][0]
assert t1["manufacturer"] == "SoftHSM project" and t1["serial"], t1
assert t1["pin_flags"]["locked"] is False and t1["pin_flags"]["final_try"] is False
objs = t1["objects"]
assert len(objs) == 1, objs
o = objs[0]
assert o["label"] == "sast" and o["key_type"] == "RSA" and o["key_bits"] == 2048, o
assert o["private_key"] is False, "private key visible without login"
assert o["cert"]["subject"] == "CN=SAST-ADN0001,O=Example Corp,OU=Voice", o
assert len(o["cert"]["sha1"]) == 40 and o["cert"]["expired"] is False, o
assert o["warnings"] == [], o
PY

# Without --pin the prompt needs a terminal: none here, so a clear usage error.
run 2 "$CTLSIGN" token list --login --token pkcs11:token=SAST1 </dev/null
err_has "no terminal"

run 0 "$CTLSIGN" token list --json --login --pin env:FACTORY --token pkcs11:token=SAST1
python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))
assert len(t) == 1 and t[0]["label"] == "SAST1"
assert t[0]["objects"][0]["private_key"] is True, t' "$WORK/out"

# A key without a certificate is flagged.
pkcs11-tool --module "$MOD" --token-label SAST2 --login --pin "$FACTORY" --keypairgen \
	--key-type rsa:1024 --label lonely --id 0badcafe >/dev/null 2>&1
run 0 "$CTLSIGN" token list --token pkcs11:token=SAST2
out_has "object 'lonely' id 0badcafe"
out_has "no certificate for this key"
run 0 "$CTLSIGN" token list --json
python3 -c '
import json, sys
t = [x for x in json.load(open(sys.argv[1])) if x["label"] == "SAST2"][0]
assert t["objects"][0]["warnings"] == ["no certificate"], t' "$WORK/out"

# The module line says where the module came from.
run 0 "$CTLSIGN" token list
out_has "module $MOD (from \$CTLSIGN_PKCS11_MODULE): "

# --ctl: each certificate is marked with its record in that CTL, or as not in it.
MKFIXTURE=${6:?mkfixture}
V=$SRC/tests/data/vectors
pkcs11-tool --module "$MOD" --token-label SAST1 --read-object --type cert --label sast \
	-o "$WORK/sast1-token.der" >/dev/null 2>&1 || fail "cannot read SAST1's certificate"
"$MKFIXTURE" tlv -K ctl -k "$V/sast1.key" -c "$V/sast1.crt" -o "$WORK/ctl.tlv" \
	"sast:$V/sast1.crt" "sast:$WORK/sast1-token.der" "ccm+tftp:$V/ccm.crt" >/dev/null ||
	fail "mkfixture"
run 0 "$CTLSIGN" token list --ctl "$WORK/ctl.tlv" --token pkcs11:token=SAST1
out_has "in the current CTL: SAST record"
"$MKFIXTURE" tlv -K ctl -k "$V/sast1.key" -c "$V/sast1.crt" -o "$WORK/other.tlv" \
	"sast:$V/sast1.crt" "sast:$V/sast2.crt" "ccm+tftp:$V/ccm.crt" >/dev/null || fail "mkfixture"
run 0 "$CTLSIGN" token list --ctl "$WORK/other.tlv" --token pkcs11:token=SAST1
out_has "not in the current CTL"
run 0 "$CTLSIGN" token list --json --ctl "$WORK/ctl.tlv" --token pkcs11:token=SAST1
python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))
assert t[0]["objects"][0]["in_ctl"] == "SAST", t' "$WORK/out"
run 4 "$CTLSIGN" token list --ctl "$V/SEP001122334455.cnf.xml.sgn"

# Explicit --module beats the environment; a bad module says what to do.
run 0 env -u CTLSIGN_PKCS11_MODULE "$CTLSIGN" token list --module "$MOD"
out_has "token 'SAST1'"
run 11 "$CTLSIGN" token list --module "$WORK/no-such-module.so"
err_has "cannot load PKCS#11 module"
echo ok

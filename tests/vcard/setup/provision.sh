# The stack came up and provisioned the card through PKCS#11: check what is on it.
# Its state is the template the other cases start from.
[ -s "$VCARD_DIR/card.crt" ] || fail "no certificate written"
objs=$(p11 --token-label "$SIG_TOKEN" -O)
must_contain "$objs" "Public Key Object; RSA 2048 bits" "public key"
must_contain "$objs" "Certificate Object" "certificate"
p11 --token-label "$SIG_TOKEN" --read-object --type cert --id 01 -o "$work/cert.der" >/dev/null 2>&1
cmp -s "$work/cert.der" "$VCARD_DIR/card.crt" || fail "the card holds another certificate than provisioned"
# key info DO: key 1 generated on the card (not imported)
python3 - "$VCARD_DIR/card.json" <<'PY' || fail "the signature key was not generated on the card"
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["keys"]["1"]["origin"] == "generated" else 1)
PY

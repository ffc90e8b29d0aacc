# Issue 12 §7: `ctlsign token import` brings an existing server key onto a token. Checked
# with an independent peer (OpenSC pkcs11-tool): the key is private, sensitive, never
# readable, signs; the certificate sits beside it with the same ID and label; a key and
# certificate that do not match are refused (exit 9) with nothing written; and
# `ctlsign sign` signs TFTP files with the imported key.
. "$(dirname "$0")/lib.sh"
[ -n "$CTLVERIFY" ] && [ -n "$MKFIXTURE" ] || fail "needs CTLVERIFY and MKFIXTURE arguments"
V=$SRC/tests/data/vectors
export CTLSIGN_STATE_DIR=$WORK/state CTLSIGN_AUDIT_LOG=$WORK/audit.log

# The TFTP server's key and certificate, as they lie on its disk; and another pair.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/tftp.key" -out "$WORK/tftp.pem" \
	-days 3650 -sha256 -subj "/CN=tftp1.example.com/O=Example Corp/OU=Voice" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/other.key" -out "$WORK/other.pem" \
	-days 3650 -sha256 -subj "/CN=other.example.com" 2>/dev/null
objects() { pkcs11-tool --module "$MOD" --token-label SAST1 --login --pin "$NEWPIN" --list-objects 2>/dev/null; }
imp() { "$CTLSIGN" token import --token "pkcs11:token=SAST1;object=tftp" --pin env:NEWPIN "$@"; }

# A token still on its factory PIN gets no production key.
run 9 "$CTLSIGN" token import --token "pkcs11:token=SAST1;object=tftp" --pin env:FACTORY \
	--key "$WORK/tftp.key" --cert "$WORK/tftp.pem"
err_has "factory default PIN"
passwd SAST1

# A key that is not the certificate's: refused before the token is touched.
run 9 imp --key "$WORK/other.key" --cert "$WORK/tftp.pem"
err_has "the key in $WORK/other.key does not belong to the certificate $WORK/tftp.pem"
err_has "nothing was written"
[ -z "$(objects | grep -E '^(Private Key|Public Key|Certificate) Object' || true)" ] ||
	fail "a refused import left objects on the token: $(objects)"
# Usage: both files and the token are required; the files must be what they say.
run 2 "$CTLSIGN" token import --token pkcs11:token=SAST1 --key "$WORK/tftp.key"
run 2 "$CTLSIGN" token import --key "$WORK/tftp.key" --cert "$WORK/tftp.pem"
run 4 imp --key "$WORK/tftp.pem" --cert "$WORK/tftp.pem"

run 0 imp --key "$WORK/tftp.key" --cert "$WORK/tftp.pem"
err_has "imported RSA-2048 key and certificate CN=tftp1.example.com,O=Example Corp,OU=Voice"
err_has "onto token 'SAST1' as 'tftp': sensitive, not extractable"
err_has "sign with --key 'pkcs11:token=SAST1;object=tftp'"
err_has "now destroy every file copy of the key: shred -u $WORK/tftp.key"

# What OpenSC sees.
objects >"$WORK/objs"
python3 - "$WORK/objs" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.split(r"\n(?=\S)", text)
priv = [b for b in blocks if b.startswith("Private Key Object")]
cert = [b for b in blocks if b.startswith("Certificate Object")]
pub = [b for b in blocks if b.startswith("Public Key Object")]
assert len(priv) == 1 and len(cert) == 1 and len(pub) == 1, text
p = priv[0]
assert "RSA" in p and "label:      tftp" in p, p
access = re.search(r"Access:\s*(.*)", p).group(1)
assert "sensitive" in access, p
assert not re.search(r"(?<!never )extractable", access), p   # not extractable
usage = re.search(r"Usage:\s*(.*)", p).group(1)
assert "sign" in usage and "decrypt" not in usage and "unwrap" not in usage, p
ids = {re.search(r"ID:\s+(\S+)", b).group(1) for b in (p, cert[0], pub[0])}
assert len(ids) == 1, ids
assert "label:      tftp" in cert[0], cert[0]
PY
# Private (not listed without a login) and a token object (seen by another process).
pkcs11-tool --module "$MOD" --token-label SAST1 --list-objects 2>/dev/null | grep -q '^Private Key Object' &&
	fail "the imported key is visible without a login (not CKA_PRIVATE)"
# The attributes themselves, read through the module by a small PKCS#11 client.
python3 - "$MOD" "$NEWPIN" <<'PY' || fail "attribute check"
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1]); pin = sys.argv[2].encode()
CK_ULONG = ctypes.c_ulong
class ATTR(ctypes.Structure):
    _fields_ = [("type", CK_ULONG), ("pValue", ctypes.c_void_p), ("ulValueLen", CK_ULONG)]
assert lib.C_Initialize(None) == 0
n = CK_ULONG(0); assert lib.C_GetSlotList(1, None, ctypes.byref(n)) == 0
slots = (CK_ULONG * n.value)(); assert lib.C_GetSlotList(1, slots, ctypes.byref(n)) == 0
class TI(ctypes.Structure):
    _fields_ = [("label", ctypes.c_char * 32), ("rest", ctypes.c_char * 4096)]
found = None
for sl in slots[:n.value]:
    ti = TI(); lib.C_GetTokenInfo(CK_ULONG(sl), ctypes.byref(ti))
    if ti.label.decode().strip() == "SAST1": found = sl
s = CK_ULONG(0)
assert lib.C_OpenSession(CK_ULONG(found), CK_ULONG(4), None, None, ctypes.byref(s)) == 0
assert lib.C_Login(s, CK_ULONG(1), pin, CK_ULONG(len(pin))) == 0
cls = CK_ULONG(3)  # CKO_PRIVATE_KEY
t = ATTR(0, ctypes.cast(ctypes.byref(cls), ctypes.c_void_p), ctypes.sizeof(cls))
assert lib.C_FindObjectsInit(s, ctypes.byref(t), CK_ULONG(1)) == 0
h = CK_ULONG(0); cnt = CK_ULONG(0)
assert lib.C_FindObjects(s, ctypes.byref(h), CK_ULONG(1), ctypes.byref(cnt)) == 0 and cnt.value == 1
lib.C_FindObjectsFinal(s)
want = {0x1: 1, 0x2: 1, 0x103: 1, 0x162: 0, 0x108: 1, 0x105: 0, 0x107: 0}  # TOKEN PRIVATE SENSITIVE EXTRACTABLE SIGN DECRYPT UNWRAP
for a, v in want.items():
    b = ctypes.c_ubyte(9)
    at = ATTR(a, ctypes.cast(ctypes.byref(b), ctypes.c_void_p), 1)
    assert lib.C_GetAttributeValue(s, h, ctypes.byref(at), CK_ULONG(1)) == 0, hex(a)
    assert b.value == v, (hex(a), b.value)
# The private exponent cannot be read: CKR_ATTRIBUTE_SENSITIVE (0x11).
buf = (ctypes.c_ubyte * 1024)()
at = ATTR(0x123, ctypes.cast(buf, ctypes.c_void_p), 1024)  # CKA_PRIVATE_EXPONENT
rv = lib.C_GetAttributeValue(s, h, ctypes.byref(at), CK_ULONG(1))
assert rv == 0x11, hex(rv)
PY
# pkcs11-tool cannot export it either, but signs with it; OpenSSL verifies with the cert.
if pkcs11-tool --module "$MOD" --token-label SAST1 --login --pin "$NEWPIN" --read-object \
	--type privkey --label tftp -o "$WORK/leak.der" >/dev/null 2>&1 && [ -s "$WORK/leak.der" ]; then
	fail "pkcs11-tool read the imported private key"
fi
printf 'bytes signed by the token\n' >"$WORK/msg"
pkcs11-tool --module "$MOD" --token-label SAST1 --login --pin "$NEWPIN" --sign -m SHA256-RSA-PKCS \
	--label tftp -i "$WORK/msg" -o "$WORK/msg.sig" >/dev/null 2>&1 || fail "pkcs11-tool cannot sign with the key"
openssl x509 -in "$WORK/tftp.pem" -pubkey -noout >"$WORK/tftp.pub"
openssl dgst -sha256 -verify "$WORK/tftp.pub" -signature "$WORK/msg.sig" "$WORK/msg" >/dev/null ||
	fail "the token's signature does not verify with the certificate"

# ctlsign sign with the imported key: the CTL lists its certificate as the TFTP server.
"$MKFIXTURE" tlv -K ctl -k "$V/sast1.key" -c "$V/sast1.crt" -H sha512 -o "$WORK/CTLFile.tlv" \
	"sast:$V/sast1.crt" "sast:$V/sast2.crt" "ccm+tftp:$WORK/tftp.pem" || fail "mkfixture"
mkdir -p "$WORK/tftpdir"
printf '<device><x>1</x></device>\n' >"$WORK/tftpdir/SEP001122334455.cnf.xml"
run 0 "$CTLSIGN" sign --key "pkcs11:token=SAST1;object=tftp" --pin env:NEWPIN --ctl "$WORK/CTLFile.tlv" \
	"$WORK/tftpdir/SEP001122334455.cnf.xml"
run 0 "$CTLVERIFY" check --cert "$WORK/tftp.pem" "$WORK/tftpdir/SEP001122334455.cnf.xml.sgn"

# No silent replacement; --force replaces (one key, one certificate afterwards).
run 9 imp --key "$WORK/tftp.key" --cert "$WORK/tftp.pem"
err_has "already holds objects labelled 'tftp'"
run 0 imp --key "$WORK/tftp.key" --cert "$WORK/tftp.pem" --force
[ "$(objects | grep -c '^Private Key Object')" = 1 ] || fail "--force left two keys"
[ "$(objects | grep -c '^Certificate Object')" = 1 ] || fail "--force left two certificates"
# The label defaults to the certificate's CN.
run 0 "$CTLSIGN" token import --token pkcs11:token=SAST2 --pin env:FACTORY --factory-pin Other-Fac-1 \
	--key "$WORK/other.key" --cert "$WORK/other.pem"
err_has "as 'other.example.com'"
echo ok

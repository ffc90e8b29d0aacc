#!/usr/bin/env python3
"""openpgp_card.py - a virtual OpenPGP card (spec 3.3, RSA-2048) for vpcd.

The card connects to vsmartcard's vpcd reader driver (loaded by pcscd) over
TCP and answers ISO 7816-4 APDUs.  vpcd's framing: every message is a 2-byte
big-endian length followed by that many bytes.  A 1-byte message is a control
message (0 power off, 1 power on, 2 reset, 4 ATR request: answered with the
ATR); anything longer is a command APDU, answered with the response APDU.

Only short APDUs are understood (vpcd does not announce extended length):
long commands come with command chaining, long responses go out with 61xx and
GET RESPONSE.

Persistent state (PINs, retry counters, keys, data objects) lives in a JSON
file, rewritten atomically after every change, so keys survive a restart.
This is a TEST card: the private keys are stored in that file in clear.

Initial PINs (used only when the state file does not exist yet) default to the
spec's factory values and can be set through the environment variables
VCARD_PW1 and VCARD_PW3 (never on the command line).
"""

import argparse
import json
import os
import secrets
import signal
import socket
import struct
import sys
import tempfile
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

AID_PREFIX = bytes.fromhex("D27600012401")
VERSION = bytes([0x03, 0x03])
MANUFACTURER = bytes([0xFF, 0xFF])          # "test card"
# Historical bytes: category 00, card service data (31 C5), card capabilities
# (73 C0 01 80: command chaining, no extended Lc/Le), life cycle 05 + 9000.
HISTORICAL = bytes.fromhex("0031C573C00180059000")
KEY_BITS = 2048
PW1_MIN, PW3_MIN, PW_MAX = 6, 8, 127
MAX_TRIES = 3
MAX_CERT = 2048
MAX_CHALLENGE = 255

# Key reference by control reference template tag.
CRT_KEY = {0xB6: 1, 0xB8: 2, 0xA4: 3}
FP_TAG = {1: 0xC7, 2: 0xC8, 3: 0xC9}
CAFP_TAG = {1: 0xCA, 2: 0xCB, 3: 0xCC}
TS_TAG = {1: 0xCE, 2: 0xCF, 3: 0xD0}
ALGO_TAG = {1: 0xC1, 2: 0xC2, 3: 0xC3}

SW_OK = 0x9000
SW_WRONG_LENGTH = 0x6700
SW_SECURITY = 0x6982
SW_BLOCKED = 0x6983
SW_CONDITIONS = 0x6985
SW_WRONG_DATA = 0x6A80
SW_NOT_FOUND = 0x6A88
SW_WRONG_P1P2 = 0x6B00
SW_INS = 0x6D00
SW_CLA = 0x6E00
SW_LAST_CMD = 0x6883


class CardError(Exception):
    def __init__(self, sw):
        super().__init__("SW %04X" % sw)
        self.sw = sw


def make_atr():
    body = bytes([0xDA, 0x18, 0xFF, 0x81, 0xB1, 0xFE, 0x75, 0x1F, 0x03])
    body += HISTORICAL
    tck = 0
    for b in body:
        tck ^= b
    return bytes([0x3B]) + body + bytes([tck])


def tlv(tag, value):
    t = tag.to_bytes(2, "big") if tag > 0xFF else bytes([tag])
    n = len(value)
    if n < 0x80:
        ln = bytes([n])
    elif n < 0x100:
        ln = bytes([0x81, n])
    else:
        ln = bytes([0x82]) + n.to_bytes(2, "big")
    return t + ln + value


def parse_tlv(data):
    """Yield (tag, value) of a BER-TLV sequence; raises CardError on junk."""
    i = 0
    while i < len(data):
        tag = data[i]
        i += 1
        if tag & 0x1F == 0x1F:
            if i >= len(data):
                raise CardError(SW_WRONG_DATA)
            tag = (tag << 8) | data[i]
            i += 1
        if i >= len(data):
            raise CardError(SW_WRONG_DATA)
        n = data[i]
        i += 1
        if n == 0x81 or n == 0x82:
            k = n - 0x80
            if i + k > len(data):
                raise CardError(SW_WRONG_DATA)
            n = int.from_bytes(data[i:i + k], "big")
            i += k
        elif n > 0x80:
            raise CardError(SW_WRONG_DATA)
        if i + n > len(data):
            raise CardError(SW_WRONG_DATA)
        yield tag, data[i:i + n]
        i += n


def write_atomic(path, text):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".vcard-", dir=d)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dfd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


class State:
    """The card's persistent memory."""

    def __init__(self, path, serial=None):
        self.path = path
        self._keys = {}
        if os.path.exists(path):
            with open(path) as f:
                self.d = json.load(f)
            return
        pw1 = os.environ.get("VCARD_PW1", "123456")
        pw3 = os.environ.get("VCARD_PW3", "12345678")
        if not (PW1_MIN <= len(pw1.encode()) <= PW_MAX and
                PW3_MIN <= len(pw3.encode()) <= PW_MAX):
            sys.exit("openpgp_card: VCARD_PW1 needs >= 6 and VCARD_PW3 >= 8 characters")
        self.d = {
            "serial": serial or secrets.token_hex(4).upper(),
            "pw1": pw1, "pw3": pw3, "rc": "",
            "tries": {"pw1": MAX_TRIES, "rc": 0, "pw3": MAX_TRIES},
            "pw1_multi": 0,            # C4 byte 1: PW1 (81) valid for one signature
            "sig_count": 0,
            "keys": {},                # "1".."3" -> {"pem", "origin"}
            "do": {},                  # tag hex -> value hex (writable DOs)
            "certs": ["", "", ""],     # 7F21 occurrences 0..2
        }
        self.save()

    def save(self):
        write_atomic(self.path, json.dumps(self.d, indent=1, sort_keys=True) + "\n")

    def do_get(self, tag, default=b""):
        v = self.d["do"].get("%04X" % tag)
        return bytes.fromhex(v) if v is not None else default

    def do_put(self, tag, value):
        self.d["do"]["%04X" % tag] = value.hex()

    def key(self, ref):
        k = self.d["keys"].get(str(ref))
        if not k:
            return None
        # Loading checks the key, which is slow: keep the parsed key per PEM.
        cached = self._keys.get(ref)
        if cached and cached[0] == k["pem"]:
            return cached[1]
        key = serialization.load_pem_private_key(k["pem"].encode(), None)
        self._keys[ref] = (k["pem"], key)
        return key


class Card:
    def __init__(self, state, log):
        self.st = state
        self.log = log
        self.atr = make_atr()
        self.power_reset()

    # -- volatile state ------------------------------------------------------
    def power_reset(self):
        self.selected = False
        self.verified = {0x81: False, 0x82: False, 0x83: False}
        self.chain = None          # (cla&~0x10, ins, p1, p2, data so far)
        self.pending = b""         # response bytes waiting for GET RESPONSE
        self.cert_occ = 0
        self.dec_key = 2           # MSE may redirect decipher to key 3
        self.aut_key = 3           # MSE may redirect int. auth. to key 2

    # -- data objects --------------------------------------------------------
    def aid(self):
        return (AID_PREFIX + VERSION + MANUFACTURER +
                bytes.fromhex(self.st.d["serial"]) + b"\x00\x00")

    def algo_attr(self, ref):
        return bytes([0x01]) + KEY_BITS.to_bytes(2, "big") + (32).to_bytes(2, "big") + b"\x00"

    def pw_status(self):
        t = self.st.d["tries"]
        return bytes([self.st.d["pw1_multi"], PW_MAX, PW_MAX, PW_MAX,
                      t["pw1"], t["rc"], t["pw3"]])

    def ext_caps(self):
        # b7 GET CHALLENGE, b5 PW status changeable, b4 private DOs.
        flags = 0x40 | 0x10 | 0x08
        return (bytes([flags, 0x00]) + MAX_CHALLENGE.to_bytes(2, "big") +
                MAX_CERT.to_bytes(2, "big") + (255).to_bytes(2, "big") +
                b"\x00\x00")

    def fingerprints(self, table):
        return b"".join(self.st.do_get(table[i], b"\x00" * 20) for i in (1, 2, 3))

    def timestamps(self):
        return b"".join(self.st.do_get(TS_TAG[i], b"\x00" * 4) for i in (1, 2, 3))

    def key_info(self):
        out = b""
        for i in (1, 2, 3):
            k = self.st.d["keys"].get(str(i))
            out += bytes([i, {"generated": 1, "imported": 2}.get(k["origin"], 0) if k else 0])
        return out

    def discretionary(self):
        return (tlv(0xC0, self.ext_caps()) + tlv(0xC1, self.algo_attr(1)) +
                tlv(0xC2, self.algo_attr(2)) + tlv(0xC3, self.algo_attr(3)) +
                tlv(0xC4, self.pw_status()) + tlv(0xC5, self.fingerprints(FP_TAG)) +
                tlv(0xC6, self.fingerprints(CAFP_TAG)) + tlv(0xCD, self.timestamps()) +
                tlv(0xDE, self.key_info()))

    def get_data(self, tag):
        st = self.st
        simple = {
            0x004F: self.aid,
            0x5F52: lambda: HISTORICAL,
            0x00C0: self.ext_caps,
            0x00C1: lambda: self.algo_attr(1),
            0x00C2: lambda: self.algo_attr(2),
            0x00C3: lambda: self.algo_attr(3),
            0x00C4: self.pw_status,
            0x00C5: lambda: self.fingerprints(FP_TAG),
            0x00C6: lambda: self.fingerprints(CAFP_TAG),
            0x00CD: self.timestamps,
            0x00DE: self.key_info,
            0x005E: lambda: st.do_get(0x5E),
            0x5F50: lambda: st.do_get(0x5F50),
            0x0101: lambda: st.do_get(0x0101),
            0x0102: lambda: st.do_get(0x0102),
            0x0093: lambda: st.d["sig_count"].to_bytes(3, "big"),
        }
        if tag in simple:
            return simple[tag]()
        if tag == 0x0103:
            self.need(0x82)
            return st.do_get(0x0103)
        if tag == 0x0104:
            self.need(0x83)
            return st.do_get(0x0104)
        if tag == 0x7F21:
            return bytes.fromhex(st.d["certs"][self.cert_occ])
        if tag == 0x0065:
            return (tlv(0x5B, st.do_get(0x5B)) + tlv(0x5F2D, st.do_get(0x5F2D)) +
                    tlv(0x5F35, st.do_get(0x5F35, b"9")))
        if tag == 0x006E:
            return (tlv(0x4F, self.aid()) + tlv(0x5F52, HISTORICAL) +
                    tlv(0x73, self.discretionary()))
        if tag == 0x007A:
            return tlv(0x93, st.d["sig_count"].to_bytes(3, "big"))
        raise CardError(SW_NOT_FOUND)

    def put_data(self, tag, data):
        st = self.st
        if tag in (0x0101, 0x0103):
            self.need(0x82)
        else:
            self.need(0x83)
        if tag in (0x005B, 0x5F2D, 0x5F35, 0x005E, 0x5F50, 0x0101, 0x0102, 0x0103, 0x0104):
            if len(data) > 255:
                raise CardError(SW_WRONG_LENGTH)
            st.do_put(tag, data)
        elif tag in FP_TAG.values() or tag in CAFP_TAG.values():
            if len(data) != 20:
                raise CardError(SW_WRONG_LENGTH)
            st.do_put(tag, data)
        elif tag in TS_TAG.values():
            if len(data) != 4:
                raise CardError(SW_WRONG_LENGTH)
            st.do_put(tag, data)
        elif tag in ALGO_TAG.values():
            # Only RSA-2048 is implemented: accept a write of the same thing.
            if len(data) < 5 or data[0] != 0x01 or int.from_bytes(data[1:3], "big") != KEY_BITS:
                raise CardError(SW_WRONG_DATA)
        elif tag == 0x00C4:
            if len(data) < 1 or data[0] > 1:
                raise CardError(SW_WRONG_DATA)
            st.d["pw1_multi"] = data[0]
        elif tag == 0x00D3:
            # Resetting code: empty clears it, else at least 8 bytes.
            if data and not (8 <= len(data) <= PW_MAX):
                raise CardError(SW_WRONG_DATA)
            st.d["rc"] = data.decode("utf-8", "surrogateescape")
            st.d["tries"]["rc"] = MAX_TRIES if data else 0
        elif tag == 0x7F21:
            if len(data) > MAX_CERT:
                raise CardError(SW_WRONG_LENGTH)
            st.d["certs"][self.cert_occ] = data.hex()
        else:
            raise CardError(SW_NOT_FOUND)
        st.save()

    # -- PINs ----------------------------------------------------------------
    def need(self, ref):
        if ref == 0x81 and self.verified[0x81]:
            return
        if ref == 0x82 and self.verified[0x82]:
            return
        if ref == 0x83 and self.verified[0x83]:
            return
        raise CardError(SW_SECURITY)

    @staticmethod
    def pin_name(ref):
        return "pw3" if ref == 0x83 else "pw1"

    def check_pin(self, name, given):
        """Compare given with the stored PIN, moving the retry counter."""
        tries = self.st.d["tries"]
        if tries[name] == 0:
            raise CardError(SW_BLOCKED)
        good = secrets.compare_digest(given, self.st.d[name].encode("utf-8", "surrogateescape"))
        if good:
            tries[name] = MAX_TRIES
            self.st.save()
            return
        tries[name] -= 1
        self.st.save()
        raise CardError(0x63C0 | tries[name])

    def cmd_verify(self, p1, p2, data):
        if p2 not in (0x81, 0x82, 0x83):
            raise CardError(SW_WRONG_P1P2)
        if p1 == 0xFF:                     # reset access status
            if data:
                raise CardError(SW_WRONG_LENGTH)
            self.verified[p2] = False
            return b""
        if p1 != 0x00:
            raise CardError(SW_WRONG_P1P2)
        name = self.pin_name(p2)
        if not data:                       # status query
            if self.verified[p2]:
                return b""
            left = self.st.d["tries"][name]
            raise CardError(SW_BLOCKED if left == 0 else 0x63C0 | left)
        self.verified[p2] = False
        self.check_pin(name, data)
        self.verified[p2] = True
        return b""

    def cmd_change(self, p1, p2, data):
        if p1 != 0x00 or p2 not in (0x81, 0x83):
            raise CardError(SW_WRONG_P1P2)
        name = self.pin_name(p2)
        old = self.st.d[name].encode("utf-8", "surrogateescape")
        self.check_pin(name, data[:len(old)])
        new = data[len(old):]
        if not ((PW3_MIN if p2 == 0x83 else PW1_MIN) <= len(new) <= PW_MAX):
            raise CardError(SW_WRONG_DATA)
        self.st.d[name] = new.decode("utf-8", "surrogateescape")
        self.st.save()
        if p2 == 0x81:
            self.verified[0x81] = self.verified[0x82] = False
        else:
            self.verified[0x83] = False
        return b""

    def cmd_reset_retry(self, p1, p2, data):
        if p2 != 0x81:
            raise CardError(SW_WRONG_P1P2)
        if p1 == 0x02:
            self.need(0x83)
            new = data
        elif p1 == 0x00:
            rc = self.st.d["rc"].encode("utf-8", "surrogateescape")
            if not rc:
                raise CardError(SW_CONDITIONS)
            self.check_pin("rc", data[:len(rc)])
            new = data[len(rc):]
        else:
            raise CardError(SW_WRONG_P1P2)
        if not (PW1_MIN <= len(new) <= PW_MAX):
            raise CardError(SW_WRONG_DATA)
        self.st.d["pw1"] = new.decode("utf-8", "surrogateescape")
        self.st.d["tries"]["pw1"] = MAX_TRIES
        self.st.save()
        return b""

    # -- keys ----------------------------------------------------------------
    @staticmethod
    def public_do(key):
        pub = key.public_key().public_numbers()
        n = pub.n.to_bytes(KEY_BITS // 8, "big")
        e = pub.e.to_bytes((pub.e.bit_length() + 7) // 8, "big")
        return tlv(0x7F49, tlv(0x81, n) + tlv(0x82, e))

    def cmd_generate(self, p1, p2, data):
        if p2 != 0x00 or not data:
            raise CardError(SW_WRONG_P1P2 if data else SW_WRONG_DATA)
        ref = CRT_KEY.get(data[0])
        if ref is None:
            raise CardError(SW_WRONG_DATA)
        if p1 == 0x80:
            self.need(0x83)
            key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
            pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
            self.st.d["keys"][str(ref)] = {"pem": pem, "origin": "generated"}
            # A new key has no fingerprint or timestamp until the host writes them.
            self.st.do_put(FP_TAG[ref], b"\x00" * 20)
            self.st.do_put(TS_TAG[ref], b"\x00" * 4)
            if ref == 1:
                self.st.d["sig_count"] = 0
            self.st.save()
        elif p1 == 0x81:
            key = self.st.key(ref)
            if key is None:
                raise CardError(SW_NOT_FOUND)
        else:
            raise CardError(SW_WRONG_P1P2)
        return self.public_do(key)

    @staticmethod
    def raw_sign(key, msg):
        """PKCS#1 v1.5 type 1 padding of msg (a DigestInfo), then RSA."""
        k = KEY_BITS // 8
        if len(msg) > k * 40 // 100 or not msg:
            raise CardError(SW_WRONG_LENGTH)
        em = b"\x00\x01" + b"\xff" * (k - 3 - len(msg)) + b"\x00" + msg
        priv = key.private_numbers()
        c = int.from_bytes(em, "big")
        # CRT: m1 = c^dP mod p, m2 = c^dQ mod q, h = qInv (m1 - m2) mod p
        m1 = pow(c, priv.dmp1, priv.p)
        m2 = pow(c, priv.dmq1, priv.q)
        h = (priv.iqmp * (m1 - m2)) % priv.p
        s = m2 + h * priv.q
        # Check before releasing (fault attacks are not an issue here, bugs are).
        if pow(s, priv.public_numbers.e, priv.public_numbers.n) != c:
            raise CardError(0x6F00)
        return s.to_bytes(k, "big")

    def cmd_pso(self, p1, p2, data):
        if (p1, p2) == (0x9E, 0x9A):
            self.need(0x81)
            key = self.st.key(1)
            if key is None:
                raise CardError(SW_NOT_FOUND)
            if self.st.d["pw1_multi"] == 0:
                self.verified[0x81] = False
            sig = self.raw_sign(key, data)
            self.st.d["sig_count"] = min(self.st.d["sig_count"] + 1, 0xFFFFFF)
            self.st.save()
            return sig
        if (p1, p2) == (0x80, 0x86):
            self.need(0x82)
            key = self.st.key(self.dec_key)
            if key is None:
                raise CardError(SW_NOT_FOUND)
            if len(data) != 1 + KEY_BITS // 8 or data[0] != 0x00:
                raise CardError(SW_WRONG_DATA)
            try:
                return key.decrypt(data[1:], padding.PKCS1v15())
            except ValueError:
                raise CardError(SW_WRONG_DATA)
        raise CardError(SW_WRONG_P1P2)

    def cmd_internal_auth(self, p1, p2, data):
        if (p1, p2) != (0x00, 0x00):
            raise CardError(SW_WRONG_P1P2)
        self.need(0x82)
        key = self.st.key(self.aut_key)
        if key is None:
            raise CardError(SW_NOT_FOUND)
        return self.raw_sign(key, data)

    def cmd_mse(self, p1, p2, data):
        if p1 != 0x41 or p2 not in (0xA4, 0xB8):
            raise CardError(SW_WRONG_P1P2)
        ref = None
        for tag, value in parse_tlv(data):
            if tag == 0x83 and len(value) == 1 and value[0] in (2, 3):
                ref = value[0]
        if ref is None:
            raise CardError(SW_WRONG_DATA)
        if p2 == 0xA4:
            self.aut_key = ref
        else:
            self.dec_key = ref
        return b""

    def cmd_select_data(self, p1, p2, data):
        if p2 != 0x04 or p1 > 2:
            raise CardError(SW_WRONG_P1P2)
        # 60 04 5C 02 7F 21
        if data != bytes.fromhex("60045C027F21"):
            raise CardError(SW_NOT_FOUND)
        self.cert_occ = p1
        return b""

    # -- dispatch ------------------------------------------------------------
    def cmd_select(self, p1, p2, data):
        if p1 != 0x04:
            raise CardError(SW_NOT_FOUND)
        if not data or not self.aid().startswith(data) or len(data) < len(AID_PREFIX):
            self.selected = False
            raise CardError(SW_NOT_FOUND)
        self.selected = True
        self.cert_occ = 0
        return b""

    def execute(self, cla, ins, p1, p2, data):
        if ins == 0xA4:
            return self.cmd_select(p1, p2, data)
        if not self.selected:
            raise CardError(SW_CONDITIONS)
        if ins == 0xCA:
            return self.get_data((p1 << 8) | p2)
        if ins == 0xCC:                              # GET NEXT DATA (7F21)
            if (p1 << 8 | p2) != 0x7F21 or self.cert_occ >= 2:
                raise CardError(SW_NOT_FOUND)
            self.cert_occ += 1
            return self.get_data(0x7F21)
        if ins == 0xDA:
            self.put_data((p1 << 8) | p2, data)
            return b""
        if ins == 0x20:
            return self.cmd_verify(p1, p2, data)
        if ins == 0x24:
            return self.cmd_change(p1, p2, data)
        if ins == 0x2C:
            return self.cmd_reset_retry(p1, p2, data)
        if ins == 0x47:
            return self.cmd_generate(p1, p2, data)
        if ins == 0x2A:
            return self.cmd_pso(p1, p2, data)
        if ins == 0x88:
            return self.cmd_internal_auth(p1, p2, data)
        if ins == 0x22:
            return self.cmd_mse(p1, p2, data)
        if ins == 0xA5:
            return self.cmd_select_data(p1, p2, data)
        if ins == 0x84:
            return secrets.token_bytes(MAX_CHALLENGE)
        raise CardError(SW_INS)

    def respond(self, payload, le):
        """First chunk of payload, the rest kept for GET RESPONSE."""
        limit = 256 if le in (None, 0) else le
        out, self.pending = payload[:limit], payload[limit:]
        if self.pending:
            left = len(self.pending)
            return out + struct.pack(">H", 0x6100 | (0 if left > 255 else left))
        return out + struct.pack(">H", SW_OK)

    def apdu(self, apdu):
        if len(apdu) < 4:
            return struct.pack(">H", SW_WRONG_LENGTH)
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[4:]
        data, le = b"", None
        if len(body) == 1:
            le = body[0]
        elif len(body) > 1:
            lc = body[0]
            if lc == 0:                                  # extended length
                return struct.pack(">H", SW_WRONG_LENGTH)
            if len(body) == 1 + lc:
                data = body[1:]
            elif len(body) == 2 + lc:
                data, le = body[1:-1], body[-1]
            else:
                return struct.pack(">H", SW_WRONG_LENGTH)
        if cla & ~0x10 & 0xFF not in (0x00, 0x0C):
            return struct.pack(">H", SW_CLA)
        secret = ins in (0x20, 0x24, 0x2C) or (ins == 0xDA and (p1 << 8 | p2) == 0x00D3)
        self.log("> %02X %02X %02X %02X Lc=%d%s" % (
            cla, ins, p1, p2, len(data), "" if secret or len(data) > 64 else " " + data.hex()))

        if ins == 0xC0:                                  # GET RESPONSE
            if not self.pending:
                return self.finish(struct.pack(">H", SW_CONDITIONS))
            return self.finish(self.respond(self.pending, le))
        self.pending = b""

        if cla & 0x10:                                   # command chaining
            key = (cla & ~0x10, ins, p1, p2)
            if self.chain and self.chain[0] != key:
                self.chain = None
                return self.finish(struct.pack(">H", SW_LAST_CMD))
            prev = self.chain[1] if self.chain else b""
            if len(prev) + len(data) > 4096:
                self.chain = None
                return self.finish(struct.pack(">H", SW_WRONG_LENGTH))
            self.chain = (key, prev + data)
            return self.finish(struct.pack(">H", SW_OK))
        if self.chain:
            if self.chain[0] != (cla, ins, p1, p2):
                self.chain = None
                return self.finish(struct.pack(">H", SW_LAST_CMD))
            data = self.chain[1] + data
            self.chain = None
        try:
            out = self.execute(cla, ins, p1, p2, data)
        except CardError as e:
            return self.finish(struct.pack(">H", e.sw))
        return self.finish(self.respond(out, le))

    def finish(self, rapdu):
        self.log("< %d bytes SW %s" % (len(rapdu) - 2, rapdu[-2:].hex().upper()))
        return rapdu


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("vpcd closed the connection")
        buf += chunk
    return buf


def serve(sock, card):
    while True:
        (n,) = struct.unpack(">H", recv_exact(sock, 2))
        msg = recv_exact(sock, n)
        if n == 1:
            if msg[0] == 0x00 or msg[0] == 0x02:         # power off, reset
                card.power_reset()
            elif msg[0] == 0x01:                         # power on
                card.power_reset()
            elif msg[0] == 0x04:                         # ATR
                sock.sendall(struct.pack(">H", len(card.atr)) + card.atr)
            continue
        rapdu = card.apdu(msg)
        sock.sendall(struct.pack(">H", len(rapdu)) + rapdu)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def main():
    ap = argparse.ArgumentParser(description="Virtual OpenPGP card (3.3, RSA-2048) for vpcd.")
    ap.add_argument("--state", required=True, help="JSON state file (created if missing)")
    ap.add_argument("--host", default="127.0.0.1", help="vpcd address (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=35963, help="vpcd port (default 35963)")
    ap.add_argument("--serial", help="8 hex digits, used when the state file is created")
    ap.add_argument("--log", help="append an APDU trace (no PINs) to this file")
    ap.add_argument("--once", action="store_true", help="exit when vpcd disconnects")
    args = ap.parse_args()
    if args.serial is not None:
        try:
            if len(bytes.fromhex(args.serial)) != 4:
                raise ValueError
        except ValueError:
            sys.exit("openpgp_card: --serial wants 8 hex digits")
        args.serial = args.serial.upper()

    logf = open(args.log, "a", buffering=1) if args.log else None

    def log(line):
        if logf:
            logf.write("%.3f %s\n" % (time.time(), line))

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    card = Card(State(args.state, args.serial), log)
    announced = False
    while True:
        try:
            sock = socket.create_connection((args.host, args.port), timeout=2)
        except OSError as e:
            if not announced:
                print("openpgp_card: waiting for vpcd on %s:%d (%s)" %
                      (args.host, args.port, e.strerror), file=sys.stderr)
                announced = True
            time.sleep(0.1)
            continue
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        log("connected to vpcd")
        card.power_reset()
        try:
            serve(sock, card)
        except (ConnectionError, OSError) as e:
            log("disconnected: %s" % e)
        finally:
            sock.close()
        if args.once:
            return 0
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())

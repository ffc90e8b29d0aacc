#!/usr/bin/env python3
"""test_card.py STATE_DIR - the virtual OpenPGP card's APDU handling, without pcscd.

Drives openpgp_card.Card with raw APDUs, as OpenSC would through vpcd.
"""

import hashlib
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openpgp_card as oc  # noqa: E402

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402

STATE_DIR = None
SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


def apdu(cla, ins, p1, p2, data=b"", le=None):
    out = bytes([cla, ins, p1, p2])
    if data:
        out += bytes([len(data)]) + data
    if le is not None:
        out += bytes([le])
    return out


class CardTest(unittest.TestCase):
    def setUp(self):
        self.dir = os.path.join(STATE_DIR, self.id().rsplit(".", 1)[-1])
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.path = os.path.join(self.dir, "card.json")
        self.card = self.new_card()
        self.ok(apdu(0, 0xA4, 4, 0, bytes.fromhex("D27600012401")))

    def new_card(self):
        return oc.Card(oc.State(self.path, "0A0B0C0D"), lambda line: None)

    def send(self, cmd):
        """Send one APDU, following 61xx with GET RESPONSE; returns (data, sw)."""
        r = self.card.apdu(cmd)
        data, sw = r[:-2], int.from_bytes(r[-2:], "big")
        while sw >> 8 == 0x61:
            r = self.card.apdu(apdu(0, 0xC0, 0, 0, le=sw & 0xFF))
            data, sw = data + r[:-2], int.from_bytes(r[-2:], "big")
        return data, sw

    def ok(self, cmd):
        data, sw = self.send(cmd)
        self.assertEqual(sw, 0x9000, "SW %04X for %s" % (sw, cmd[:4].hex()))
        return data

    def sw(self, cmd):
        return self.send(cmd)[1]

    def chained(self, ins, p1, p2, data, le=None):
        """Command chaining in 255-byte pieces, as OpenSC does."""
        pieces = [data[i:i + 255] for i in range(0, len(data), 255)]
        for piece in pieces[:-1]:
            self.assertEqual(self.card.apdu(apdu(0x10, ins, p1, p2, piece))[-2:], b"\x90\x00")
        return self.send(apdu(0, ins, p1, p2, pieces[-1], le))

    def verify(self, ref, pin):
        return self.sw(apdu(0, 0x20, 0, ref, pin.encode()))

    def tries(self):
        return list(self.ok(apdu(0, 0xCA, 0, 0xC4, le=0))[4:7])

    def generate(self, crt):
        self.assertEqual(self.verify(0x83, "12345678"), 0x9000)
        do = self.ok(apdu(0, 0x47, 0x80, 0, bytes([crt, 0]), le=0))
        tags = dict(oc.parse_tlv(do))
        inner = dict(oc.parse_tlv(tags[0x7F49]))
        n = int.from_bytes(inner[0x81], "big")
        e = int.from_bytes(inner[0x82], "big")
        return rsa.RSAPublicNumbers(e, n).public_key()

    # -- tests -----------------------------------------------------------------
    def test_select_and_aid(self):
        aid = self.ok(apdu(0, 0xCA, 0, 0x4F, le=0))
        self.assertEqual(aid.hex().upper(), "D276000124010303FFFF0A0B0C0D0000")
        self.assertEqual(self.sw(apdu(0, 0xA4, 4, 0, bytes.fromhex("A000000003"))), 0x6A88)
        self.assertEqual(self.sw(apdu(0, 0xCA, 0, 0x4F, le=0)), 0x6985)  # deselected

    def test_application_related_data(self):
        do = dict(oc.parse_tlv(self.ok(apdu(0, 0xCA, 0, 0x6E, le=0))))
        self.assertEqual(do[0x4F][6:8], b"\x03\x03")
        self.assertEqual(do[0x5F52], oc.HISTORICAL)
        dd = dict(oc.parse_tlv(do[0x73]))
        self.assertEqual(dd[0xC1], bytes.fromhex("010800002000"))
        self.assertEqual(dd[0xC4], bytes([0, 127, 127, 127, 3, 0, 3]))
        self.assertEqual(len(dd[0xC5]), 60)
        self.assertEqual(len(dd[0xC0]), 10)
        self.assertEqual(dd[0xDE], bytes([1, 0, 2, 0, 3, 0]))
        ch = dict(oc.parse_tlv(self.ok(apdu(0, 0xCA, 0, 0x65, le=0))))
        self.assertIn(0x5B, ch)
        self.assertEqual(self.sw(apdu(0, 0xCA, 0x12, 0x34, le=0)), 0x6A88)

    def test_atr_is_consistent(self):
        atr = self.card.atr
        x = 0
        for b in atr[1:]:
            x ^= b
        self.assertEqual(x, 0, "TCK")
        self.assertIn(oc.HISTORICAL, atr)
        self.assertEqual(oc.HISTORICAL[6] & 0x40, 0, "no extended length announced")
        self.assertEqual(oc.HISTORICAL[6] & 0x80, 0x80, "command chaining announced")

    def test_pw1_retry_counter_and_block(self):
        self.assertEqual(self.sw(apdu(0, 0x20, 0, 0x81)), 0x63C3)
        self.assertEqual(self.verify(0x81, "000000"), 0x63C2)
        self.assertEqual(self.tries()[0], 2)
        self.assertEqual(self.verify(0x82, "123456"), 0x9000)   # right PIN resets
        self.assertEqual(self.tries()[0], 3)
        for left in (2, 1, 0):
            self.assertEqual(self.verify(0x82, "654321"), 0x63C0 | left)
        self.assertEqual(self.verify(0x81, "123456"), 0x6983)   # blocked
        self.assertEqual(self.sw(apdu(0, 0x20, 0, 0x81)), 0x6983)
        self.assertEqual(self.tries(), [0, 0, 3])
        # survives a restart
        self.card = self.new_card()
        self.ok(apdu(0, 0xA4, 4, 0, bytes.fromhex("D27600012401")))
        self.assertEqual(self.verify(0x81, "123456"), 0x6983)
        # RESET RETRY COUNTER with PW3
        self.assertEqual(self.sw(apdu(0, 0x2C, 2, 0x81, b"11223344")), 0x6982)
        self.assertEqual(self.verify(0x83, "12345678"), 0x9000)
        self.assertEqual(self.sw(apdu(0, 0x2C, 2, 0x81, b"12345")), 0x6A80)   # too short
        self.ok(apdu(0, 0x2C, 2, 0x81, b"11223344"))
        self.assertEqual(self.tries()[0], 3)
        self.assertEqual(self.verify(0x81, "11223344"), 0x9000)

    def test_pw3_counter(self):
        for left in (2, 1, 0):
            self.assertEqual(self.verify(0x83, "87654321"), 0x63C0 | left)
        self.assertEqual(self.verify(0x83, "12345678"), 0x6983)
        self.assertEqual(self.tries()[2], 0)

    def test_change_reference_data(self):
        self.ok(apdu(0, 0x24, 0, 0x81, b"123456" + b"abcdefgh"))
        self.assertEqual(self.verify(0x81, "123456"), 0x63C2)
        self.assertEqual(self.verify(0x81, "abcdefgh"), 0x9000)
        self.assertEqual(self.sw(apdu(0, 0x24, 0, 0x81, b"wrongpin" + b"12345678")), 0x63C2)
        self.assertEqual(self.sw(apdu(0, 0x24, 0, 0x81, b"abcdefgh" + b"123")), 0x6A80)
        self.ok(apdu(0, 0x24, 0, 0x83, b"12345678" + b"admin-pin-2"))
        self.assertEqual(self.verify(0x83, "admin-pin-2"), 0x9000)
        card = self.new_card()     # persisted
        self.assertEqual(card.st.d["pw1"], "abcdefgh")

    def test_resetting_code(self):
        self.assertEqual(self.sw(apdu(0, 0x2C, 0, 0x81, b"resetcod" + b"654321")), 0x6985)
        self.assertEqual(self.verify(0x83, "12345678"), 0x9000)
        self.ok(apdu(0, 0xDA, 0, 0xD3, b"resetcod"))
        self.assertEqual(self.tries()[1], 3)
        self.assertEqual(self.sw(apdu(0, 0x2C, 0, 0x81, b"resetcoX" + b"654321")), 0x63C2)
        self.ok(apdu(0, 0x2C, 0, 0x81, b"resetcod" + b"654321"))
        self.assertEqual(self.verify(0x81, "654321"), 0x9000)

    def test_generate_and_sign(self):
        self.assertEqual(self.sw(apdu(0, 0x47, 0x80, 0, b"\xb6\x00", le=0)), 0x6982)
        pub = self.generate(0xB6)
        again = self.ok(apdu(0, 0x47, 0x81, 0, b"\xb6\x00", le=0))
        self.assertIn(pub.public_numbers().n.to_bytes(256, "big"), again)
        digest_info = SHA256_PREFIX + hashlib.sha256(b"hello").digest()
        self.assertEqual(self.sw(apdu(0, 0x2A, 0x9E, 0x9A, digest_info, le=0)), 0x6982)
        self.assertEqual(self.verify(0x81, "123456"), 0x9000)
        sig = self.ok(apdu(0, 0x2A, 0x9E, 0x9A, digest_info, le=0))
        pub.verify(sig, b"hello", padding.PKCS1v15(), hashes.SHA256())
        # PW1 (81) is good for one signature only
        self.assertEqual(self.sw(apdu(0, 0x2A, 0x9E, 0x9A, digest_info, le=0)), 0x6982)
        sc = dict(oc.parse_tlv(self.ok(apdu(0, 0xCA, 0, 0x7A, le=0))))
        self.assertEqual(sc[0x93], b"\x00\x00\x01")
        # with C4 byte 1 = 01 it stays valid
        self.assertEqual(self.verify(0x83, "12345678"), 0x9000)
        self.ok(apdu(0, 0xDA, 0, 0xC4, b"\x01"))
        self.assertEqual(self.verify(0x81, "123456"), 0x9000)
        self.ok(apdu(0, 0x2A, 0x9E, 0x9A, digest_info, le=0))
        self.ok(apdu(0, 0x2A, 0x9E, 0x9A, digest_info, le=0))
        # key survives a restart, power cycles drop the PIN state
        self.card = self.new_card()
        self.ok(apdu(0, 0xA4, 4, 0, bytes.fromhex("D27600012401")))
        self.assertEqual(self.sw(apdu(0, 0x2A, 0x9E, 0x9A, digest_info, le=0)), 0x6982)
        self.assertEqual(self.verify(0x81, "123456"), 0x9000)
        sig = self.ok(apdu(0, 0x2A, 0x9E, 0x9A, digest_info, le=0))
        pub.verify(sig, b"hello", padding.PKCS1v15(), hashes.SHA256())
        self.assertEqual(self.card.key_info(), bytes([1, 1, 2, 0, 3, 0]))

    def test_decipher_chained_and_internal_auth(self):
        pub = self.generate(0xB8)
        ct = pub.encrypt(b"session key 16 b", padding.PKCS1v15())
        self.assertEqual(self.verify(0x82, "123456"), 0x9000)
        data, sw = self.chained(0x2A, 0x80, 0x86, b"\x00" + ct, le=0)
        self.assertEqual((data, sw), (b"session key 16 b", 0x9000))
        self.assertEqual(self.sw(apdu(0, 0x2A, 0x80, 0x86, b"\x00" + ct[:100], le=0)), 0x6A80)
        aut = self.generate(0xA4)
        self.assertEqual(self.verify(0x82, "123456"), 0x9000)
        challenge = SHA256_PREFIX + hashlib.sha256(b"challenge").digest()
        sig = self.ok(apdu(0, 0x88, 0, 0, challenge, le=0))
        aut.verify(sig, b"challenge", padding.PKCS1v15(), hashes.SHA256())
        # MSE: decipher with the authentication key
        ct3 = aut.encrypt(b"via key 3", padding.PKCS1v15())
        self.ok(apdu(0, 0x22, 0x41, 0xB8, b"\x83\x01\x03"))
        self.assertEqual(self.chained(0x2A, 0x80, 0x86, b"\x00" + ct3, le=0), (b"via key 3", 0x9000))

    def test_chaining_errors(self):
        self.assertEqual(self.card.apdu(apdu(0x10, 0xDA, 0x7F, 0x21, b"a" * 10))[-2:], b"\x90\x00")
        # a different command in the middle of a chain is refused
        self.assertEqual(self.sw(apdu(0, 0xCA, 0, 0x4F, le=0)), 0x6883)
        # extended length is refused
        self.assertEqual(self.sw(bytes([0, 0xCA, 0, 0x6E, 0, 0, 0])), 0x6700)
        # GET RESPONSE with nothing pending
        self.assertEqual(self.sw(apdu(0, 0xC0, 0, 0, le=0)), 0x6985)

    def test_certificate_put_get_and_occurrences(self):
        cert = os.urandom(1200)
        self.assertEqual(self.chained(0xDA, 0x7F, 0x21, cert)[1], 0x6982)
        self.assertEqual(self.verify(0x83, "12345678"), 0x9000)
        self.ok(apdu(0, 0xA5, 2, 4, bytes.fromhex("60045C027F21")))
        self.assertEqual(self.chained(0xDA, 0x7F, 0x21, cert)[1], 0x9000)
        self.assertEqual(self.ok(apdu(0, 0xCA, 0x7F, 0x21, le=0)), cert)
        self.ok(apdu(0, 0xA5, 0, 4, bytes.fromhex("60045C027F21")))
        self.assertEqual(self.ok(apdu(0, 0xCA, 0x7F, 0x21, le=0)), b"")
        self.assertEqual(self.ok(apdu(0, 0xCC, 0x7F, 0x21, le=0)), b"")
        self.assertEqual(self.ok(apdu(0, 0xCC, 0x7F, 0x21, le=0)), cert)
        # fingerprints, timestamps, name
        self.ok(apdu(0, 0xDA, 0, 0xC7, bytes(range(20))))
        self.ok(apdu(0, 0xDA, 0, 0xCE, b"\x01\x02\x03\x04"))
        self.ok(apdu(0, 0xDA, 0, 0x5B, b"SAST<<Token"))
        self.assertEqual(self.sw(apdu(0, 0xDA, 0, 0xC7, bytes(19))), 0x6700)
        self.assertEqual(self.sw(apdu(0, 0xDA, 0, 0xC1, bytes.fromhex("010400002000"))), 0x6A80)
        card = self.new_card()
        self.assertEqual(card.fingerprints(oc.FP_TAG)[:20], bytes(range(20)))
        self.assertEqual(card.timestamps()[:4], b"\x01\x02\x03\x04")
        self.assertEqual(bytes.fromhex(card.st.d["certs"][2]), cert)
        self.assertEqual([f for f in os.listdir(self.dir) if f != "card.json"], [],
                         "no temporary files left behind")

    def test_initial_pins_from_environment(self):
        os.environ["VCARD_PW1"] = "246813"
        try:
            path = os.path.join(self.dir, "env.json")
            card = oc.Card(oc.State(path), lambda line: None)
        finally:
            del os.environ["VCARD_PW1"]
        self.assertEqual(card.st.d["pw1"], "246813")
        self.assertEqual(card.st.d["pw3"], "12345678")


if __name__ == "__main__":
    STATE_DIR = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else "/tmp/vcard-unit"
    unittest.main(verbosity=1)

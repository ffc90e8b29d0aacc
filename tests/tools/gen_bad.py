#!/usr/bin/env python3
"""gen_bad.py - writes the hostile test files in tests/data/bad/ from the interop vectors.

Each case is NAME.bin plus NAME.expect ("exit: N" and "message: SUBSTRING"). The files are
committed; this script only documents how they were made. Run from anywhere:
    python3 tests/tools/gen_bad.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
VEC = os.path.join(HERE, "..", "data", "vectors")
OUT = os.path.join(HERE, "..", "data", "bad")


def tlv(tag, value):
    return bytes([tag]) + struct.pack(">H", len(value)) + value


def read(name):
    with open(os.path.join(VEC, name), "rb") as f:
        return f.read()


def split(data):
    """-> (header elements [(tag, value)], pad count, body)"""
    hlen = struct.unpack(">H", data[8:10])[0]
    elems, i, pad = [], 0, 0
    while i < hlen:
        if data[i] == 13:
            pad += 1
            i += 1
            continue
        n = struct.unpack(">H", data[i + 1:i + 3])[0]
        elems.append((data[i], data[i + 3:i + 3 + n]))
        i += 3 + n
    return elems, pad, data[hlen:]


def join(elems, body, pad=None, hlen=None):
    """Header with tag 2 fixed up (unless hlen is given) and padding to a multiple of 4."""
    raw = b"".join(tlv(t, v) for t, v in elems)
    if pad is None:
        pad = (-len(raw)) % 4
    raw += b"\x0d" * pad
    if hlen is None:
        hlen = len(raw)
    out = bytearray(raw)
    assert out[5:8] == b"\x02\x00\x02"  # tag 2 is always the second element
    out[8:10] = struct.pack(">H", hlen & 0xFFFF)
    return bytes(out) + body


def replace(elems, tag, value):
    return [(t, value if t == tag else v) for t, v in elems]


def sub(container, tag, value):
    """Replaces element `tag` inside a container value."""
    out, i = b"", 0
    while i < len(container):
        t = container[i]
        n = struct.unpack(">H", container[i + 1:i + 3])[0]
        v = container[i + 3:i + 3 + n]
        out += tlv(t, value if t == tag else v) if value is not None or t != tag else b""
        i += 3 + n
    return out


def rec(fields):
    body = b"".join(tlv(t, v) for t, v in fields)
    return tlv(1, struct.pack(">H", len(body) + 5)) + body


cases = {}


def case(name, data, code, msg):
    cases[name] = (data, code, msg)


ctl = read("CTLFile.tlv")
E, PAD, BODY = split(ctl)
sgn = read("SEP001122334455.cnf.xml.sgn")
SE, _, SBODY = split(sgn)
enc = read("enc/SEP001122334455.cnf.xml.enc.sgn")
EE, _, EBODY = split(enc)
get = dict(E)

# --- truncation and lengths
case("empty", b"", 4, "file is empty")
case("trunc-1-byte", ctl[:1], 4, "too short for the version element")
case("trunc-in-header", ctl[:100], 4, "header length 428 runs past the end of the file")
case("trunc-in-record", ctl[:-10], 4, "runs past the end of the file")
case("trunc-record-length", ctl[:428 + 3], 4, "truncated record length element")
case("not-a-ctl", b"<?xml version='1.0'?><device/>\n", 4, "expected version (tag 1) at offset 0")
hl = bytearray(ctl); hl[8:10] = struct.pack(">H", 424)
case("hdrlen-short", bytes(hl), 4, "header end 424")
hl = bytearray(ctl); hl[8:10] = struct.pack(">H", 432)
case("hdrlen-long", bytes(hl), 4, "header length 432 does not match where the header ends")
hl = bytearray(ctl); hl[8:10] = struct.pack(">H", 0xFFFF)
case("hdrlen-beyond-file", bytes(hl), 4, "header length 65535 runs past the end of the file")
hl = bytearray(ctl); hl[8:10] = struct.pack(">H", 4)
case("hdrlen-tiny", bytes(hl), 4, "header length 4 is too small")
case("hdr-elem-64k", join(E[:-1] + [(14, b"A" * 0xFFFF)], BODY), 4, "runs past the header end")
mid = b"".join(tlv(t, v) for t, v in E[:6]) + b"\x0d" + b"".join(tlv(t, v) for t, v in E[6:])
mid += b"\x0d" * ((-len(mid)) % 4)
mid = mid[:8] + struct.pack(">H", len(mid)) + mid[10:]
case("padding-in-middle", mid + BODY, 4, "follows the padding")

# --- required, duplicate and unknown elements
case("sig-missing", join([e for e in E if e[0] != 12], BODY), 4, "required tag 12 is missing")
i12 = [t for t, _ in E].index(12)
case("sig-twice", join(E[:i12 + 1] + [E[i12]] + E[i12 + 1:], BODY), 4, "duplicate tag 12")
case("version-twice", join(E[:2] + [E[0]] + E[2:], BODY), 4, "duplicate tag 1")
case("timestamp-missing", join([e for e in E if e[0] != 15], BODY), 4, "required tag 15 is missing")
case("unknown-hdr-tag", join(E[:-1] + [(99, b"\x00")] + E[-1:], BODY), 4, "header: unknown tag 99 at offset 419")
case("unknown-hdr-tag-29", join(E[:3] + [(29, b"")] + E[3:], BODY), 4, "header: unknown tag 29 at offset 15")
case("signer-serial-missing", join(replace(E, 3, sub(get[3], 5, None)), BODY), 4,
     "required tag 5 is missing")
case("signer-name-empty", join(replace(E, 3, sub(get[3], 4, b"")), BODY), 4,
     "signer name (tag 4) at offset 18 is empty")
case("signer-name-nul-only", join(replace(E, 3, sub(get[3], 4, b"\x00")), BODY), 4,
     "signer name (tag 4) at offset 18 is empty")
case("signer-name-no-nul", join(replace(E, 3, sub(get[3], 4, b"CN=x")), BODY), 4,
     "signer name (tag 4) at offset 18 is not NUL-terminated")
case("signer-name-control", join(replace(E, 3, sub(get[3], 4, b"CN=a\x1b[2Jb\x00")), BODY), 4,
     "control byte 0x1b")
case("issuer-name-embedded-nul", join(replace(E, 3, sub(get[3], 6, b"CN=a\x00b\x00")), BODY), 4,
     "control byte 0x00")
case("file-name-empty", join(replace(E, 14, b""), BODY), 4, "file name (tag 14)")
case("timestamp-short", join(replace(E, 15, b"\x01\x02"), BODY), 4,
     "timestamp (tag 15) at offset 419 has length 2, expected 4")
case("sig-info-extra", join(replace(E, 7, get[7] + tlv(8, b"\x01")), BODY), 4, "duplicate tag 8")
case("sgn-with-signer-version", join(SE[:2] + [(28, b"\x01\x00")] + SE[2:], SBODY), 4,
     "signer version (tag 28)")
case("ctl-with-enc-tag", join(E + [(26, b"\x03")], BODY), 4, "encryption tag 26")

# --- algorithms and versions
case("version-unknown", join(replace(E, 1, b"\x03\x05"), BODY), 7, "version 3.5 is not supported")
case("hash-unknown", join(replace(E, 7, sub(get[7], 8, b"\x04")), BODY), 7,
     "hash algorithm 4 at offset")
case("hash-zero", join(replace(E, 7, sub(get[7], 8, b"\x00")), BODY), 7, "hash algorithm 0")
case("sig-alg-unknown", join(replace(E, 7, sub(get[7], 9, tlv(10, b"\x01") + tlv(11, b"\x02"))), BODY),
     7, "signature algorithm 1")
case("modulus-code-unknown", join(replace(E, 7, sub(get[7], 9, tlv(10, b"\x00") + tlv(11, b"\x07"))), BODY),
     7, "modulus code 7")
case("sig-len-vs-modulus", join(replace(E, 7, sub(get[7], 9, tlv(10, b"\x00") + tlv(11, b"\x01"))), BODY),
     4, "is 256 bytes, but modulus code 1 means 128")
case("sig-short", join(replace(E, 12, get[12][:255]), BODY), 4, "is 255 bytes, but modulus code 2 means 256")

# --- records
case("no-records", join(E, b""), 4, "has no records")
r0len = struct.unpack(">H", BODY[3:5])[0]
b = bytearray(BODY); b[3:5] = struct.pack(">H", r0len - 1)
case("record-len-short", join(E, bytes(b)), 4, "runs past the record end (record length 1518")
b = bytearray(BODY); b[3:5] = struct.pack(">H", r0len + 3)
case("record-len-long", join(E, bytes(b)), 4, "record at offset 428: field tag 1 at offset 1947 runs past the record end (record length 1522")
b = bytearray(BODY); b[3:5] = struct.pack(">H", 3)
case("record-len-tiny", join(E, bytes(b)), 4, "record length 3 is too small")
offs, i = [], 0
while i < len(BODY):
    offs.append(i)
    i += struct.unpack(">H", BODY[i + 3:i + 5])[0]
b = bytearray(BODY); b[offs[-1] + 3:offs[-1] + 5] = struct.pack(">H", 0xFFFF)
case("record-len-beyond-file", join(E, bytes(b)), 4, "record length 65535 runs past the end of the file")
b = bytearray(BODY); b[0] = 2
case("record-no-length", join(E, bytes(b)), 4, "expected record length (tag 1), found tag 2")
base_rec = [(3, b"CN=a\x00"), (5, b"CN=a\x00"), (6, b"\x01"), (4, b"\x00\x00")]
case("record-unknown-tag", join(E, rec(base_rec + [(40, b"x")])), 4, "record at offset 428: unknown tag 40 at offset 458")
case("record-dup-role", join(E, rec(base_rec + [(4, b"\x00\x01")])), 4, "duplicate tag 4")
case("record-role-missing", join(E, rec(base_rec[:3])), 4, "required tag 4 is missing")
case("record-role-1-byte", join(E, rec(base_rec[:3] + [(4, b"\x00")])), 4,
     "role (tag 4) at offset 453 has length 1, expected 2")
case("record-subject-empty", join(E, rec([(3, b"")] + base_rec[1:])), 4, "subject name (tag 3) at offset 433 is empty")
case("record-issuer-no-nul", join(E, rec(base_rec[:1] + [(5, b"CN=a")] + base_rec[2:])), 4,
     "issuer name (tag 5) at offset 441 is not NUL-terminated")
case("record-ip-5-bytes", join(E, rec(base_rec + [(10, b"\x01\x02\x03\x04\x05")])), 4,
     "IP address (tag 10)")
big = tlv(1, b"\xff\xff") + bytes([9]) + struct.pack(">H", 0xFFF8) + b"\x30" * 0xFFF8
case("record-field-64k", join(E, big), 4, "runs past the record end (record length 65535")
small = rec(base_rec)
case("records-too-many", join(E, small * 4097), 4, "more than 4096 records")
case("records-4096-no-signer", join(E, small * 4096), 6, "no SAST record with a certificate matches")
b = bytearray(BODY); b[offs[0] + 5 + 3 + 40 + 3 + 40 + 3 + 20 + 3] = 5  # first record's role -> 0x0005
# (role field value bytes are after subject/issuer/serial; this makes sast1 an unknown role)
case("signer-role-not-sast", join(E, bytes(b)), 6, "no SAST record")

# --- signatures
b = bytearray(ctl); b[200] ^= 0x01
case("sig-flipped", bytes(b), 5, "signature does not verify")
b = bytearray(ctl); b[-1] ^= 0x01
case("body-flipped", bytes(b), 5, "signature does not verify")
case("signer-serial-changed", join(replace(E, 3, sub(get[3], 5, b"\x01\x02")), BODY), 6,
     "serial 0102")

# --- fields real records leave out (issue 11 §2): what stays refused next to what is now read
case("record-dns-zero-length", join(E, rec([(2, b"")] + base_rec)), 4,
     "DNS name (tag 2) at offset 433 is empty (length 0; an empty name is one NUL byte)")
case("record-dns-no-nul", join(E, rec([(2, b"cucm")] + base_rec)), 4,
     "DNS name (tag 2) at offset 433 is not NUL-terminated")
case("record-nonsecure-no-role", join(E, rec([(2, b"cucm-pub-001\x00"), (10, b"\x0a\x00\x00\x0c")])), 4,
     "required tag 4 is missing")


def drop_from_record(body, index, tag):
    """body with field `tag` removed from record number `index` (record length fixed)."""
    i, n = 0, 0
    while True:
        rl = struct.unpack(">H", body[i + 3:i + 5])[0]
        if n == index:
            break
        i += rl
        n += 1
    fields, j = [], i + 5
    while j < i + rl:
        t = body[j]
        ln = struct.unpack(">H", body[j + 1:j + 3])[0]
        if t != tag:
            fields.append((t, body[j + 3:j + 3 + ln]))
        j += 3 + ln
    return body[:i] + rec(fields) + body[i + rl:]


# A record without a certificate, or with one but no issuer, is never the signer.
case("signer-record-no-cert", join(E, drop_from_record(BODY, 0, 9)), 6,
     "no SAST record with a certificate matches the signer")
case("signer-record-no-issuer", join(E, drop_from_record(BODY, 0, 5)), 6,
     "no SAST record with a certificate matches the signer")
case("sgn-timestamp-missing", join([e for e in SE if e[0] != 15], SBODY), 4, "required tag 15 is missing")
case("version-1-3", join(replace(E, 1, b"\x01\x03"), BODY), 7, "file version 1.3 is not supported")

# --- signed firmware (header version 1.1, issue 11 §3): the header rules that stay
fw = read("../vendor/SIP-example.loads")
FE, _, FBODY = split(fw)
case("fw-sig-missing", join([e for e in FE if e[0] != 12], FBODY), 4, "required tag 12 is missing")
case("fw-file-name-missing", join([e for e in FE if e[0] != 14], FBODY), 4, "required tag 14 is missing")
case("fw-timestamp-short", join(FE + [(15, b"\x01\x02")], FBODY), 4, "timestamp (tag 15) at offset")
case("fw-signer-version", join(FE[:2] + [(28, b"\x01\x01")] + FE[2:], FBODY), 4,
     "signer version (tag 28) at offset 10 in a version 1.1 file")
case("fw-enc-tag", join(FE + [(26, b"\x03")], FBODY), 4, "encryption tag 26")
case("fw-hdrlen-long", fw[:8] + struct.pack(">H", len(fw)) + fw[10:], 4,
     "follows the padding; header length 454 does not match")

# --- .enc.sgn
case("enc-body-not-block", enc[:-5], 4, "not a non-zero multiple of 16")
case("enc-body-empty", join(EE, b""), 4, "not a non-zero multiple of 16")
eget = dict(EE)
case("enc-iv-short", join(replace(EE, 16, sub(eget[16], 17, tlv(18, b"\x00") + tlv(19, b"\x00" * 15) + tlv(20, b"\x00\x03"))), EBODY),
     4, "IV (tag 19)")
case("enc-pad-16", join(replace(EE, 16, sub(eget[16], 17, tlv(18, b"\x00") + tlv(19, b"\x00" * 16) + tlv(20, b"\x00\x10"))), EBODY),
     4, "padding count (tag 20) 16")
case("enc-key-info-missing", join(replace(EE, 16, sub(eget[16], 21, None)), EBODY), 4, "required tag 21 is missing")
case("enc-content-hash-missing", join([e for e in EE if e[0] != 27], EBODY), 4, "required tag 27 is missing")
case("enc-content-hash-short", join(replace(EE, 27, eget[27][:32]), EBODY), 4, "content hash (tag 27) is 32 bytes")
case("enc-content-hash-alg-9", join(replace(EE, 26, b"\x09"), EBODY), 7, "content hash algorithm 9")


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (data, code, msg) in sorted(cases.items()):
        with open(os.path.join(OUT, name + ".bin"), "wb") as f:
            f.write(data)
        with open(os.path.join(OUT, name + ".expect"), "w") as f:
            f.write("exit: %d\nmessage: %s\n" % (code, msg))
    print("wrote %d cases to %s" % (len(cases), os.path.normpath(OUT)))


if __name__ == "__main__":
    main()

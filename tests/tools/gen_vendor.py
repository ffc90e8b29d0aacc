#!/usr/bin/env python3
"""gen_vendor.py - writes tests/data/vendor/: files laid out the way real clusters and the
vendor's TFTP directories lay them out (issue 11 §2, §3), signed with the test-only keys of
tests/data/vectors. Written from the layout descriptions in SPEC.md §3.5, not from any
other implementation.

The files are committed; this script documents how they were made and rebuilds them
byte for byte (RSA PKCS#1 v1.5 is deterministic and the certificate's dates are fixed):
    python3 tests/tools/gen_vendor.py

What each file is:
  ctl-sast-empty-dns.tlv   mixed CTL, SHA-512, no signer version (tag 28); both SAST
                           records have a DNS name of one NUL byte and no tag 8; records
                           in the vendor's field order 2,3,4,5,6,7,8,9,10; signed by sast1
  ctl-nonsecure.tlv        non-secure CTL, SHA-1: SAST records with certificates, then a
                           CCM+TFTP record of only DNS name, role and IP (33 bytes) and a
                           TFTP record of the same kind; signed by sast2
  ctl-certless-sast-first.tlv  mixed CTL whose first SAST record names the signer's issuer
                           and serial but carries no certificate; the signer's full record
                           follows (a record without a certificate is never a signer)
  ctl-vendor-names.tlv     as ctl-sast-empty-dns.tlv with the vendor's ';' names in the
                           header and the records (reading them is §1 of the issue)
  firmware.crt             the stand-in "firmware signing" certificate: tftp2's key,
                           subject/issuer CN=fw-signer;OU=Voice;O=Example Corp, 8-byte serial
  SIP-example.loads        signed load list: header version 1.1, ';' names, 8-byte serial,
                           no timestamp (tag 15), SHA-1
  cp-example.sbn           signed image, same header with SHA-512, binary body
  term-example.zz.sgn      signed image, SHA-1, header file name without the .sgn
  fw-names-tftp2.sbn       version 1.1 file whose header names tftp2 (issuer and serial)
                           and is signed by tftp2's key, which CTLFile.tlv lists as TFTP:
                           only its kind keeps a device from accepting it as a config
  not-firmware.loads       a plain XML load list named .loads (no signed header)
  SEP001122334455.cnf.xml.sha256.sgn  a .sgn with hash code 2 (SHA-256), signed by ccm:
                           what we wrote before issue 11 §4; reading it stays
  ctl-quoted-names.tlv     as ctl-vendor-names.tlv with the eToken syntax of the names:
                           lower-case keys, values with a space in double quotes
                           (cn=SAST-ADN0001;o="Example Corp";ou=Voice), signed by sast2

A CTL in the vendor's layout for other keys (the adoption tests, issue 11 §5: keys that
are also imported into SoftHSM tokens):
    python3 tests/tools/gen_vendor.py ctl --key KEY.pem --cert CERT.pem -o OUT \
        [--names comma|semicolon|quoted] [--digest sha1|sha512] [--timestamp UNIX] \
        [--signer-version 1.0|1.1] sast:CERT.pem ... ROLE:CERT.pem[:DNS[:IP]] ...
ROLE is ccm, ccm+tftp, tftp or capf; SAST records get the vendor's empty DNS name and
no tag 8, server records the vendor's field order.
"""
import argparse
import datetime
import os
import struct
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
VEC = os.path.join(HERE, "..", "data", "vectors")
OUT = os.path.join(HERE, "..", "data", "vendor")

HASHES = {1: hashes.SHA1, 2: hashes.SHA256, 3: hashes.SHA512}
SHORT = {NameOID.COMMON_NAME: "CN", NameOID.ORGANIZATION_NAME: "O",
         NameOID.ORGANIZATIONAL_UNIT_NAME: "OU", NameOID.LOCALITY_NAME: "L",
         NameOID.STATE_OR_PROVINCE_NAME: "ST", NameOID.COUNTRY_NAME: "C"}


def tlv(tag, value):
    return bytes([tag]) + struct.pack(">H", len(value)) + value


def cstr(s):
    return s.encode() + b"\x00"


def key(name, path=None):
    with open(path or os.path.join(VEC, name + ".key"), "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def cert(name, path=None):
    with open(path or os.path.join(VEC, name + ".crt"), "rb") as f:
        data = f.read()
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        return x509.load_der_x509_certificate(data)


def name_str(name, sep):
    """Certificate (DER) order, CN first as the certificates have it. sep "quoted" is the
    eToken syntax: ';', lower-case keys, a value with a space in double quotes (the
    spaces inside the quotes are part of the value)."""
    if sep == "quoted":
        return ";".join("%s=%s" % (SHORT[a.oid].lower(),
                                   '"%s"' % a.value if " " in a.value else a.value)
                        for a in name)
    return sep.join("%s=%s" % (SHORT[a.oid], a.value) for a in name)


def serial_bytes(c):
    n = c.serial_number
    return n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big")


def der(c):
    return c.public_bytes(serialization.Encoding.DER)


def pkcs1_pub(c):
    return c.public_key().public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.PKCS1)


def signed_file(version, signer_name, issuer_name, serial, hash_alg, file_name, body, k,
                timestamp=None, signer_version=None):
    """The signed header of SPEC §3.1, then body. The signature covers the file without
    its tag-12 element."""
    bits = k.key_size
    mod = {512: 0, 1024: 1, 2048: 2, 4096: 3}[bits]
    sig_len = bits // 8
    pre = [tlv(1, bytes(version)), None]
    if signer_version is not None:
        pre.append(tlv(28, bytes(signer_version)))
    pre.append(tlv(3, tlv(4, cstr(signer_name)) + tlv(5, serial) + tlv(6, cstr(issuer_name))))
    pre.append(tlv(7, tlv(8, bytes([hash_alg])) + tlv(9, tlv(10, b"\x00") + tlv(11, bytes([mod])))))
    post = [tlv(14, cstr(file_name))]
    if timestamp is not None:
        post.append(tlv(15, struct.pack(">I", timestamp)))
    n = sum(len(e) for e in pre if e) + 5 + (3 + sig_len) + sum(len(e) for e in post)
    pad = (-n) % 4
    pre[1] = tlv(2, struct.pack(">H", n + pad))
    head, tail = b"".join(pre), b"".join(post) + b"\x0d" * pad
    sig = k.sign(head + tail + body, padding.PKCS1v15(), HASHES[hash_alg]())
    assert len(sig) == sig_len
    return head + tlv(12, sig) + tail + body


def record(fields):
    """A CTL record: tag 1 (length of the whole record) then the fields as given."""
    raw = b"".join(tlv(t, v) for t, v in fields)
    return tlv(1, struct.pack(">H", len(raw) + 5)) + raw


def cert_fields(c, sep):
    return [(3, cstr(name_str(c.subject, sep))), (5, cstr(name_str(c.issuer, sep))),
            (6, serial_bytes(c))]


def sast_record(c, sep=","):
    """A vendor SAST record: DNS name one NUL byte, no certificate signature (tag 8)."""
    f = cert_fields(c, sep)
    return record([(2, b"\x00"), f[0], (4, struct.pack(">H", 0)), f[1], f[2],
                   (7, pkcs1_pub(c)), (9, der(c))])


def server_record(c, role, dns, ip, sep=","):
    """A mixed-mode server record in the vendor's order 2,3,4,5,6,7,8,9,10."""
    f = cert_fields(c, sep)
    return record([(2, cstr(dns)), f[0], (4, struct.pack(">H", role)), f[1], f[2],
                   (7, pkcs1_pub(c)), (8, c.signature), (9, der(c)), (10, bytes(ip))])


def nonsecure_record(role, dns, ip):
    """A non-secure server record: DNS name, role, IP and nothing else."""
    return record([(2, cstr(dns)), (4, struct.pack(">H", role)), (10, bytes(ip))])


def ctl(recs, signer, hash_alg, sep=",", signer_version=None, ts=1767225600, k=None,
        file_name="CTLFile.tlv"):
    c = signer if k is not None else cert(signer)
    return signed_file((1, 2), name_str(c.subject, sep), name_str(c.issuer, sep),
                       serial_bytes(c), hash_alg, file_name, b"".join(recs),
                       k if k is not None else key(signer), timestamp=ts,
                       signer_version=signer_version)


ROLES = {"ccm": 1, "ccm+tftp": 2, "tftp": 3, "capf": 4}


def main_ctl(argv):
    """gen_vendor.py ctl ...: one vendor-layout CTL for the given keys (see the top)."""
    ap = argparse.ArgumentParser(prog="gen_vendor.py ctl")
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("-o", dest="out", required=True)
    ap.add_argument("--names", choices=("comma", "semicolon", "quoted"), default="semicolon")
    ap.add_argument("--digest", choices=("sha1", "sha512"), default="sha512")
    ap.add_argument("--timestamp", type=int, default=1767225600)
    ap.add_argument("--signer-version", choices=("1.0", "1.1"),
                    help="write tag 28 (the vendor's files may leave it out)")
    ap.add_argument("records", nargs="+")
    a = ap.parse_args(argv)
    sep = {"comma": ",", "semicolon": ";", "quoted": "quoted"}[a.names]
    recs = []
    for spec in a.records:
        parts = spec.split(":")
        if parts[0] == "sast" and len(parts) == 2:
            recs.append(sast_record(cert(None, parts[1]), sep))
        elif parts[0] in ROLES and 2 <= len(parts) <= 4:
            dns = parts[2] if len(parts) > 2 else "server%d.example" % len(recs)
            ip = [int(x) for x in parts[3].split(".")] if len(parts) > 3 else [10, 9, 0, len(recs)]
            recs.append(server_record(cert(None, parts[1]), ROLES[parts[0]], dns, ip, sep))
        else:
            ap.error("record '%s': sast:CERT or ROLE:CERT[:DNS[:IP]]" % spec)
    sv = tuple(int(x) for x in a.signer_version.split(".")) if a.signer_version else None
    data = ctl(recs, cert(None, a.cert), {"sha1": 1, "sha512": 3}[a.digest], sep,
               ts=a.timestamp, k=key(None, a.key), signer_version=sv)
    with open(a.out, "wb") as fh:
        fh.write(data)


def firmware_cert():
    """tftp2's key under a certificate with an 8-byte serial, as firmware signers have."""
    k = key("tftp2")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fw-signer"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Voice"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Corp")])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(k.public_key()).serial_number(0x5A17C0DE0BADF00D)
            .not_valid_before(datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))
            .not_valid_after(datetime.datetime(2044, 1, 1, tzinfo=datetime.timezone.utc))
            .sign(k, hashes.SHA256())), k


def main():
    os.makedirs(OUT, exist_ok=True)
    files = {}
    s1, s2, ccm, capf, tftp2 = (cert(n) for n in ("sast1", "sast2", "ccm", "capf", "tftp2"))

    files["ctl-sast-empty-dns.tlv"] = ctl(
        [sast_record(s1), sast_record(s2),
         server_record(ccm, 2, "cucm1.example.com", [10, 0, 0, 12]),
         server_record(capf, 4, "cucm1.example.com", [10, 0, 0, 12])], "sast1", 3)
    ns = nonsecure_record(2, "cucm-pub-001", [10, 0, 0, 12])
    assert len(ns) == 33
    files["ctl-nonsecure.tlv"] = ctl(
        [sast_record(s1), sast_record(s2), ns,
         nonsecure_record(3, "tftp2.example.com", [10, 0, 0, 13])], "sast2", 1,
        signer_version=(1, 0))
    f = cert_fields(s1, ",")
    certless = record([(2, b"\x00")] + f[:1] + [(4, struct.pack(">H", 0))] + f[1:])
    files["ctl-certless-sast-first.tlv"] = ctl(
        [certless, sast_record(s1), sast_record(s2),
         server_record(ccm, 2, "cucm1.example.com", [10, 0, 0, 12])], "sast1", 1)
    files["ctl-vendor-names.tlv"] = ctl(
        [sast_record(s1, ";"), sast_record(s2, ";"),
         server_record(ccm, 2, "cucm1.example.com", [10, 0, 0, 12], ";")], "sast1", 3, ";")
    files["ctl-quoted-names.tlv"] = ctl(
        [sast_record(s1, "quoted"), sast_record(s2, "quoted"),
         server_record(ccm, 2, "cucm1.example.com", [10, 0, 0, 12], "quoted"),
         server_record(capf, 4, "cucm1.example.com", [10, 0, 0, 12], "quoted")],
        "sast2", 1, "quoted")

    # An ITL as the vendor lays it out: signed by the TFTP key, whose certificate is also
    # its SAST-role record (how readers find an ITL's signer), signer version 1.1, ';'
    # names, a TVS (role 21) and an application server (role 7).
    phone = cert("phone")
    files["itl-vendor.tlv"] = ctl(
        [sast_record(tftp2, ";"),
         server_record(ccm, 2, "cucm1.example.com", [10, 0, 0, 12], ";"),
         server_record(tftp2, 3, "tftp2.example.com", [10, 0, 0, 13], ";"),
         server_record(capf, 4, "cucm1.example.com", [10, 0, 0, 12], ";"),
         server_record(s2, 21, "cucm1.example.com", [10, 0, 0, 12], ";"),
         server_record(phone, 7, "app1.example.com", [10, 0, 0, 20], ";")],
        "tftp2", 1, ";", signer_version=(1, 1), file_name="ITLFile.tlv")

    fw, fwk = firmware_cert()
    files["firmware.crt"] = fw.public_bytes(serialization.Encoding.PEM)
    fn, fi, fs = name_str(fw.subject, ";"), name_str(fw.issuer, ";"), serial_bytes(fw)
    assert len(fs) == 8
    loads = (b"SIP-example\r\ncp-example.sbn\r\nterm-example.zz.sgn\r\n")
    files["SIP-example.loads"] = signed_file((1, 1), fn, fi, fs, 1, "SIP-example.loads",
                                             loads, fwk)
    image = bytes((i * 37 + 11) & 0xFF for i in range(1500))
    files["cp-example.sbn"] = signed_file((1, 1), fn, fi, fs, 3, "cp-example.sbn", image, fwk)
    files["term-example.zz.sgn"] = signed_file((1, 1), fn, fi, fs, 1, "term-example.zz",
                                               image[:700], fwk)
    files["fw-names-tftp2.sbn"] = signed_file(
        (1, 1), name_str(tftp2.subject, ","), name_str(tftp2.issuer, ","),
        serial_bytes(tftp2), 1, "fw-names-tftp2.sbn", b"<device/>\n", key("tftp2"))
    files["not-firmware.loads"] = (b"<?xml version=\"1.0\"?>\n<loads><load>SIP-example"
                                   b"</load></loads>\n")

    with open(os.path.join(VEC, "SEP001122334455.cnf.xml"), "rb") as fh:
        cfg = fh.read()
    c = cert("ccm")
    files["SEP001122334455.cnf.xml.sha256.sgn"] = signed_file(
        (1, 0), name_str(c.subject, ","), name_str(c.issuer, ","), serial_bytes(c), 2,
        "SEP001122334455.cnf.xml.sgn", cfg, key("ccm"), timestamp=1767225600)

    for name, data in sorted(files.items()):
        with open(os.path.join(OUT, name), "wb") as fh:
            fh.write(data)
    print("wrote %d files to %s" % (len(files), os.path.normpath(OUT)))


if __name__ == "__main__":
    if sys.argv[1:2] == ["ctl"]:
        main_ctl(sys.argv[2:])
    else:
        main()

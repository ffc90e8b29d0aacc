#!/usr/bin/env python3
"""selfcert.py - build a self-signed X.509 certificate whose signature is made elsewhere
(on a token), in two steps:

  selfcert.py tbs --pubkey PUB.der --subject "CN=...,O=...,OU=..." --days N --out TBS.der
      writes the DER TBSCertificate (sha256WithRSAEncryption) for the public key;
  selfcert.py assemble --tbs TBS.der --sig SIG.bin --out CERT.der
      wraps TBS, the algorithm and the signature (PKCS#1 v1.5 over SHA-256 of TBS,
      made by the token) into the certificate, and checks it with the key inside.
"""

import argparse
import datetime
import secrets
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

# AlgorithmIdentifier sha256WithRSAEncryption, NULL parameters.
SHA256_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
ATTRS = {"CN": NameOID.COMMON_NAME, "O": NameOID.ORGANIZATION_NAME,
         "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "C": NameOID.COUNTRY_NAME,
         "L": NameOID.LOCALITY_NAME, "ST": NameOID.STATE_OR_PROVINCE_NAME}


def der(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + body


def parse_name(text):
    rdns = []
    for part in text.split(","):
        k, sep, v = part.partition("=")
        if not sep or k.strip() not in ATTRS:
            sys.exit("selfcert: cannot parse subject part %r (use CN=,O=,OU=,C=,L=,ST=)" % part)
        rdns.append(x509.NameAttribute(ATTRS[k.strip()], v))
    return x509.Name(rdns)


def cmd_tbs(a):
    with open(a.pubkey, "rb") as f:
        raw = f.read()
    try:
        pub = serialization.load_der_public_key(raw)
    except ValueError:
        pub = serialization.load_pem_public_key(raw)
    name = parse_name(a.subject)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    b = (x509.CertificateBuilder()
         .subject_name(name).issuer_name(name).public_key(pub)
         .serial_number(int.from_bytes(secrets.token_bytes(8), "big") >> 1)
         .not_valid_before(now - datetime.timedelta(minutes=5))
         .not_valid_after(now + datetime.timedelta(days=a.days))
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(True, True, False, False, False, False, False,
                                      False, False), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False))
    # The throwaway key only makes the library emit the TBS; its signature is dropped.
    throwaway = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    cert = b.sign(throwaway, hashes.SHA256())
    with open(a.out, "wb") as f:
        f.write(cert.tbs_certificate_bytes)


def cmd_assemble(a):
    with open(a.tbs, "rb") as f:
        tbs = f.read()
    with open(a.sig, "rb") as f:
        sig = f.read()
    cert_der = der(0x30, tbs + SHA256_RSA + der(0x03, b"\x00" + sig))
    cert = x509.load_der_x509_certificate(cert_der)
    cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                             padding.PKCS1v15(), hashes.SHA256())
    with open(a.out, "wb") as f:
        f.write(cert_der)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tbs")
    t.add_argument("--pubkey", required=True)
    t.add_argument("--subject", required=True)
    t.add_argument("--days", type=int, default=3650)
    t.add_argument("--out", required=True)
    s = sub.add_parser("assemble")
    s.add_argument("--tbs", required=True)
    s.add_argument("--sig", required=True)
    s.add_argument("--out", required=True)
    a = ap.parse_args()
    {"tbs": cmd_tbs, "assemble": cmd_assemble}[a.cmd](a)


if __name__ == "__main__":
    main()

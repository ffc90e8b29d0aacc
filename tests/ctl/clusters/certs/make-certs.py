#!/usr/bin/env python3
"""make-certs.py - makes the certificates the §4 cluster cases use (issue 12): a server
certificate behind a CA, the CA first in a chain file; an issued CA certificate alone; an
expired certificate; one whose name is not the host; one naming the host only in its SAN;
two unrelated certificates in one file. TEST ONLY: the keys are thrown away. Run it here
to remake them (the cases only need the PEM files it writes)."""
import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
D = datetime.datetime


def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Corp"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Voice")])


def cert(cn, k, issuer=None, ca=False, san=None, nb=D(2026, 1, 1), na=D(2046, 1, 1)):
    iss_name, iss_key = (name(cn), k) if issuer is None else issuer
    b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(iss_name)
         .public_key(k.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(k.public_key()), critical=False))
    if issuer is not None:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(iss_key.public_key()),
                            critical=False)
    if san:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in san]),
                            critical=False)
    return b.sign(iss_key, hashes.SHA256())


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM)


def write(fname, *certs):
    with open(os.path.join(HERE, fname), "wb") as f:
        for c in certs:
            f.write(pem(c))


root_k, inter_k, srv_k = key(), key(), key()
root = cert("Example Root CA", root_k, ca=True)
inter = cert("Example Issuing CA", inter_k, issuer=(root.subject, root_k), ca=True)
srv = cert("cucm-pub.example.com", srv_k, issuer=(inter.subject, inter_k),
           san=["cucm-pub.example.com"])
write("chain-ca-first.pem", root, inter, srv)          # CA first: the leaf is the server
write("issued-ca.pem", inter)                         # a CA alone, not self-signed
write("two-unrelated.pem", cert("a.example.com", key()), cert("b.example.com", key()))
write("expired.pem", cert("cucm-old.example.com", key(), nb=D(2015, 1, 1), na=D(2025, 1, 1)))
write("not-yet-valid.pem", cert("cucm-new.example.com", key(), nb=D(2090, 1, 1), na=D(2095, 1, 1)))
write("san-only.pem", cert("CallManager", key(), san=["cucm-sub.example.com", "cucm-sub"]))
write("tftp-selfsigned-ca.pem", cert("tftp.example.com", key(), ca=True))

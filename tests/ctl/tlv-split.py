#!/usr/bin/env python3
"""tlv-split.py FILE SIGNED_OUT SIG_OUT - an independent reader of the signed header
(SPEC 3.1) for interop tests: writes the signed bytes (the file without its tag-12
element) and the signature, prints the hash algorithm name (sha1/sha256/sha512)."""
import struct
import sys

data = open(sys.argv[1], "rb").read()
off, hdr_len, sig_at, hash_alg = 0, None, None, None
while hdr_len is None or off < hdr_len:
    tag = data[off]
    if tag == 13:  # padding: a lone byte
        off += 1
        continue
    (length,) = struct.unpack(">H", data[off + 1:off + 3])
    value = data[off + 3:off + 3 + length]
    if tag == 2:
        (hdr_len,) = struct.unpack(">H", value)
    elif tag == 12:
        sig_at = (off, 3 + length, value)
    elif tag == 7:  # signature info: 8 hash alg, 9 {...}
        assert value[0] == 8 and value[1:3] == b"\x00\x01", "tag 7 layout"
        hash_alg = value[3]
    off += 3 + length
assert off == hdr_len, "header length mismatch"
start, n, sig = sig_at
open(sys.argv[2], "wb").write(data[:start] + data[start + n:])
open(sys.argv[3], "wb").write(sig)
print({1: "sha1", 2: "sha256", 3: "sha512"}[hash_alg])

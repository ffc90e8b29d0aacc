#!/usr/bin/env python3
"""hostile-tftpd.py PORTFILE MODE FILE - a deliberately bad TFTP server on 127.0.0.1.

Serves FILE for every read request, ignoring options (so no tsize is announced), and:
  endless  keeps sending full 512-byte blocks (FILE repeated) and never ends the transfer
  stall    sends the first block of FILE, then goes silent (a transfer cut short)
Writes its port to PORTFILE once listening. Runs until killed."""
import socket
import struct
import sys

portfile, mode, path = sys.argv[1:4]
data = open(path, "rb").read()
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("127.0.0.1", 0))
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
import os
os.rename(portfile + ".tmp", portfile)


def block(n):
    if mode == "endless":
        start = ((n - 1) * 512) % len(data)
        chunk = (data * 3)[start:start + 512]
        return chunk.ljust(512, b"\0")
    return data[(n - 1) * 512:n * 512].ljust(512, b"\0")


while True:
    req, client = srv.recvfrom(2048)
    if len(req) < 2 or struct.unpack("!H", req[:2])[0] != 1:
        continue
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(3)
    n = 1
    try:
        while True:
            s.sendto(struct.pack("!HH", 3, n & 0xFFFF) + block(n), client)
            if mode == "stall":
                break
            ack, _ = s.recvfrom(2048)
            if len(ack) >= 4 and struct.unpack("!HH", ack[:4]) == (4, n & 0xFFFF):
                n += 1
    except (socket.timeout, OSError):
        pass
    s.close()

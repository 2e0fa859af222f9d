#!/usr/bin/env python3
"""Numbered UDP datagrams whose contents the receiver can check.

  udp_check.py send ADDR PORT COUNT     sends COUNT datagrams in bursts of 64
                                        (1 ms apart: batches for the data path
                                        to merge, yet mostly within what the
                                        slower peers take)
  udp_check.py recv ADDR PORT           receives until 3 s pass without one,
                                        then prints "good=N bad=N dup=N"

Datagram SEQ carries SEQ (8 bytes) and then bytes of a fixed pattern chosen by
SEQ; most are 1200 bytes, every 10th is 700 (so runs of equal size end with a
shorter one, as when datagrams are merged into UDP super-packets). A datagram
whose length or bytes differ from what its number says is bad.
"""
import socket
import struct
import sys
import time

PATTERN = bytes((i * 131 + 17) & 0xFF for i in range(4096))


def expected(seq):
    size = 700 if seq % 10 == 9 else 1200
    off = (seq * 7) % 1024
    return struct.pack("!Q", seq) + PATTERN[off:off + size - 8]


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def send(addr, port, count):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    for seq in range(count):
        s.sendto(expected(seq), (addr, port))
        if seq % 64 == 63:
            time.sleep(0.001)


def recv(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, port))
    s.settimeout(30)  # the first datagram may take a while
    good = bad = dup = 0
    seen = set()
    while True:
        try:
            data = s.recv(65535)
        except socket.timeout:
            break
        s.settimeout(3)
        if len(data) < 8:
            bad += 1
            continue
        seq = struct.unpack("!Q", data[:8])[0]
        if seq > 10**9 or data != expected(seq):
            bad += 1
        elif seq in seen:
            dup += 1
        else:
            seen.add(seq)
            good += 1
    print(f"good={good} bad={bad} dup={dup}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        recv(sys.argv[2], int(sys.argv[3]))

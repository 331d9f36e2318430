#!/usr/bin/env python3
"""Writes a pcap of UDP/IPv4 frames for `ovstest test-conntrack pcap`.

    make_pcap.py OUT N new    N frames, each a new flow (distinct ports/addresses)
    make_pcap.py OUT N same   N frames cycling over 32 flows (established)

Frames are the ones of OVS's test-conntrack benchmark (10.1.x.1 -> 10.1.1.2,
UDP, no payload, valid IPv4 header checksum, UDP checksum 0)."""
import struct
import sys


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(i, mode):
    flow = i if mode == "new" else i % 32
    src = bytes([10, 1, 1 + flow // 60000, 1])
    dport = 2 + flow % 60000
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0, src,
                               bytes([10, 1, 1, 2])))
    struct.pack_into("!H", ip, 10, csum(bytes(ip)))
    udp = struct.pack("!HHHH", 1, dport, 8, 0)
    eth = bytes.fromhex("50540000000a505400000009") + b"\x08\x00"
    return eth + bytes(ip) + udp


def main():
    out, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            fr = frame(i, mode)
            f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)))
            f.write(fr)


main()

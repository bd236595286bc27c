#!/usr/bin/env python3
"""Writes a minimal pprof profile (uncompressed protobuf) for report tests.
usage: mkpprof.py OUT VALUE [VALUE...]   one sample per value, under main;fn<i>
Values are int64 (negative ones too), to feed the reader what no profiler writes."""
import sys


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, payload):  # length-delimited
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def vfield(num, v):
    return varint(num << 3) + varint(v)


def main():
    out, values = sys.argv[1], [int(a) for a in sys.argv[2:]]
    strings = ["", "samples", "count", "main"] + [f"fn{i}" for i in range(len(values))]
    prof = field(1, vfield(1, 1) + vfield(2, 2))
    prof += field(5, vfield(1, 1) + vfield(2, 3))  # function 1: main
    prof += field(4, vfield(1, 1) + field(4, vfield(1, 1)))
    for i, v in enumerate(values):
        fid = lid = i + 2
        prof += field(5, vfield(1, fid) + vfield(2, 4 + i))
        prof += field(4, vfield(1, lid) + field(4, vfield(1, fid)))
        prof += field(2, field(1, varint(lid) + varint(1)) + field(2, varint(v)))
    for s in strings:
        prof += field(6, s.encode())
    open(out, "wb").write(prof)


main()

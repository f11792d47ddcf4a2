#!/usr/bin/env python3
"""Hostile captures, one class per resource a reader can be made to exhaust, each at a chosen scale.

Standard library only; the same arguments always give the same bytes. Next to the capture, FILE.truth.json says
what a correct reader finds in it (SMPP PDUs, flows, fragments), so tests can assert exact outcomes as well as
bounded time and memory.

Classes (N = 1000 * --scale unless said otherwise):
  time-extremes  pcapng whose packets sit at the ends of the 64-bit timestamp range (with tsoffset and both
                 resolutions), carrying one SMPP session and IPv4 fragments
  time-span      a 4-packet pcap: a request, then its response 136 years later; and 20 days between two sessions
  flows          N * 25 SYNs from one address on sequential ports, then one SMPP session
  held           one connection whose first segment is missing and N * 20 one-byte segments after it, with no ACK
                 that shows the gap; then one SMPP session
  fragments      N * 5 IPv4 fragments of 8 bytes for datagrams that never complete (many pieces each, overlapping
                 ones repeated), then one SMPP session
  resync         pcapng with N * 20 false block starts (plausible type and length, wrong trailer) in damaged
                 stretches, between real packets of one SMPP session

usage: gen_hostile_pcap.py CLASS --out FILE [--scale K]
"""

import argparse
import json
import struct
import sys

ESME = bytes([10, 0, 0, 1])
SMSC = bytes([10, 0, 0, 2])
SMPP_PORT = 2775
BASE = 1_800_000_000  # seconds


def checksum(data):
    if len(data) & 1:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(src, dst, payload, proto=6, ident=1, flags_offset=0x4000):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, flags_offset, 64, proto, 0, src, dst)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b""):
    header = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, 6, len(header) + len(payload))
    value = checksum(pseudo + header + payload)
    return header[:16] + struct.pack("!H", value) + header[18:] + payload


def ethernet(ip_packet):
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip_packet


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def pdu(command, sequence, body=b"", status=0):
    return struct.pack("!IIII", 16 + len(body), command, status, sequence) + body


def bind_body():
    return b"esme\0secret\0\0" + bytes([0x34, 0, 0]) + b"\0"


def submit_body(text):
    return b"\0\x05\0SHOP\0\x01\x01" + b"77010000000\0" + bytes([0, 0, 1]) + b"\0\0" + bytes([1, 0, 0, 0, len(text)]) + text


def session(client_port, start_seq=1000, server_seq=5000):
    """One whole SMPP session as (direction, tcp flags, payload) steps: 0 from the ESME, 1 from the SMSC."""
    steps = [(0, SYN, b""), (1, SYN | ACK, b""), (0, ACK, b"")]
    steps.append((0, PSH | ACK, pdu(0x09, 1, bind_body())))
    steps.append((1, PSH | ACK, pdu(0x80000009, 1, b"SMSC\0")))
    steps.append((0, PSH | ACK, pdu(0x04, 2, submit_body(b"hostile but whole"))))
    steps.append((1, PSH | ACK, pdu(0x80000004, 2, b"M1\0")))
    steps.append((0, PSH | ACK, pdu(0x06, 3)))
    steps.append((1, PSH | ACK, pdu(0x80000006, 3)))
    steps.append((0, FIN | ACK, b""))
    steps.append((1, FIN | ACK, b""))
    steps.append((0, ACK, b""))
    seq = [start_seq, server_seq]
    packets = []
    for direction, flags, payload in steps:
        src, dst = (ESME, SMSC) if direction == 0 else (SMSC, ESME)
        sport, dport = (client_port, SMPP_PORT) if direction == 0 else (SMPP_PORT, client_port)
        packet = ipv4(src, dst, tcp(src, dst, sport, dport, seq[direction], seq[1 - direction], flags, payload))
        packets.append(ethernet(packet))
        seq[direction] += len(payload) + (1 if flags & (SYN | FIN) else 0)
    return packets


SESSION_PDUS = 6


def write_pcap(path, records):
    """records: (seconds, microseconds, frame) each."""
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for seconds, micros, frame in records:
            out.write(struct.pack("<IIII", seconds, micros, len(frame), len(frame)) + frame)


def pcapng_block(block_type, body):
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def pcapng_section():
    return pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def pcapng_interface(options=b""):
    return pcapng_block(1, struct.pack("<HHI", 1, 0, 262144) + options)


def option(code, value):
    padded = value + b"\0" * ((4 - len(value) % 4) % 4)
    return struct.pack("<HH", code, len(value)) + padded


def pcapng_packet(interface, ticks, frame):
    padded = frame + b"\0" * ((4 - len(frame) % 4) % 4)
    return pcapng_block(6, struct.pack("<IIIII", interface, (ticks >> 32) & 0xFFFFFFFF, ticks & 0xFFFFFFFF, len(frame), len(frame)) + padded)


def time_extremes(path, scale):
    out = [pcapng_section()]
    # Interface 0: nanoseconds with a huge offset; 1: 2^-63 units; 2: seconds (10^0).
    out.append(pcapng_interface(option(9, bytes([9])) + option(14, struct.pack("<q", 2**62)) + option(0, b"")))
    out.append(pcapng_interface(option(9, bytes([0x80 | 63])) + option(0, b"")))
    out.append(pcapng_interface(option(9, bytes([0])) + option(14, struct.pack("<q", -(2**62))) + option(0, b"")))
    extremes = [0, 2**64 - 1, 2**63, 2**63 - 1, 1, 2**32, 2**64 - 2**32]
    pdus = 0
    for copy in range(scale):
        packets = session(40000 + copy)
        for index, frame in enumerate(packets):
            interface = index % 3
            out.append(pcapng_packet(interface, extremes[(index + copy) % len(extremes)], frame))
        pdus += SESSION_PDUS
        # IPv4 fragments of one datagram at the two ends of time.
        payload = tcp(ESME, SMSC, 50000 + copy, SMPP_PORT, 1, 1, ACK, b"x" * 64)
        for offset, ticks in ((0, 2**64 - 1), (32, 0)):
            more = 0x2000 if offset == 0 else 0
            piece = payload[offset:offset + 32] if offset == 0 else payload[offset:]
            fragment = ipv4(ESME, SMSC, piece, ident=700 + copy, flags_offset=more | (offset // 8))
            # ipv4() sets the total length from the piece; that is right for a fragment.
            out.append(pcapng_packet(0, ticks, ethernet(fragment)))
    with open(path, "wb") as handle:
        handle.write(b"".join(out))
    return {"smpp_pdus": pdus, "smpp_sessions": scale}


def time_span(path, scale):
    records = []
    packets = session(41000)
    # Handshake and bind now, the bind's answer and the rest 136 years later (the end of pcap's seconds).
    for index, frame in enumerate(packets):
        seconds = 1 if index < 4 else 0xFFFFFFFF - 20 + index
        records.append((seconds, 0, frame))
    # A second session 20 days after the first began, for a span that is long but ordinary.
    for copy in range(scale):
        for index, frame in enumerate(session(42000 + copy)):
            records.append((BASE + 20 * 86400 * (copy + 1) + index, 0, frame))
    write_pcap(path, records)
    return {"smpp_pdus": SESSION_PDUS * (1 + scale), "smpp_sessions": 1 + scale}


def flows(path, scale):
    count = 25_000 * scale
    records = []
    for index in range(count):
        port = 1024 + index % 64000
        source = bytes([10, 1, (index // 64000) & 0xFF, 1])
        frame = ethernet(ipv4(source, SMSC, tcp(source, SMSC, port, SMPP_PORT, index * 7, 0, SYN)))
        records.append((BASE + index // 1000, (index % 1000) * 1000, frame))
    for index, frame in enumerate(session(65000)):
        records.append((BASE + count // 1000 + 1, index, frame))
    write_pcap(path, records)
    return {"smpp_pdus": SESSION_PDUS, "smpp_sessions": 1, "tcp_syns": count}


def held(path, scale):
    count = 20_000 * scale
    records = []
    client_port = 43000
    # Handshake and a whole bind (the connection is SMPP), then a missing byte, then one-byte segments after it
    # (bytes that frame as nothing), never acknowledged: all of them wait for the missing byte.
    seq_client, seq_server = 1000, 5000
    bind = pdu(0x09, 1, bind_body())
    steps = [(ESME, SMSC, client_port, SMPP_PORT, seq_client, seq_server, SYN, b""),
             (SMSC, ESME, SMPP_PORT, client_port, seq_server, seq_client + 1, SYN | ACK, b""),
             (ESME, SMSC, client_port, SMPP_PORT, seq_client + 1, seq_server + 1, ACK, b""),
             (ESME, SMSC, client_port, SMPP_PORT, seq_client + 1, seq_server + 1, ACK | PSH, bind)]
    for src, dst, sport, dport, seq, ack, flags, payload in steps:
        records.append((BASE, len(records), ethernet(ipv4(src, dst, tcp(src, dst, sport, dport, seq, ack, flags, payload)))))
    first_held = seq_client + 1 + len(bind) + 1
    for index in range(count):
        seq = first_held + index
        frame = ethernet(ipv4(ESME, SMSC, tcp(ESME, SMSC, client_port, SMPP_PORT, seq, seq_server + 1, ACK | PSH, b"\xff")))
        records.append((BASE + 1 + index // 100000, index % 100000 * 10, frame))
    for index, frame in enumerate(session(43001)):
        records.append((BASE + 10 + count // 100000, index, frame))
    write_pcap(path, records)
    return {"smpp_pdus": SESSION_PDUS + 1, "smpp_sessions": 2, "held_segments": count}


def fragments(path, scale):
    count = 5_000 * scale
    records = []
    datagrams = max(1, count // 200)
    index = 0
    while index < count:
        ident = 1000 + index // 200
        # 8-byte pieces at increasing offsets (never the last), each one also repeated.
        piece_number = (index % 200) // 2
        offset = piece_number * 8
        piece = bytes([index & 0xFF]) * 8
        fragment = ipv4(ESME, SMSC, piece, ident=ident, flags_offset=0x2000 | (offset // 8))
        records.append((BASE + index // 10000, index % 10000 * 100, ethernet(fragment)))
        index += 1
    for number, frame in enumerate(session(44000)):
        records.append((BASE + count // 10000 + 1, number, frame))
    write_pcap(path, records)
    return {"smpp_pdus": SESSION_PDUS, "smpp_sessions": 1, "fragments": count, "incomplete_datagrams": datagrams}


def resync(path, scale):
    count = 20 * 1000 * scale
    out = [pcapng_section(), pcapng_interface()]
    packets = session(45000)
    stretches = len(packets)
    per_stretch = max(1, count // stretches)
    for index, frame in enumerate(packets):
        out.append(pcapng_packet(0, (BASE + index) * 10**6, frame))
        # A damaged stretch: false block starts (an enhanced packet block type and a plausible length, each
        # different and at least 64 KiB, so that no trailer in the file matches one), 12 bytes apart. Each makes a
        # reader look 64 KiB or more ahead.
        first = index * per_stretch
        out.append(b"".join(struct.pack("<III", 6, 0x10000 + 4 * (first + k), 0xDEADBEEF) for k in range(per_stretch)))
    with open(path, "wb") as handle:
        handle.write(b"".join(out))
    return {"smpp_pdus": SESSION_PDUS, "smpp_sessions": 1, "false_block_starts": per_stretch * stretches}


CLASSES = {
    "time-extremes": time_extremes, "time-span": time_span, "flows": flows, "held": held, "fragments": fragments,
    "resync": resync,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=sorted(CLASSES))
    parser.add_argument("--out", required=True)
    parser.add_argument("--scale", type=int, default=1)
    arguments = parser.parse_args()
    truth = CLASSES[arguments.kind](arguments.out, max(1, arguments.scale))
    truth.update({"class": arguments.kind, "scale": arguments.scale})
    with open(arguments.out + ".truth.json", "w") as handle:
        json.dump(truth, handle, indent=1)
    print("wrote %s" % arguments.out, file=sys.stderr)


if __name__ == "__main__":
    main()

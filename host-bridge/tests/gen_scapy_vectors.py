#!/usr/bin/env python3
"""Build the `sixgate pcap decode` test vectors with scapy's 802.15.4 and 6LoWPAN layers
(scapy.layers.dot15d4, scapy.layers.sixlowpan) -- not with sixgate's own code.

Run once from this directory (needs scapy; `pip install scapy`), then commit the outputs; the
Rust test (`tests/pcap_decode.rs`) reads only the committed files:

    python3 gen_scapy_vectors.py

Writes, under data/:
  - scapy_15_4.pcap         802.15.4 frames with FCS (LINKTYPE_IEEE802_15_4_WITHFCS, 195)
  - scapy_15_4_nofcs.pcapng the same frames without FCS, as pcapng
                            (LINKTYPE_IEEE802_15_4_NOFCS, 230)
  - scapy_expected_ipv6.pcap the IPv6 datagrams scapy started from, one per 6LoWPAN datagram,
                            stamped with the time of the frame that completes it
                            (LINKTYPE_IPV6, 229)
  - scapy_expected.txt      the frame counts the decoder must report, and the contexts
                            the capture needs (`--context` arguments)

Scapy quirks (scapy 2.8.0), and what this generator does about them:
  1. Traffic class: LoWPAN_IPHC copies the IPv6 traffic-class byte verbatim into the
     "ECN+DSCP" byte, where RFC 6282 section 3.1.1 rotates it (ECN in the two high bits).
     A traffic class survives that only when it is invariant under the rotation (0x00, 0x55,
     0xaa, 0xff), so the inline-TC cases use 0xaa (TF=00, TF=10) and 0x00 with a flow label
     (TF=01, which carries only the ECN bits). Other traffic classes are EXCLUDED: scapy would
     hand us bytes that mean a different packet.
  2. sixlowpan_fragment() puts the raw IPv6 bytes straight after the FRAG1 header, without the
     0x41 (uncompressed IPv6) dispatch that RFC 4944 section 5.3 requires there (the receiver
     would read the 0x60 of the IPv6 version as an IPHC dispatch), and it throws away IPHC
     compression. We keep its chunking (96-byte pieces, offsets, size, tag) and insert scapy's
     own LoWPANUncompressedIPv6 dispatch layer after FRAG1. A second, compressed fragmented
     datagram is cut by this script (scapy's IPHC/NHC bytes for the headers, scapy's
     LoWPANFragmentationFirst/Subsequent headers), because sixlowpan_fragment cannot fragment a
     compressed datagram.
  3. Context-based compression: scapy has no context table; with SAC/DAC=1 it simply elides
     the prefix, which is what a compressor holding the context does. The expected packet is
     the one scapy started from, so the decoder needs the matching `--context`.
  4. Every IPv6 packet is frozen (`IPv6(raw(pkt))`) before compression, so lengths and
     UDP/ICMPv6 checksums are scapy's and are the same bytes in the frame and the expectation.
"""
import os

import scapy
from scapy.compat import raw
from scapy.config import conf
from scapy.layers.dot15d4 import Dot15d4Beacon, Dot15d4Cmd, Dot15d4Data, Dot15d4FCS
from scapy.layers.inet6 import IPv6, UDP, ICMPv6EchoRequest, ICMPv6EchoReply
from scapy.layers.sixlowpan import (LoWPAN_IPHC, LoWPAN_NHC, LoWPANFragmentationFirst,
                                    LoWPANFragmentationSubsequent, LoWPANUncompressedIPv6,
                                    sixlowpan_fragment)
from scapy.packet import Raw
from scapy.utils import PcapNgWriter, PcapWriter

conf.dot15d4_protocol = "sixlowpan"

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data")

PAN = 0xABCD
SHORT1 = 0x1234
SHORT2 = 0xABCD
EXT1 = 0x0011223344556677
EXT2 = 0x8899AABBCCDDEEFF

LL_S1 = "fe80::ff:fe00:1234"
LL_S2 = "fe80::ff:fe00:abcd"
# EUI-64 with the U/L bit flipped.
LL_E1 = "fe80::211:2233:4455:6677"
LL_E2 = "fe80::8a99:aabb:ccdd:eeff"

# Contexts the capture was compressed with (and the decoder must be given).
CTX0 = ("2001:db8:1::", 64)
CTX5 = ("2001:db8:cafe::", 48)

frames = []  # (time, Dot15d4FCS packet)
expected = []  # (time, raw IPv6 bytes)
counts = {"frames": 0, "datagrams": 0, "skipped": 0, "malformed": 0}
T0 = 1_700_000_000.0
seq = [0]


def now():
    return T0 + 0.001 * len(frames)


def mac(src, dst, payload, seqnum=None):
    """A data frame with PAN ID compression; src/dst are ("short"|"ext", value)."""
    mode = {"short": 2, "ext": 3}
    seq[0] = (seq[0] + 1) & 0xFF
    return Dot15d4FCS(fcf_frametype=1, fcf_panidcompress=1,
                      fcf_destaddrmode=mode[dst[0]], fcf_srcaddrmode=mode[src[0]],
                      seqnum=seq[0] if seqnum is None else seqnum) / \
        Dot15d4Data(dest_panid=PAN, dest_addr=dst[1], src_addr=src[1]) / payload


def add_frame(pkt):
    counts["frames"] += 1
    t = now()
    frames.append((t, pkt))
    return t


def freeze(ip):
    return IPv6(raw(ip))


def datagram(iphc, ip, src, dst, nhc=False):
    """One unfragmented datagram: IPHC (+ NHC) over the frozen IPv6 packet."""
    ip = freeze(ip)
    low = iphc / LoWPAN_NHC() / ip if nhc else iphc / ip
    t = add_frame(mac(src, dst, low))
    expected.append((t, raw(ip)))
    counts["datagrams"] += 1


S = ("short", SHORT1)
D = ("short", SHORT2)
E1 = ("ext", EXT1)
E2 = ("ext", EXT2)
BCAST = ("short", 0xFFFF)
data = b"sixgate pcap decode, scapy vector"

# --- UDP, NHC with every port mode (ports inline, 8-bit, 4-bit), link-local, elided IIDs.
for sport, dport in ((50000, 50001), (50000, 0xF012), (0xF034, 50000), (0xF0B1, 0xF0BA)):
    ip = IPv6(src=LL_S1, dst=LL_S2, hlim=64) / UDP(sport=sport, dport=dport) / data
    datagram(LoWPAN_IPHC(tf=3, nh=1, hlim=2, sam=3, dam=3), ip, S, D, nhc=True)
# --- UDP with the next header inline (no NHC), extended link addresses, inline hop limit.
ip = IPv6(src=LL_E1, dst=LL_E2, hlim=17) / UDP(sport=40000, dport=50000) / data
datagram(LoWPAN_IPHC(tf=3, nh=0, hlim=0, sam=3, dam=3), ip, E1, E2)
# --- Hop-limit variants: 1, 64, 255 compressed; 200 inline.
for mode, hl in ((1, 1), (2, 64), (3, 255), (0, 200)):
    ip = IPv6(src=LL_E1, dst=LL_E2, hlim=hl) / UDP(sport=50100 + hl, dport=50000) / data
    datagram(LoWPAN_IPHC(tf=3, nh=1, hlim=mode, sam=3, dam=3), ip, E1, E2, nhc=True)
# --- ICMPv6 echo request / reply, next header inline, 64-bit and 16-bit inline IIDs.
ip = IPv6(src=LL_S1, dst="fe80::1:2:3:4", hlim=64) / ICMPv6EchoRequest(id=0x4242, seq=1, data=data)
datagram(LoWPAN_IPHC(tf=3, nh=0, hlim=2, sam=3, dam=1), ip, S, D)
ip = IPv6(src="fe80::ff:fe00:beef", dst=LL_S1, hlim=64) / ICMPv6EchoReply(id=0x4242, seq=1, data=data)
datagram(LoWPAN_IPHC(tf=3, nh=0, hlim=2, sam=2, dam=3), ip, D, S)
# --- Multicast echo to ff02::1 (DAM=11) on the broadcast link address.
ip = IPv6(src=LL_S1, dst="ff02::1", hlim=255) / ICMPv6EchoRequest(id=7, seq=2, data=b"mc")
datagram(LoWPAN_IPHC(tf=3, nh=0, hlim=3, sam=3, m=1, dam=3), ip, S, BCAST)
# --- Traffic class and flow label (see quirk 1: rotation-invariant traffic classes only).
for tf, tc, fl in ((0, 0xAA, 0x12345), (1, 0x00, 0xABCDE), (2, 0xAA, 0)):
    ip = IPv6(src=LL_S1, dst=LL_S2, tc=tc, fl=fl, hlim=64) / UDP(sport=50000, dport=50000) / data
    datagram(LoWPAN_IPHC(tf=tf, nh=1, hlim=2, sam=3, dam=3), ip, S, D, nhc=True)
# --- Fully inline addresses (SAM=DAM=00), global.
ip = IPv6(src="2001:db8::1", dst="2001:db8::2", hlim=64) / UDP(sport=9, dport=9) / data
datagram(LoWPAN_IPHC(tf=3, nh=1, hlim=2, sam=0, dam=0), ip, S, D, nhc=True)
# --- Global addresses through contexts (quirk 3): context 0 (CID=0) with IIDs from the link
#     addresses, and context 5 (a /48) with 64-bit inline IIDs.
ip = IPv6(src="2001:db8:1::ff:fe00:1234", dst="2001:db8:1::ff:fe00:abcd", hlim=64) / \
    UDP(sport=50000, dport=50000) / data
datagram(LoWPAN_IPHC(tf=3, nh=1, hlim=2, sac=1, sam=3, dac=1, dam=3), ip, S, D, nhc=True)
ip = IPv6(src="2001:db8:cafe::1:2:3:4", dst="2001:db8:cafe::5:6:7:8", hlim=64) / \
    ICMPv6EchoRequest(id=9, seq=9, data=data)
datagram(LoWPAN_IPHC(tf=3, nh=0, hlim=2, cid=1, sci=5, dci=5, sac=1, sam=1, dac=1, dam=1),
         ip, E1, E2)
# Mixed: context 5 source, link-local destination.
ip = IPv6(src="2001:db8:cafe::1:2:3:4", dst=LL_S2, hlim=64) / UDP(sport=50000, dport=61616) / data
datagram(LoWPAN_IPHC(tf=3, nh=1, hlim=2, cid=1, sci=5, dci=0, sac=1, sam=1, dam=3), ip, S, D,
         nhc=True)

# --- Non-6LoWPAN frames (skipped): ACK, beacon, MAC command (data request), NALP dispatch.
add_frame(Dot15d4FCS(fcf_frametype=2, seqnum=seq[0]))
add_frame(Dot15d4FCS(fcf_frametype=0, fcf_destaddrmode=0, fcf_srcaddrmode=2, seqnum=1) /
          Dot15d4Beacon(src_panid=PAN, src_addr=0x0000, sf_pancoord=1, sf_assocpermit=1))
add_frame(Dot15d4FCS(fcf_frametype=3, fcf_panidcompress=1, fcf_destaddrmode=2,
                     fcf_srcaddrmode=3, seqnum=2) /
          Dot15d4Cmd(dest_panid=PAN, dest_addr=0x0000, src_addr=EXT1, cmd_id=4))
add_frame(mac(S, D, Raw(b"\x00not a lowpan frame")))
counts["skipped"] += 4
# --- A bad FCS (malformed): a valid frame whose FCS scapy was told to get wrong.
bad = mac(S, D, LoWPAN_IPHC(tf=3, nh=1, hlim=2, sam=3, dam=3) / LoWPAN_NHC() /
          freeze(IPv6(src=LL_S1, dst=LL_S2) / UDP(sport=1, dport=2) / b"x"))
good_fcs = Dot15d4FCS(raw(bad)).fcs
bad.fcs = good_fcs ^ 0xFFFF
add_frame(bad)
counts["malformed"] += 1

# --- Fragmentation. A: 1232-byte UDP payload (1280-byte datagram) through
#     sixlowpan_fragment, uncompressed (quirk 2: the 0x41 dispatch is inserted after FRAG1).
ip_a = freeze(IPv6(src="2001:db8::a", dst="2001:db8::b", hlim=64) /
              UDP(sport=50000, dport=50000) / bytes((i * 7) & 0xFF for i in range(1232)))
frags_a = sixlowpan_fragment(ip_a, datagram_tag=0x0A0A)
assert len(raw(ip_a)) == 1280 and len(frags_a) == 14
first = frags_a[0]
frags_a[0] = LoWPANFragmentationFirst(datagramSize=first.datagramSize,
                                      datagramTag=first.datagramTag) / \
    LoWPANUncompressedIPv6() / Raw(raw(first.payload))
# B: 1232-byte UDP payload, IPHC+NHC compressed headers, cut by this script.
ip_b = freeze(IPv6(src=LL_E1, dst=LL_E2, hlim=64) / UDP(sport=0xF0B3, dport=0xF0B4) /
              bytes((255 - i) & 0xFF for i in range(1232)))
compressed = raw(LoWPAN_IPHC(tf=3, nh=1, hlim=2, sam=3, dam=3) / LoWPAN_NHC() / ip_b)
udp_payload = raw(ip_b)[48:]
assert compressed.endswith(udp_payload)
hdr = compressed[:len(compressed) - len(udp_payload)]  # IPHC + NHC-UDP
size_b = len(raw(ip_b))
# FRAG1: compressed headers + payload up to uncompressed offset 96 (a multiple of 8).
first_len = 96 - 48
frags_b = [LoWPANFragmentationFirst(datagramSize=size_b, datagramTag=0x0B0B) /
           Raw(hdr + udp_payload[:first_len])]
off = 96
while off < size_b:
    chunk = raw(ip_b)[off:off + 96]
    frags_b.append(LoWPANFragmentationSubsequent(datagramSize=size_b, datagramTag=0x0B0B,
                                                 datagramOffset=off // 8) / Raw(chunk))
    off += len(chunk)
# Interleave A (short addresses) and B (extended addresses) on the air.
order = []
for i in range(max(len(frags_a), len(frags_b))):
    if i < len(frags_a):
        order.append(("a", mac(S, D, frags_a[i])))
    if i < len(frags_b):
        order.append(("b", mac(E1, E2, frags_b[i])))
last = {}
for which, pkt in order:
    last[which] = add_frame(pkt)
for which, ip in (("a", ip_a), ("b", ip_b)):
    expected.append((last[which], raw(ip)))
    counts["datagrams"] += 1
expected.sort(key=lambda e: e[0])

for _, p in frames:
    assert len(raw(p)) <= 127, (len(raw(p)), p.summary())

os.makedirs(OUT, exist_ok=True)
w = PcapWriter(os.path.join(OUT, "scapy_15_4.pcap"), linktype=195, sync=True)
for t, p in frames:
    p.time = t
    w.write(p)
w.close()
w = PcapNgWriter(os.path.join(OUT, "scapy_15_4_nofcs.pcapng"))
for t, p in frames:
    # The same frame without its 2-byte FCS, as an 802.15.4 NOFCS packet. (scapy warns of
    # "inconsistent linktypes" because Raw has none of its own; the interface block says 230.)
    q = Raw(raw(p)[:-2])
    q.time = t
    w.linktype = 230
    w.write(q)
w.close()
w = PcapWriter(os.path.join(OUT, "scapy_expected_ipv6.pcap"), linktype=229, sync=True)
for t, b in expected:
    q = Raw(b)
    q.time = t
    w.write(q)
w.close()
with open(os.path.join(OUT, "scapy_expected.txt"), "w") as f:
    f.write("# generated by gen_scapy_vectors.py with scapy %s\n" % scapy.__version__)
    for k in ("frames", "datagrams", "skipped", "malformed"):
        f.write("%s %d\n" % (k, counts[k]))
    f.write("context 0=%s/%d\n" % CTX0)
    f.write("context 5=%s/%d\n" % CTX5)
print(counts, "expected datagrams:", len(expected))

"""Group "base": the network.

The kernel's part (kernel/virtio_net.c, kernel/netfilt.c) is tested
through user/netkern.c, which makes the raw system calls, and through
frames the host exchanges with the guest's NIC (grade/net.py: the boot
fixture's net=True gives the test a Peer as con.net; net="loop" gives a
NIC whose frames come back to it):

  - steal, ring, norights, kill: netkern's own checks of filters, rings,
    RIGHT_NET and net_revoke, and of pages after a kill (the census), on
    the invariant-checking kernel;
  - send: what the guest sends reaches the host byte for byte, and what the
    kernel refuses never leaves;
  - recv: the frames one port's filter takes arrive exactly, in order, and
    no others; the kernel's counters account for every frame;
  - malformed: 10,000 and more malformed frames (runts, oversize,
    truncated headers, bad checksums and lengths, random bytes): the
    kernel checks no checksum (the library's job), so exactly the frames
    whose bytes the filter matches are delivered, and every other frame is
    counted as bad or unmatched;
  - flood: 100,000 small frames, faster than the guest takes them: afterwards
    frames still arrive exactly, nothing was delivered twice or out of
    order, and no page is lost.

Lab net's tests: netkern steal (the filter table's checks, the stealing
rule and which filter takes a frame), the library stack's (ARP and what
it learns, ICMP echo, UDP echo on two ports at once, nettest loop: the
host's tests resolve the guest by ARP first), and the demultiplexer's
benchmark rows.
"""

import os
import random
import re
import struct
import time

import pytest

import console
import net
from conftest import KCHECK_KERNEL
from console import ROOT

LAB = "base"
pytestmark = pytest.mark.lab(LAB)

INIT_EXITED = r"init exited with status (-?\d+)\n"
FAIL_ON = [console.PANIC, r"FAIL|BROKEN", r"unhandled"]
PORT = 7777
FLOOD_RATE = 40000

# What QEMU 7.2's virtio-net does with a datagram before the kernel sees
# it: a frame longer than the kernel's receive buffer (2046 bytes less the
# 12-byte virtio header) is dropped whole (no mergeable buffers), so the
# kernel counts only what fits.
NIC_MAXRX = 2046 - 12


# How much of a batch of frames QEMU's socket may have to hold before QEMU
# reads it (QEMU reads only while the guest has receive buffers free; a
# datagram that finds the socket's buffer full, 208 KiB by default, is
# lost on the host).  A datagram costs its length and about 1 KiB more,
# up to twice its length (buffers come in powers of two).
BATCH_BYTES = 96 * 1024


def truesize(frame):
    return 2 * len(frame) + 768


def finish(con, timeout=60):
    con.expect(console.ok("netkern"), timeout=timeout)
    status = int(con.expect(INIT_EXITED)[1])
    assert status == 0, f"netkern exited with status {status}"


def stats(con, when):
    """The counters netkern printed ("stats before" / "stats after")."""
    m = con.expect(rf"^netkern: stats {when} rx=(\d+) tx=(\d+) nomatch=(\d+) ringfull=(\d+) "
                   r"bad=(\d+)\n", timeout=60)
    return dict(zip(("rx", "tx", "nomatch", "ringfull", "bad"), map(int, m.groups())))


def delta(after, before):
    return {k: after[k] - before[k] for k in after}


def takes(frame, port=PORT):
    """Does `netkern recv port`'s filter take this frame?  (IPv4 without
    options, protocol UDP, destination port; no checksum or length is
    checked: the kernel looks at those bytes and nothing else.)"""
    return (38 <= len(frame) <= net.MAXFRAME and frame[12:14] == b"\x08\x00" and
            frame[14] == 0x45 and frame[23] == net.PROTO_UDP and
            frame[36:38] == port.to_bytes(2, "big"))


def kind(frame, port=PORT):
    """The counter the kernel should move for a frame it is given."""
    if len(frame) < 14 or len(frame) > net.MAXFRAME:
        return "bad"
    return "rx" if takes(frame, port) else "nomatch"


def control(word, port=PORT):
    """A frame netkern recv acts on: SYNC<n> prints a sync line, STOP ends."""
    return net.udp_frame(port, word.encode(), sport=9)


class Receiver:
    """Drives `netkern recv PORT 0` on con: sends batches of frames, each
    followed by a SYNC frame, waits for netkern's sync line and checks it
    (the frames it took since the last one, and their CRC-32) against
    what the filter should have taken."""

    def __init__(self, con, port=PORT):
        self.con, self.port, self.peer = con, port, con.net
        con.expect(rf"^netkern: recv ready port {port} filter \d+\n", timeout=60)
        self.before = stats(con, "before")
        self.nsync = 0
        self.sent = {"rx": 0, "nomatch": 0, "bad": 0}
        self.taken = []                  # every frame the filter should take, in order

    def batch(self, frames, timeout=30):
        self.nsync += 1
        tag = f"SYNC{self.nsync}"
        frames = list(frames) + [control(tag, self.port)]
        want = [f for f in frames if takes(f, self.port)]
        for f in frames:
            self.peer.send(f)
            k = kind(f, self.port) if len(f) <= NIC_MAXRX else None
            if k:
                self.sent[k] += 1
        self.taken += want
        m = self.con.expect(rf"^netkern: sync {tag} frames=(\d+) crc=([0-9a-f]{{8}})\n", timeout)
        crc = 0
        for f in want:
            crc = net.crc(f, crc)
        assert (int(m[1]), int(m[2], 16)) == (len(want), crc), \
            f"batch {tag}: netkern took {m[1]} frames (crc {m[2]}), the filter takes " \
            f"{len(want)} (crc {crc:08x})\n{self.con.tail()}"
        return m

    def stop(self):
        self.peer.send(control("STOP", self.port))
        self.sent["rx"] += 1
        m = self.con.expect(r"^netkern: recv done frames=(\d+) bytes=(\d+) crc=([0-9a-f]{8})\n",
                            timeout=60)
        after = stats(self.con, "after")
        return m, delta(after, self.before)


def netkern(boot, cpus, args, net, kernel=KCHECK_KERNEL, fail_on=FAIL_ON):
    return boot("netkern", cpus=cpus, args=args, net=net, kernel=kernel, fail_on=fail_on)


# ---- the kernel's calls, from inside ----

@pytest.mark.points(3)
@pytest.mark.parametrize("part", [pytest.param("steal", marks=pytest.mark.lab("net")),
                                  # (ring forks on the checking kernel: lab vm's stubs let
                                  # the library's fork map what kcheck refuses)
                                  pytest.param("ring", marks=pytest.mark.lab("vm")),
                                  "norights", "kill"])
def test_net_kernel_calls(boot, cpus, part):
    """user/netkern.c on the loopback NIC and the invariant-checking
    kernel.  steal: malformed filters are refused (E_INVAL: sizes, masks,
    values outside masks, offsets past 1514, too many tests, contradictory
    tests; E_FAULT: bad pointers), a filter that could take frames of
    another env's is refused (E_BUSY) unless the installer is that env's
    ancestor, whose newer filter then wins, whatever the order of its tests,
    and one that differs in one byte (its first, its last, or one that two
    of its tests share) is not; another env's filter cannot be
    removed (E_PERM); the default owner; a dead env's filters go; the
    per-env and shape limits (E_NO_MEM); which of two overlapping filters
    takes a frame (the more specific, though older, whichever shape was
    made first; as specific, the newer, even when its shape was made once
    before and removed), frames that end before a tested byte, and a full
    table (NNETF filters) with every third removed and added again.  ring: bad rings refused with the
    right error (size, alignment, UTOP, the public records, kernel
    addresses, unmapped, read-only, copy-on-write) and nothing left
    pinned; slots filled in order, wrapping, a full ring drops; IRQ_NET; a
    ring page freed while posted stays pinned, takes frames and comes back
    when the ring goes.  norights: no RIGHT_NET, every call E_PERM;
    net_revoke takes the right, filters and rings from a subtree.  kill:
    an env killed with a full ring and frames in flight gives back every
    page."""
    con = netkern(boot, cpus, part, "loop")
    finish(con, timeout=180)


@pytest.mark.points(2)
def test_net_send(boot, cpus):
    """What netkern sends reaches the host byte for byte (a bare header,
    1514 bytes, frames ending at a page's end, one from a page freed as it
    was handed over, a burst of 200 that fills the transmit queue); what
    the kernel refuses (length, page end, UTOP, the public records, kernel
    addresses, unmapped or execute-only pages) never leaves."""
    con = netkern(boot, cpus, "send", True)
    finish(con, timeout=120)
    singles = [(int(n), int(c, 16)) for n, c in
               re.findall(r"^netkern: sent (\d+) ([0-9a-f]{8})$", con.output, re.M)]
    m = re.search(r"^netkern: sent burst (\d+) crc=([0-9a-f]{8})$", con.output, re.M)
    assert len(singles) == 6 and m, con.tail()
    total = len(singles) + int(m[1])
    mine = lambda f: f.ethertype == 0x88B5
    got = []
    deadline = time.monotonic() + console.scaled(20)
    while len(got) < total and time.monotonic() < deadline:
        f = con.net.recv(mine, timeout=0.5)
        if f:
            got.append(f)
    time.sleep(0.5)
    extra = con.net.recv_all(mine)
    assert len(got) == total and not extra, \
        f"the host received {len(got) + len(extra)} frames, netkern sent {total}"
    assert [(len(f), net.crc(f.raw)) for f in got[:len(singles)]] == singles, \
        "frames differ from what netkern sent"
    crc = 0
    for f in got[len(singles):]:
        crc = net.crc(f.raw, crc)
    assert crc == int(m[2], 16), "the burst's frames differ from what netkern sent"


# ---- frames from the host ----

def udp_to(port, n, rnd, **kw):
    return net.udp_frame(port, bytes(rnd.getrandbits(8) for _ in range(n)), **kw)


@pytest.mark.points(3)
def test_net_recv_exact(boot, cpus):
    """The frames for one port arrive exactly (every one, in order, the
    same bytes: CRC-32 per frame), those for other ports, other protocols,
    IP options or other ethertypes do not; nothing of another frame shows
    in the ring past a frame's end; the counters say so."""
    con = netkern(boot, cpus, f"recv {PORT} 0", True, kernel="kernel/kernel")
    rx = Receiver(con)
    rnd = random.Random(cpus)
    # first fill every kernel receive buffer with bytes that are not zero
    rx.batch(net.udp_frame(PORT + 1, b"\xa5" * 1400) for _ in range(40))
    wrong = [
        lambda n: udp_to(PORT + 1, n, rnd),
        lambda n: udp_to(PORT - 1, n, rnd),
        lambda n: udp_to(PORT ^ 0x100, n, rnd),
        lambda n: udp_to(1, n, rnd, sport=PORT),                  # the source port is PORT
        lambda n: tcp_like(PORT, n, rnd),                         # protocol 6
        lambda n: with_options(PORT, n, rnd),                     # IHL 6: the port moves
        lambda n: b"\xff" * 12 + b"\x86\xdd" + udp_to(PORT, n, rnd)[14:],   # IPv6's type
        lambda n: net.ether(net.BROADCAST, net.HOST_MAC, net.ETH_ARP,
                            net.arp(1, net.HOST_MAC, net.HOST_IP, b"\0" * 6, net.GUEST_IP)),
    ]
    sizes = [0, 1, 2, 5, 17, 18, 100, 255, 1000, 1471, 1472]
    for b in range(6):
        frames = []
        for i in range(20):
            frames.append(udp_to(PORT, sizes[(b * 20 + i) % len(sizes)] if i % 3 else
                                 rnd.randrange(0, 1473), rnd))
            frames.append(rnd.choice(wrong)(rnd.randrange(0, 600)))
        rx.batch(frames)
    m, d = rx.stop()
    lines = [(int(n), int(c, 16)) for n, c in
             re.findall(r"^frame (\d+) ([0-9a-f]{8})$", con.output, re.M)]
    want = [(len(f), net.crc(f)) for f in rx.taken + [control("STOP")]]
    assert lines == want, "the frames netkern printed are not the ones its filter takes"
    assert int(m[1]) == len(want)
    assert d["rx"] == len(want) and d["nomatch"] == rx.sent["nomatch"] and \
        d["bad"] == 0 and d["ringfull"] == 0, \
        f"counters moved {d}; sent {len(want)} to the port, {rx.sent['nomatch']} others"
    finish(con)


def tcp_like(port, n, rnd):
    f = bytearray(udp_to(port, n, rnd))
    f[23] = 6
    return bytes(f)


def with_options(port, n, rnd):
    """IPv4 with a 4-byte option: the UDP header starts 4 bytes later, and
    byte 36 (where the filter looks for the port) holds the source port."""
    seg = net.udp(net.HOST_IP, net.GUEST_IP, port, port,
                  bytes(rnd.getrandbits(8) for _ in range(n)))
    return net.ether(net.GUEST_MAC, net.HOST_MAC, net.ETH_IP,
                     net.ipv4(net.HOST_IP, net.GUEST_IP, net.PROTO_UDP, seg, ihl=6,
                              options=b"\x01\x01\x01\x00"))


def malformed(rnd, port=PORT):
    """One malformed frame, of a kind chosen at random."""
    k = rnd.randrange(12)
    data = lambda n: bytes(rnd.getrandbits(8) for _ in range(n))
    good = lambda n, p=port: bytearray(net.udp_frame(p, data(n), sport=rnd.randrange(65536),
                                                     ident=rnd.randrange(65536)))
    if k == 0:                                       # a runt: no whole Ethernet header
        return data(rnd.randrange(1, 14))
    if k == 1:                                       # longer than 1514 (the NIC still takes it)
        f = good(rnd.randrange(1473, NIC_MAXRX - 42 + 1))
        return bytes(f)
    if k == 2:                                       # IPv4, header cut short
        return bytes(good(20)[:rnd.randrange(14, 34)])
    if k == 3:                                       # UDP header cut short (the port may be in)
        return bytes(good(20)[:rnd.randrange(34, 42)])
    if k == 4:                                       # bad IP header checksum
        f = good(rnd.randrange(0, 200))
        f[24] ^= 1 + rnd.randrange(255)
        return bytes(f)
    if k == 5:                                       # bad UDP checksum
        f = good(rnd.randrange(1, 200))
        f[40] ^= 1 + rnd.randrange(255)
        return bytes(f)
    if k == 6:                                       # IP total length says more, or less
        f = good(rnd.randrange(0, 200))
        f[16:18] = rnd.choice([0, 19, 21, 1500, 65535, len(f) + 100]).to_bytes(2, "big")
        return bytes(f)
    if k == 7:                                       # UDP length wrong
        f = good(rnd.randrange(0, 200))
        f[38:40] = rnd.choice([0, 7, 9, 65535, len(f)]).to_bytes(2, "big")
        return bytes(f)
    if k == 8:                                       # random bytes, random length
        return data(rnd.randrange(14, 1515))
    if k == 9:                                       # random bytes shaped like IPv4/UDP, ports near
        f = bytearray(data(rnd.randrange(14, 200)))
        f[12:14] = b"\x08\x00"
        if len(f) > 23:
            f[14], f[23] = rnd.choice([0x45, 0x45, 0x46, 0x55]), rnd.choice([17, 17, 6])
        if len(f) >= 38:
            f[36:38] = (port + rnd.choice([0, 0, 1, -1, 256])).to_bytes(2, "big")
        return bytes(f)
    if k == 10:                                      # the right port in a truncated frame
        f = good(10)
        return bytes(f[:rnd.choice([36, 37, 38, 39, 41])])
    f = good(rnd.randrange(0, 100), p=port ^ (1 << rnd.randrange(16)))  # one bit off the port
    return bytes(f)


@pytest.mark.points(3)
def test_net_malformed_frames(boot, cpus):
    """12,000 malformed frames from the host, in batches, each batch
    checked: the frames netkern's filter takes (the kernel checks bytes,
    not checksums or lengths) are exactly the ones whose bytes match, by
    count and CRC-32; at the end the kernel's counters account for every
    frame (bad: outside 14..1514 bytes; nomatch; rx) and netkern's census
    finds every page."""
    con = netkern(boot, cpus, f"recv {PORT} 0 quiet", True, kernel="kernel/kernel")
    rx = Receiver(con)
    rnd = random.Random(1000 + cpus)
    total = 0
    while total < 12000:
        frames, matching, room = [], 0, BATCH_BYTES
        while len(frames) < 64 and room > 0:
            f = malformed(rnd)
            if takes(f):
                if matching >= 20:           # (the ring holds 32: leave room)
                    continue
                matching += 1
            frames.append(f)
            room -= truesize(f)
        rx.batch(frames, timeout=60)
        total += len(frames)
    m, d = rx.stop()
    assert d == {"rx": rx.sent["rx"], "tx": 0, "nomatch": rx.sent["nomatch"],
                 "ringfull": 0, "bad": rx.sent["bad"]}, \
        f"counters moved {d}, expected {rx.sent} (ringfull 0)"
    assert rx.sent["bad"] > 1000 and len(rx.taken) > 1000, rx.sent
    finish(con)


@pytest.mark.points(3)
def test_net_flood(boot, cpus):
    """100,000 small frames at up to FLOOD_RATE a second, more than the
    guest takes (half for the port, numbered; half for another port):
    many are dropped on the way (on the host, or in the kernel when the
    ring is full), but what netkern takes is in order with none twice, the
    counters add up, and afterwards frames arrive exactly again; no page
    is lost (netkern's census)."""
    con = netkern(boot, cpus, f"recv {PORT} 0 quiet", True, kernel="kernel/kernel")
    rx = Receiver(con)
    peer = con.net
    n = 100000
    other = net.udp_frame(PORT + 1, b"x" * 18)
    t0 = time.monotonic()
    for i in range(n // 2):
        peer.send(net.udp_frame(PORT, b"SEQ:" + struct.pack("!I", i) + b"y" * 10))
        peer.send(other)
        if i % 500 == 499:                # at most FLOOD_RATE frames a second: more
            ahead = 2 * (i + 1) / FLOOD_RATE - (time.monotonic() - t0)   # than the guest
            if ahead > 0:                 # takes, yet not so many at once that most
                time.sleep(ahead)         # are lost on the host before QEMU reads them
    sent_time = time.monotonic() - t0
    # the system still answers: a SYNC gets through (maybe after a few
    # tries), then a batch is taken exactly
    seen = None
    for i in range(60):
        tag = f"SYNCF{i}"
        peer.send(control(tag))
        try:
            seen = con.expect(rf"^netkern: sync {tag} frames=(\d+) ", timeout=1)
            break
        except AssertionError:
            continue
    assert seen, f"no SYNC got through after the flood ({sent_time:.1f}s to send it)"
    syncs_sent = i + 1
    rx.batch([net.udp_frame(PORT, b"after %d" % j) for j in range(20)])
    m, d = rx.stop()
    taken = int(m[1])
    flood_syncs = len(re.findall(r"^netkern: sync SYNCF", con.output, re.M))
    flood_taken = taken - 21 - flood_syncs - 1    # less the batch and its SYNC, SYNCFs, STOP
    assert d["rx"] == taken, f"net_rx moved {d['rx']}, netkern took {taken}"
    assert d["bad"] == 0 and d["tx"] == 0, d
    assert d["rx"] + d["ringfull"] <= n // 2 + syncs_sent + 22, d
    assert d["nomatch"] <= n // 2, d
    reached = d["rx"] + d["ringfull"] + d["nomatch"]
    assert reached >= 5000 and flood_taken >= 1000, \
        f"only {reached} frames reached the kernel and {flood_taken} netkern: {d}"
    finish(con)


# ---- the library stack (ulib/net.c), once it exists ----

needs_stack = pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "user", "udpecho.c")),
                                 reason="no library network stack yet (user/udpecho.c)")


def udpecho(boot, cpus, port, count=""):
    con = boot("udpecho", cpus=cpus, args=f"{port} {count}".strip(), net=True,
               fail_on=[console.PANIC, r"unhandled"])
    con.expect(rf"^udpecho: port {port} ready", timeout=60)
    return con


def guest_mac(con):
    m = re.search(r"^exokernel: NIC ([0-9a-f:]{17})$", con.output, re.M)
    assert m, "the kernel did not report its NIC"
    return net.mac_bytes(m[1])


@needs_stack
@pytest.mark.points(2)
@pytest.mark.lab("net")
def test_net_arp(boot, cpus):
    """The stack answers an ARP request for 10.0.2.15 with the NIC's
    address, to the asker, from the NIC's address."""
    con = udpecho(boot, cpus, 7)
    mac = con.net.arp_query(net.GUEST_IP, timeout=5)
    assert mac == guest_mac(con), f"ARP answer {mac and net.mac_str(mac)}"
    # the reply itself: to us, about 10.0.2.15
    con.net.send(net.ether(net.BROADCAST, net.HOST_MAC, net.ETH_ARP,
                           net.arp(net.ARP_REQUEST, net.HOST_MAC, net.HOST_IP, b"\0" * 6,
                                   net.GUEST_IP)))
    r = con.net.recv(lambda f: f.arp is not None and f.arp.op == net.ARP_REPLY, timeout=5)
    assert r is not None, "no ARP reply"
    assert (r.dst, r.src, r.arp.sha, r.arp.spa, r.arp.tha, r.arp.tpa) == \
        (net.HOST_MAC, guest_mac(con), guest_mac(con), net.GUEST_IP, net.HOST_MAC,
         net.HOST_IP), r.arp
    # nobody answers for another address
    assert con.net.arp_query("10.0.2.99", timeout=1) is None


@needs_stack
@pytest.mark.points(2)
@pytest.mark.lab("net")
def test_net_arp_learning(boot, cpus):
    """Where the stack sends its answers: to the address a datagram came
    from, learnt from the datagram itself (no ARP request): two addresses
    behind one MAC (a router), an address whose MAC changed, the link's
    lowest host; none to the link's network and broadcast addresses.  A
    multicast source MAC teaches nothing: the stack asks with one
    broadcast ARP request (its fields checked), uses the answer, and does
    not take that answer for a request."""
    con = udpecho(boot, cpus, 7)
    peer = con.net

    def echo(ip, mac, n, want_mac):
        payload = f"echo {n} from {ip}".encode()
        peer.send(net.udp_frame(7, payload, sport=40000 + n, src_ip=ip, src_mac=mac))
        r = peer.recv(lambda f: f.udp is not None and f.ip.dst == ip and
                      f.udp.dport == 40000 + n, timeout=5)
        assert r is not None, f"no echo to {ip} (datagram {n}, from {net.mac_str(mac)})"
        assert r.udp.payload == payload, r
        assert r.dst == want_mac, \
            f"the echo to {ip} went to {net.mac_str(r.dst)}, not {net.mac_str(want_mac)}"

    def asked(ip):
        return peer.recv_all(lambda f: f.arp is not None and f.arp.op == net.ARP_REQUEST and
                             f.arp.tpa == ip)

    router = "10.0.2.50"
    m1, m2, m3 = (bytes.fromhex(f"0200000000{x:02x}") for x in (1, 2, 3))
    echo(net.HOST_IP, net.HOST_MAC, 1, net.HOST_MAC)
    echo(router, net.HOST_MAC, 2, net.HOST_MAC)        # another address, the same MAC
    echo("10.0.2.51", m1, 3, m1)
    echo("10.0.2.51", m2, 4, m2)                       # the same address, a new MAC
    echo(net.HOST_IP, net.HOST_MAC, 5, net.HOST_MAC)
    echo(router, net.HOST_MAC, 6, net.HOST_MAC)
    echo("10.0.2.1", m3, 8, m3)                        # the lowest host on the link
    assert not asked(router) and not asked("10.0.2.51") and not asked("10.0.2.1"), \
        "the stack asked by ARP for an address a datagram had just come from"
    # from a multicast MAC: no answer until an ARP reply says where 10.0.2.52 is
    group = bytes.fromhex("01005e000034")
    payload = b"from a multicast source"
    peer.send(net.udp_frame(7, payload, sport=40007, src_ip="10.0.2.52", src_mac=group))
    q = peer.recv(lambda f: (f.arp is not None and f.arp.op == net.ARP_REQUEST and
                             f.arp.tpa == "10.0.2.52") or
                  (f.udp is not None and f.udp.dport == 40007), timeout=5)
    assert q is not None and q.arp is not None, \
        f"the stack did not ask where 10.0.2.52 is before answering it: {q}"
    me = guest_mac(con)
    assert (q.dst, q.src, q.arp.sha, q.arp.spa, q.arp.tha) == \
        (net.BROADCAST, me, me, net.GUEST_IP, b"\0" * 6), f"the ARP request: {q} {q.arp}"
    peer.send(net.ether(q.arp.sha, m3, net.ETH_ARP,
                        net.arp(net.ARP_REPLY, m3, "10.0.2.52", q.arp.sha, q.arp.spa)))
    r = peer.recv(lambda f: f.udp is not None and f.udp.dport == 40007, timeout=5)
    assert r is not None and r.udp.payload == payload, f"no echo to 10.0.2.52 after ARP: {r}"
    assert r.dst == m3, f"the echo to 10.0.2.52 went to {net.mac_str(r.dst)}, not the ARP answer's"
    time.sleep(0.5)
    n = len(asked("10.0.2.52")) + 1
    assert n <= 2, f"{n} ARP requests for 10.0.2.52, though the first was answered at once"
    answers = peer.recv_all(lambda f: f.arp is not None and f.arp.op == net.ARP_REPLY)
    assert not answers, f"the stack answered an ARP reply as if it were a request: {answers}"
    # no answer to the link's own addresses (not hosts), and no ARP for them
    # (last: udpecho gives up at a datagram it cannot answer)
    for n, ip in ((9, "10.0.2.0"), (10, "10.0.2.255")):
        peer.send(net.udp_frame(7, b"not a host", sport=40000 + n, src_ip=ip, src_mac=m3))
    time.sleep(1)
    stray = peer.recv_all(lambda f: (f.udp is not None and f.udp.dport in (40009, 40010)) or
                          (f.arp is not None and f.arp.tpa in ("10.0.2.0", "10.0.2.255")))
    assert not stray, f"answers to the link's network or broadcast address: {stray}"


@needs_stack
@pytest.mark.points(2)
@pytest.mark.lab("net")
def test_net_ping(boot, cpus):
    """ICMP echo requests are answered: same identifier, sequence and data,
    correct ICMP and IP checksums, addresses swapped."""
    con = udpecho(boot, cpus, 7)
    for seq in range(1, 6):
        data = bytes((seq * 3 + i) & 0xFF for i in range(seq * 40))
        r = con.net.ping(net.GUEST_IP, seq=seq, data=data, timeout=5)
        assert r is not None, f"no echo reply to seq {seq}"
        assert r.icmp.checksum_ok and r.ip.checksum_ok, f"bad checksum in {r}"
        assert (r.ip.src, r.ip.dst, r.dst, r.icmp.code) == \
            (net.GUEST_IP, net.HOST_IP, net.HOST_MAC, 0), r
        assert r.icmp.data == data, f"seq {seq}: the reply's data differ"


@needs_stack
@pytest.mark.points(3)
@pytest.mark.lab("net")
def test_net_udp_two_ports(boot, cpus):
    """Two udpecho envs on ports 7000 and 7001 at once: each echoes the
    datagrams sent to its port (from its port, checksum correct), and
    never one sent to the other's."""
    con = boot("init", cpus=cpus, net=True, fail_on=[console.PANIC, r"unhandled"])
    con.expect(r"^\$ ", timeout=30)
    con.send("udpecho 7000 5 &\r")
    con.expect(r"udpecho: port 7000 ready", timeout=30)        # (perhaps after a prompt)
    con.send("udpecho 7001 5 &\r")
    con.expect(r"udpecho: port 7001 ready", timeout=30)
    peer = con.net
    for i in range(5):
        for port in (7000, 7001):
            payload = f"to {port} number {i}".encode()
            r = peer.udp_exchange(port, payload, sport=41000 + i, timeout=5)
            assert r is not None, f"no echo from port {port} (datagram {i})"
            assert r.udp.payload == payload and r.udp.checksum_ok and r.ip.checksum_ok, r
    time.sleep(0.5)
    stray = peer.recv_all(lambda f: f.udp is not None)
    assert not stray, f"datagrams nobody asked for: {stray}"


@needs_stack
@pytest.mark.points(4)
@pytest.mark.lab("net")
def test_nettest_loop(boot, cpus):
    """user/nettest.c on a looped-back NIC: ping to ourselves, UDP of
    every size, two udpecho envs on two ports (one killed: its port goes
    quiet), ARP (a timeout after exactly 4 requests, a forged request
    answered and learned, requests not for Ethernet and IPv4 dropped, two
    resolvers of one address at once), and malformed frames (IPv4 total
    lengths past the frame, below the header, the header alone, ...) each
    dropped and counted once by the library."""
    con = boot("init", cpus=cpus, args="nettest loop", net="loop",
               fail_on=[console.PANIC, r"FAIL", r"unhandled"])
    con.expect(console.ok("nettest"), timeout=120)
    assert int(con.expect(INIT_EXITED, timeout=30)[1]) == 0


# The network's rows of make bench (user/netbench.c), exact under -icount
# with the NIC looped back.  The demultiplexer is lab net's; the UDP path
# the system's.
NET_BENCH = {
    "demux": ("net", {"net_demux64": 300}),
    "udp": ("base", {"udp_echo": 6000, "udp_throughput": 3000}),
}


@pytest.mark.cpus(1)
@pytest.mark.parametrize("group", [
    pytest.param(g, id=g, marks=[pytest.mark.lab(lab), pytest.mark.points(3)])
    for g, (lab, _) in NET_BENCH.items()])
def test_net_bench(boot, cpus, group):
    con = boot("netbench", cpus=cpus, args=group, icount=True, net="loop",
               fail_on=[console.PANIC, r"FAIL"])
    assert int(con.expect(INIT_EXITED, timeout=180)[1]) == 0
    con.check_bench(NET_BENCH[group][1])
    if group == "demux":
        rows = dict((n, int(v)) for n, v in re.findall(r"^bench (net_demux\d+) (\d+) insn/", con.output, re.M))
        assert rows["net_demux64"] <= 1.5 * rows["net_demux1"], \
            f"64 filters cost {rows['net_demux64']} instructions a frame, 1 filter {rows['net_demux1']}: " \
            "the demultiplexer's cost grows with the number of filters"

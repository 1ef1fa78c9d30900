"""Raw Ethernet frames between the host and a QEMU NIC.

QEMU's `-netdev dgram` carries each Ethernet frame of the guest's NIC in
one UDP datagram between QEMU's socket (127.0.0.1:A) and ours
(127.0.0.1:B).  A `Peer` plays the host on that wire: IPv4 address
10.0.2.2 and Ethernet address 52:55:0a:00:02:02.  Its reader thread keeps
every frame that arrives (for `recv`) and, unless told not to, answers ARP
requests for 10.0.2.2 and ICMP echo requests sent to it.

    peer = Peer(qemu_port=A)                # binds 127.0.0.1:B (0: any free)
    peer.arp_query("10.0.2.15")             # the guest's MAC (bytes), or None
    peer.ping("10.0.2.15", seq=1)           # the echo reply (a Frame), or None
    peer.udp_exchange(7, b"hello")          # the reply datagram (a Frame), or None
    peer.send(frame)                        # any bytes, as one frame
    peer.recv(lambda f: f.udp, timeout=2)   # the first frame that matches

Builders (`ether`, `arp`, `ipv4`, `icmp_echo`, `udp`, `udp_frame`) return
bytes with correct checksums unless asked otherwise; `parse` turns any
bytes into a `Frame` without raising (the layers it cannot read are None).

Standard library only.  Nothing is ever sent anywhere but 127.0.0.1.
"""

import collections
import select
import socket
import struct
import threading
import time
import zlib

LOOPBACK = "127.0.0.1"
HOST_IP = "10.0.2.2"
GUEST_IP = "10.0.2.15"
HOST_MAC = bytes.fromhex("52550a000202")      # locally administered, unicast
GUEST_MAC = bytes.fromhex("525400123456")     # QEMU's default for the NIC
BROADCAST = b"\xff" * 6

ETH_IP = 0x0800
ETH_ARP = 0x0806
PROTO_ICMP = 1
PROTO_UDP = 17
ARP_REQUEST, ARP_REPLY = 1, 2
ICMP_ECHO_REPLY, ICMP_ECHO = 0, 8

MAXFRAME = 1514                               # Ethernet header + 1500, no FCS


# ---- addresses and checksums ----

def ip_bytes(ip):
    """'10.0.2.15' (or 4 bytes) -> 4 bytes."""
    return ip if isinstance(ip, (bytes, bytearray)) else socket.inet_aton(ip)


def ip_str(b):
    return socket.inet_ntoa(bytes(b))


def mac_str(b):
    return ":".join(f"{x:02x}" for x in b)


def mac_bytes(s):
    """'52:54:00:12:34:56' (or 6 bytes) -> 6 bytes."""
    return s if isinstance(s, (bytes, bytearray)) else bytes.fromhex(s.replace(":", ""))


def inet_checksum(data):
    """The Internet checksum (RFC 1071) of data: the one's complement of
    the one's-complement sum of its 16-bit big-endian words."""
    if len(data) % 2:
        data = bytes(data) + b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _pseudo(src, dst, proto, length):
    return ip_bytes(src) + ip_bytes(dst) + struct.pack("!BBH", 0, proto, length)


def crc(data, start=0):
    """CRC-32 (zlib's): the checksum user/netkern.c prints of each frame."""
    return zlib.crc32(data, start) & 0xFFFFFFFF


# ---- builders ----

def ether(dst, src, ethertype, payload):
    return mac_bytes(dst) + mac_bytes(src) + struct.pack("!H", ethertype) + bytes(payload)


def arp(op, sha, spa, tha, tpa):
    """An ARP packet for Ethernet and IPv4 (the frame's payload)."""
    return struct.pack("!HHBBH", 1, ETH_IP, 6, 4, op) + mac_bytes(sha) + ip_bytes(spa) + \
        mac_bytes(tha) + ip_bytes(tpa)


def ipv4(src, dst, proto, payload, ttl=64, ident=0, checksum=None, total_len=None, ihl=5,
         options=b""):
    """An IPv4 header and payload.  checksum: None computes it, a number is
    used as is; total_len: None is the true length."""
    hlen = 4 * ihl
    options = bytes(options).ljust(hlen - 20, b"\0")[:max(0, hlen - 20)]
    if total_len is None:
        total_len = 20 + len(options) + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | (ihl & 15), 0, total_len & 0xFFFF, ident & 0xFFFF,
                      0, ttl, proto, 0, ip_bytes(src), ip_bytes(dst)) + options
    if checksum is None:
        checksum = inet_checksum(hdr)
    hdr = hdr[:10] + struct.pack("!H", checksum & 0xFFFF) + hdr[12:]
    return hdr + bytes(payload)


def icmp_echo(ident, seq, data=b"", reply=False, checksum=None):
    msg = struct.pack("!BBHHH", ICMP_ECHO_REPLY if reply else ICMP_ECHO, 0, 0, ident, seq) + \
        bytes(data)
    if checksum is None:
        checksum = inet_checksum(msg)
    return msg[:2] + struct.pack("!H", checksum & 0xFFFF) + msg[4:]


def udp(src, dst, sport, dport, payload, checksum=None, length=None):
    """A UDP header and payload.  checksum: None computes it over the
    pseudo-header (0 means "none", so a computed 0 is sent as 0xFFFF); a
    number is used as is.  length: None is the true length."""
    if length is None:
        length = 8 + len(payload)
    seg = struct.pack("!HHHH", sport, dport, length & 0xFFFF, 0) + bytes(payload)
    if checksum is None:
        checksum = inet_checksum(_pseudo(src, dst, PROTO_UDP, 8 + len(payload)) + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", checksum & 0xFFFF) + seg[8:]


def udp_frame(dport, payload, sport=40000, src_ip=HOST_IP, dst_ip=GUEST_IP, src_mac=HOST_MAC,
              dst_mac=GUEST_MAC, ident=0):
    """A whole Ethernet frame: one UDP datagram to the guest."""
    seg = udp(src_ip, dst_ip, sport, dport, payload)
    return ether(dst_mac, src_mac, ETH_IP, ipv4(src_ip, dst_ip, PROTO_UDP, seg, ident=ident))


# ---- parsing ----

class Layer:
    """Fields of one parsed header, as attributes; repr shows them."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __repr__(self):
        inner = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items()
                          if k not in ("payload", "data"))
        return f"{type(self).__name__}({inner})"


class Arp(Layer):
    pass


class Ip(Layer):
    pass


class Icmp(Layer):
    pass


class Udp(Layer):
    pass


class Frame:
    """A received (or built) frame, parsed as far as it goes.

    raw, dst, src (MACs as bytes), ethertype, payload; then arp, ip, and
    under ip, icmp or udp: each None when the frame is not of that kind
    or too short for its header.  ip.checksum_ok, icmp.checksum_ok and
    udp.checksum_ok say whether the checksums verify."""

    def __init__(self, raw):
        self.raw = bytes(raw)
        self.dst = self.src = None
        self.ethertype = None
        self.payload = b""
        self.arp = self.ip = self.icmp = self.udp = None
        if len(self.raw) < 14:
            return
        self.dst, self.src = self.raw[0:6], self.raw[6:12]
        self.ethertype = struct.unpack("!H", self.raw[12:14])[0]
        self.payload = self.raw[14:]
        if self.ethertype == ETH_ARP:
            self._arp(self.payload)
        elif self.ethertype == ETH_IP:
            self._ip(self.payload)

    def _arp(self, p):
        if len(p) < 28:
            return
        htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", p[:8])
        if (htype, ptype, hlen, plen) != (1, ETH_IP, 6, 4):
            return
        self.arp = Arp(op=op, sha=p[8:14], spa=ip_str(p[14:18]), tha=p[18:24], tpa=ip_str(p[24:28]))

    def _ip(self, p):
        if len(p) < 20 or p[0] >> 4 != 4:
            return
        ihl = 4 * (p[0] & 15)
        total = struct.unpack("!H", p[2:4])[0]
        if ihl < 20 or len(p) < ihl or total < ihl or total > len(p):
            return
        self.ip = Ip(ihl=ihl, total_len=total, ident=struct.unpack("!H", p[4:6])[0], ttl=p[8],
                     proto=p[9], checksum=struct.unpack("!H", p[10:12])[0],
                     checksum_ok=inet_checksum(p[:ihl]) == 0,
                     src=ip_str(p[12:16]), dst=ip_str(p[16:20]), payload=p[ihl:total])
        body = self.ip.payload
        if self.ip.proto == PROTO_ICMP and len(body) >= 8:
            t, code, ck, ident, seq = struct.unpack("!BBHHH", body[:8])
            self.icmp = Icmp(type=t, code=code, checksum=ck, ident=ident, seq=seq, data=body[8:],
                             checksum_ok=inet_checksum(body) == 0)
        elif self.ip.proto == PROTO_UDP and len(body) >= 8:
            sport, dport, length, ck = struct.unpack("!HHHH", body[:8])
            if 8 <= length <= len(body):
                seg = body[:length]
                ok = ck == 0 or inet_checksum(
                    _pseudo(self.ip.src, self.ip.dst, PROTO_UDP, length) + seg) == 0
                self.udp = Udp(sport=sport, dport=dport, length=length, checksum=ck,
                               checksum_ok=ok, payload=seg[8:])

    def __len__(self):
        return len(self.raw)

    def __repr__(self):
        if self.dst is None:
            return f"Frame(runt, {len(self.raw)} bytes)"
        what = self.arp or self.udp or self.icmp or self.ip or f"type 0x{self.ethertype:04x}"
        return f"Frame({mac_str(self.src)} > {mac_str(self.dst)}, {len(self.raw)} bytes, {what})"


def parse(raw):
    return Frame(raw)


# ---- the peer ----

def free_udp_port():
    """A UDP port on 127.0.0.1 that nobody holds right now (the kernel's
    choice for port 0).  Another program could take it before it is used;
    on a test machine that is unlikely enough."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


class Peer:
    """The host end of a QEMU dgram NIC: a UDP socket on 127.0.0.1:port
    (0: any free port, see .port) that sends each frame to
    127.0.0.1:qemu_port and accepts datagrams from there only.

    answer=True: the reader thread answers ARP requests for ip and ICMP
    echo requests to ip itself (and still keeps them for recv)."""

    INBOX = 200000                      # frames kept for recv (the oldest go first)

    def __init__(self, qemu_port, port=0, mac=HOST_MAC, ip=HOST_IP, answer=True):
        self.qemu = (LOOPBACK, int(qemu_port))
        self.mac, self.ip = mac_bytes(mac), ip
        self.answer = answer
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
            self.sock.bind((LOOPBACK, port))
        except OSError:
            self.sock.close()
            raise
        self.port = self.sock.getsockname()[1]
        self.macs = {}                  # IP -> MAC learned from ARP replies
        self.sent = self.received = 0
        self.answered_arp = self.answered_ping = 0
        self._inbox = collections.deque(maxlen=self.INBOX)
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._reader, daemon=True,
                                        name=f"netpeer-{self.port}")
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._closed:
            return
        self._closed = True
        self._thread.join(2)                # (it looks every half second)
        self.sock.close()

    # -- the wire --

    def send(self, frame):
        """Send bytes as one frame.  An empty frame is refused: QEMU
        takes a 0-byte datagram for the end of the connection and stops
        reading its socket for good."""
        frame = bytes(frame)
        if not frame:
            raise ValueError("an empty datagram would stop QEMU's NIC for good")
        self.sock.sendto(frame, self.qemu)
        self.sent += 1

    def send_many(self, frames, pace=0):
        """Send frames back to back; pace > 0 sleeps that long every 64."""
        for i, f in enumerate(frames):
            self.send(f)
            if pace and i % 64 == 63:
                time.sleep(pace)

    def _reader(self):
        while not self._closed:
            try:
                if not select.select([self.sock], [], [], 0.5)[0]:
                    continue
                data, addr = self.sock.recvfrom(65536)
            except OSError:
                if self._closed:
                    return
                continue
            if addr != self.qemu or not data:
                continue
            f = Frame(data)
            if self.answer:
                self._respond(f)
            with self._cond:
                self.received += 1
                self._inbox.append(f)
                self._cond.notify_all()

    def _respond(self, f):
        try:
            if f.arp and f.arp.op == ARP_REQUEST and f.arp.tpa == self.ip:
                self.send(ether(f.src, self.mac, ETH_ARP,
                                arp(ARP_REPLY, self.mac, self.ip, f.arp.sha, f.arp.spa)))
                self.answered_arp += 1
            elif f.icmp and f.icmp.type == ICMP_ECHO and f.ip.dst == self.ip and f.icmp.code == 0:
                reply = icmp_echo(f.icmp.ident, f.icmp.seq, f.icmp.data, reply=True)
                self.send(ether(f.src, self.mac, ETH_IP,
                                ipv4(self.ip, f.ip.src, PROTO_ICMP, reply)))
                self.answered_ping += 1
        except OSError:
            pass

    def recv(self, match=None, timeout=5.0):
        """The first frame kept (oldest first) for which match(frame) is
        true (any frame if match is None), removed from the inbox; waits up
        to timeout seconds for one; None if none came.  Frames that do not
        match stay for later calls."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, f in enumerate(self._inbox):
                    if match is None or match(f):
                        del self._inbox[i]
                        return f
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def recv_all(self, match=None):
        """Every frame kept now that matches, removed, oldest first."""
        with self._cond:
            got = [f for f in self._inbox if match is None or match(f)]
            keep = [f for f in self._inbox if not (match is None or match(f))]
            self._inbox.clear()
            self._inbox.extend(keep)
            return got

    def drain(self):
        with self._cond:
            self._inbox.clear()

    # -- protocols --

    def arp_query(self, ip=GUEST_IP, timeout=2.0, tries=3):
        """Ask who has ip (broadcast); the MAC in the reply, or None."""
        for _ in range(tries):
            self.send(ether(BROADCAST, self.mac, ETH_ARP,
                            arp(ARP_REQUEST, self.mac, self.ip, b"\0" * 6, ip)))
            f = self.recv(lambda f: f.arp is not None and f.arp.op == ARP_REPLY and
                          f.arp.spa == ip, timeout / tries)
            if f:
                self.macs[ip] = f.arp.sha
                return f.arp.sha
        return None

    def resolve(self, ip, timeout=2.0):
        return self.macs.get(ip) or self.arp_query(ip, timeout)

    def ping(self, ip=GUEST_IP, seq=1, data=None, ident=0x4e48, timeout=2.0):
        """One ICMP echo request to ip; the reply Frame, or None (no ARP
        answer, or no echo reply in time)."""
        mac = self.resolve(ip, timeout)
        if mac is None:
            return None
        if data is None:
            data = bytes((seq + i) & 0xFF for i in range(56))
        self.send(ether(mac, self.mac, ETH_IP,
                        ipv4(self.ip, ip, PROTO_ICMP, icmp_echo(ident, seq, data), ident=seq)))
        return self.recv(lambda f: f.icmp is not None and f.icmp.type == ICMP_ECHO_REPLY and
                         f.ip.src == ip and f.icmp.ident == ident and f.icmp.seq == seq, timeout)

    def udp_send(self, port, payload, sport=40000, ip=GUEST_IP, timeout=2.0):
        """Send one datagram to ip:port; False if ip's MAC is unknown."""
        mac = self.resolve(ip, timeout)
        if mac is None:
            return False
        self.send(udp_frame(port, payload, sport=sport, src_ip=self.ip, dst_ip=ip,
                            src_mac=self.mac, dst_mac=mac))
        return True

    def udp_exchange(self, port, payload, sport=40000, ip=GUEST_IP, timeout=2.0):
        """Send a datagram to ip:port and wait for one back from there to
        sport; the reply Frame (its .udp.payload), or None."""
        if not self.udp_send(port, payload, sport, ip, timeout):
            return None
        return self.recv(lambda f: f.udp is not None and f.ip.src == ip and
                         f.udp.sport == port and f.udp.dport == sport, timeout)

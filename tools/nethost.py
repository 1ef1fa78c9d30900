#!/usr/bin/env python3
"""Talk to the guest of a `make qemu` running in another terminal, over its
NIC (grade/net.py plays the host, 10.0.2.2, on 127.0.0.1:NETPORT+1).

    tools/nethost.py --netport N ping [--count 3]      (make ping)
    tools/nethost.py --netport N udp-send PORT MESSAGE (make udp-send PORT=7 MSG=hello)

The guest must run something with the network stack (ulib/net.c), e.g.
`make qemu INIT="udpecho 7"`.  Exits 1 with a message when nothing answers.
"""

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "grade"))

import net  # noqa: E402


def qemu_listening(port):
    """Does a UDP socket hold 127.0.0.1:port (or *:port)?  None if this is
    not Linux (no /proc/net/udp)."""
    try:
        with open("/proc/net/udp") as f:
            rows = f.read().splitlines()[1:]
    except OSError:
        return None
    for row in rows:
        local = row.split()[1]
        addr, p = local.split(":")
        if int(p, 16) == port and addr in ("0100007F", "00000000"):
            return True
    return False


def no_answer(args, what, stack_seen=False):
    print(f"nethost: {what}", file=sys.stderr)
    if stack_seen:
        pass
    elif qemu_listening(args.netport) is False:
        print(f"nethost: nothing listens on 127.0.0.1:{args.netport}: start the guest first, in "
              f"another terminal: make qemu INIT=\"udpecho 7\" (same NETPORT)", file=sys.stderr)
    else:
        print(f"nethost: is the guest running a program with the network stack (e.g. "
              f"INIT=\"udpecho 7\"), and NETPORT={args.netport} the one `make qemu` used?",
              file=sys.stderr)
    return 1


def ping(peer, args):
    print(f"PING {args.ip} from {net.HOST_IP} (QEMU's NIC on 127.0.0.1:{args.netport})")
    mac = peer.arp_query(args.ip, timeout=args.timeout)
    if mac is None:
        return no_answer(args, f"no answer to an ARP request for {args.ip}")
    print(f"{args.ip} is at {net.mac_str(mac)}")
    received = 0
    for seq in range(1, args.count + 1):
        t0 = time.monotonic()
        r = peer.ping(args.ip, seq=seq, timeout=args.timeout)
        ms = (time.monotonic() - t0) * 1000
        if r is None:
            print(f"no reply to icmp_seq={seq} within {args.timeout:g} s")
        else:
            bad = "" if r.icmp.checksum_ok and r.ip.checksum_ok else " (BAD CHECKSUM)"
            print(f"{len(r.ip.payload)} bytes from {r.ip.src}: icmp_seq={r.icmp.seq} "
                  f"ttl={r.ip.ttl} time={ms:.1f} ms{bad}")
            received += 1
        if seq < args.count:
            time.sleep(0.5)
    print(f"{args.count} sent, {received} received")
    if not received:
        return no_answer(args, f"{args.ip} answered ARP but no echo request", stack_seen=True)
    return 0


def udp_send(peer, args):
    payload = args.message.encode()
    r = peer.udp_exchange(args.port, payload, sport=args.sport, ip=args.ip, timeout=args.timeout)
    if r is None:
        if args.ip not in peer.macs:
            return no_answer(args, f"no answer to an ARP request for {args.ip}")
        return no_answer(args, f"sent {len(payload)} bytes to {args.ip}:{args.port}; no datagram "
                               f"came back within {args.timeout:g} s (is udpecho {args.port} "
                               f"running?)", stack_seen=True)
    bad = "" if r.udp.checksum_ok and r.ip.checksum_ok else " (BAD CHECKSUM)"
    print(f"sent {len(payload)} bytes to {args.ip}:{args.port}")
    print(f"reply from {r.ip.src}:{r.udp.sport}, {len(r.udp.payload)} bytes{bad}: "
          f"{r.udp.payload.decode(errors='replace')}")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--netport", type=int, required=True,
                    help="QEMU's end of the NIC: 127.0.0.1:NETPORT (ours is NETPORT+1)")
    ap.add_argument("--ip", default=net.GUEST_IP, help="the guest's address (%(default)s)")
    ap.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for an answer")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ping", help="ICMP echo requests to the guest")
    p.add_argument("--count", type=int, default=3)
    u = sub.add_parser("udp-send", help="a UDP datagram to the guest; print what comes back")
    u.add_argument("port", type=int)
    u.add_argument("message")
    u.add_argument("--sport", type=int, default=40000, help="our UDP port (%(default)s)")
    args = ap.parse_args()
    try:
        peer = net.Peer(qemu_port=args.netport, port=args.netport + 1)
    except OSError as e:
        print(f"nethost: cannot use 127.0.0.1:{args.netport + 1} ({e.strerror}): is another "
              f"`make ping` or `make udp-send` running?", file=sys.stderr)
        return 1
    with peer:
        return ping(peer, args) if args.cmd == "ping" else udp_send(peer, args)


if __name__ == "__main__":
    sys.exit(main())

// The library's network stack (ulib/net.c, ulib/udp.c; docs/net-lib.md):
// Ethernet, ARP, IPv4, ICMP echo and UDP sockets as file descriptors,
// built on the kernel's packet filters and receive ring (kernel/abi.h).
// Addresses and ports are host-order integers: IP4(10, 0, 2, 15).
#ifndef ULIB_NET_H
#define ULIB_NET_H
#include "lib.h"

#define IP4(a, b, c, d) (((uint32)(a) << 24) | ((uint32)(b) << 16) | ((uint32)(c) << 8) | (uint32)(d))
#define NET_MYIP     IP4(10, 0, 2, 15)     // the guest (QEMU's user-network convention)
#define NET_NETMASK  IP4(255, 255, 255, 0) // on-link; there is no router
#define UDP_MAXDATA  1472                  // 1500 - IPv4 header - UDP header: no fragments

// What the stack saw and did in this env since it started (net_get_stats).
// Every frame the ring delivers is either used or counted in one drop_*.
struct net_stats {
  uint64 rx, tx;                 // frames taken from the ring, frames sent
  uint64 arp_answered;           // ARP requests for our address answered
  uint64 arp_requests;           // ARP requests sent (resolving an address)
  uint64 arp_replies;            // ARP replies received
  uint64 icmp_answered;          // echo requests answered
  uint64 icmp_replies;           // echo replies received for our pinger
  uint64 udp_in, udp_out;        // datagrams delivered to sockets, sent
  // drops
  uint64 drop_eth;               // shorter than an Ethernet header, or neither IPv4 nor ARP
  uint64 drop_arp;               // ARP not for Ethernet/IPv4, or neither a request for us nor a reply
  uint64 drop_ip_header;         // IPv4: too short, version not 4, header length < 20
  uint64 drop_ip_csum;           // IPv4: header checksum wrong
  uint64 drop_ip_len;            // IPv4: total length below the header or past the frame
  uint64 drop_ip_frag;           // IPv4: a fragment (MF set or offset != 0): not reassembled
  uint64 drop_ip_dst;            // IPv4: not addressed to NET_MYIP
  uint64 drop_ip_proto;          // IPv4: neither ICMP nor UDP
  uint64 drop_icmp;              // ICMP: short, checksum wrong, or a type we do not handle
  uint64 drop_udp_len;           // UDP: length field below 8 or past the IP payload
  uint64 drop_udp_csum;          // UDP: checksum (when non-zero) wrong
  uint64 drop_udp_port;          // UDP: no socket of ours on the port (or not the connected peer)
  uint64 drop_queue;             // a socket's receive queue was full (or no memory)
};

// ---- net.c ----
int    net_init(void);           // ring, transmit pages, responder filters; 0 or -error
                                 // (every call below does it when needed)
int    net_responder(void);      // 1 if this env answers ARP and echo requests for NET_MYIP
int    net_poll(void);           // handle the frames already received, without waiting
int    net_wait(int ms);         // handle frames as they come for ms milliseconds
void   net_get_stats(struct net_stats *st);
void   net_print_stats(const char *who);    // the non-zero counters, one line
int    net_send_raw(const void *frame, int len);  // a whole Ethernet frame as given (tests)
uint16 net_checksum(const void *buf, int n);       // the Internet checksum to store (buf 2-aligned)
int    arp_resolve(uint32 ip, uint8 mac[6]);      // 0, -E_TIMEOUT, -E_INVAL (off-link)
int    ip_parse(const char *s, uint32 *ip);        // "a.b.c.d": 0, or -E_INVAL
char  *ip_str(uint32 ip, char buf[16]);            // the other way; buf

// ICMP echo, for ping: one endpoint per env, named by an echo id.
int    icmp_echo_open(void);     // take echo replies for my id: the id, or -error
int    icmp_echo_send(uint32 ip, uint16 seq, const void *data, int n);   // a request; 0 or -error
int    icmp_echo_recv(uint32 *ip, uint16 *seq, void *buf, int n, int timeout_ms);
                                 // the next reply: its data length (at most n copied),
                                 // or -E_TIMEOUT (timeout_ms 0: wait forever)
void   icmp_echo_close(void);

// ---- udp.c: UDP sockets, file descriptors (read/write once connected) ----
int    udp_socket(void);         // a new, unbound socket: its fd
int    udp_bind(int fd, uint16 port);   // receive on port (0: any free one); -E_BUSY if taken
int    udp_connect(int fd, uint32 ip, uint16 port);   // the default peer for read/write
int    udp_sendto(int fd, const void *buf, int n, uint32 ip, uint16 port);  // n or -error
int    udp_recvfrom(int fd, void *buf, int n, uint32 *ip, uint16 *port);
                                 // the next datagram (longer ones are cut to n): its
                                 // length; blocks, or -E_TIMEOUT after udp_timeout's time
int    udp_timeout(int fd, int ms);     // receive calls give up after ms (0: never)
int    udp_port(int fd);         // the local port (0: unbound), or -error

#endif

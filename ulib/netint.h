// The network stack's private interface between net.c (frames, protocols,
// endpoints) and udp.c (sockets as file descriptors).
#ifndef ULIB_NETINT_H
#define ULIB_NETINT_H
#include "net.h"

#define NSOCK      16             // endpoints per env
#define SOCK_QMAX  32             // datagrams a socket may hold unread

enum { SK_FREE, SK_UDP, SK_ECHO };

struct dgram {                    // a queued datagram (malloc'd)
  struct dgram *next;
  uint32 ip;                      // its sender
  uint16 port;                    //   and port (SK_ECHO: the sequence number)
  uint16 len;
  uint8 data[];
};

struct sock {                     // an endpoint of this env's stack
  int kind;                       // SK_FREE, SK_UDP, SK_ECHO
  uint64 gen;                     // unique to this socket (descriptors name it by it)
  uint16 lport;                   // UDP: the bound port (0: none); echo: the id
  uint16 rport;                   // UDP: the connected peer's port (0: none)
  uint32 rip;                     //   and address
  int filter;                     // the kernel's id of its filter, -1: none
  uint32 timeout_ms;              // receive gives up after this long (0: never)
  struct dgram *head, *tail;      // received, not yet read
  int qlen;
};

extern struct sock socks[NSOCK];

struct sock *sock_alloc(int kind);                // a free endpoint (stack set up), or 0
struct sock *sock_get(uint32 i, uint64 gen);      // endpoint i if it is still gen
void   sock_free(struct sock *s);                 // its filter and queue go too
int    sock_bind(struct sock *s, uint16 port);    // install its filter: 0 or -error
int    sock_recv(struct sock *s, void *buf, int n, uint32 *ip, uint16 *port);
int    udp_output(struct sock *s, uint32 ip, uint16 port, const void *buf, int n);

#endif

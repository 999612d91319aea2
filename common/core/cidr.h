/* cidr: client addresses as comparable keys (v4-mapped IPv6 is IPv4) and
 * address/prefix blocks, for limits, access rules and trusted proxies. */
#ifndef POSTEL_CIDR_H
#define POSTEL_CIDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct addr_key {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* IPv4 in the first 4 bytes, the rest zero */
};

struct cidr {
	struct addr_key net;
	unsigned prefix;
};

/* The host part of a socket address; ::ffff:a.b.c.d becomes a.b.c.d. */
void addr_key_of(const struct sockaddr_storage *ss, struct addr_key *key);
int addr_key_equal(const struct addr_key *a, const struct addr_key *b);
/* The block a client is counted as for per-address limits: an IPv6 key
 * keeps its first v6_prefix bits (one end site's /64 by default, since
 * it may pick any address in it), the rest zeroed; IPv4 stays whole. */
void addr_key_prefix(struct addr_key *key, unsigned v6_prefix);
/* A hash of the key under seed (a random seed: clients cannot aim
 * collisions at a table). */
uint64_t addr_key_hash(const struct addr_key *key, uint64_t seed);
/* Parse "address" or "address/prefix" (n bytes of text). 0 or -1. */
int cidr_parse(const char *text, size_t n, struct cidr *out);
int cidr_match(const struct cidr *c, const struct addr_key *key);

#endif

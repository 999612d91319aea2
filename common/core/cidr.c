/* cidr: one normalisation of client addresses, so per-address limits,
 * access rules and proxy trust all see a v4-mapped peer as its IPv4. */
#include "common/core/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/core/number.h"

void
addr_key_of(const struct sockaddr_storage *ss, struct addr_key *key)
{
	memset(key, 0, sizeof(*key));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			key->family = AF_INET;
			memcpy(key->addr, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			key->family = AF_INET6;
			memcpy(key->addr, &s6->sin6_addr, 16);
		}
	} else {
		key->family = AF_INET;
		memcpy(key->addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}

int
addr_key_equal(const struct addr_key *a, const struct addr_key *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

void
addr_key_prefix(struct addr_key *key, unsigned v6_prefix)
{
	unsigned bytes = v6_prefix / 8, rem = v6_prefix % 8;

	if (key->family != AF_INET6 || v6_prefix >= 128)
		return;
	if (rem != 0)
		key->addr[bytes++] &= (unsigned char)(0xff << (8 - rem));
	memset(key->addr + bytes, 0, 16 - bytes);
}

uint64_t
addr_key_hash(const struct addr_key *key, uint64_t seed)
{
	uint64_t h = seed ^ (uint64_t)key->family, w;

	/* Two rounds of a multiply-xorshift mix per 8-byte word. */
	for (size_t i = 0; i < 16; i += 8) {
		memcpy(&w, key->addr + i, 8);
		h ^= w;
		h *= 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
		h *= 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 32;
	}
	return h;
}

int
cidr_parse(const char *text, size_t n, struct cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	uint64_t bits;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, out->net.addr) == 1)
		out->net.family = AF_INET;
	else if (inet_pton(AF_INET6, buf, out->net.addr) == 1)
		out->net.family = AF_INET6;
	else
		return -1;
	bits = out->net.family == AF_INET ? 32 : 128;
	if (slash != NULL && number_parse(slash, 0, bits, &bits) < 0)
		return -1;
	out->prefix = (unsigned)bits;
	return 0;
}

int
cidr_match(const struct cidr *c, const struct addr_key *key)
{
	unsigned bytes = c->prefix / 8, rem = c->prefix % 8;

	if (c->net.family != key->family || memcmp(c->net.addr, key->addr, bytes) != 0)
		return 0;
	if (rem == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rem));
	return (c->net.addr[bytes] & mask) == (key->addr[bytes] & mask);
}

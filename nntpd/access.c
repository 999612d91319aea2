/* access: address rules matched by prefix on the binary address, so
 * v4-mapped IPv6 peers match IPv4 rules. */
#include "access.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"
#include "xmalloc.h"

struct rule {
	int family;
	unsigned char addr[16];
	unsigned prefix;
	int can_read, can_post;
	char groups[512];
};

static int
parse_rule(const char *text, struct rule *r)
{
	char addr[INET6_ADDRSTRLEN + 8], perms[32];
	const char *p = text, *slash;
	size_t n;
	uint64_t prefix;

	memset(r, 0, sizeof(*r));
	n = strcspn(p, " \t");
	if (n == 0 || n >= sizeof(addr))
		return -1;
	memcpy(addr, p, n);
	addr[n] = '\0';
	p += n + strspn(p + n, " \t");
	slash = strchr(addr, '/');
	if (slash != NULL)
		addr[slash - addr] = '\0';
	if (inet_pton(AF_INET, addr, r->addr) == 1)
		r->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, r->addr) == 1)
		r->family = AF_INET6;
	else
		return -1;
	r->prefix = r->family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		if (number_parse(slash + 1, 0, r->prefix, &prefix) < 0)
			return -1;
		r->prefix = (unsigned)prefix;
	}
	n = strcspn(p, " \t");
	if (n == 0 || n >= sizeof(perms))
		return -1;
	memcpy(perms, p, n);
	perms[n] = '\0';
	p += n + strspn(p + n, " \t");
	if (strcmp(perms, "none") != 0) {
		struct vector v = VECTOR_INIT;

		vector_split(&v, perms, ',');
		for (size_t i = 0; i < v.count; i++) {
			if (strcmp(v.strings[i], "read") == 0)
				r->can_read = 1;
			else if (strcmp(v.strings[i], "post") == 0)
				r->can_post = 1;
			else {
				vector_free(&v);
				return -1;
			}
		}
		vector_free(&v);
	}
	if (strlen(p) >= sizeof(r->groups) || strpbrk(p, " \t") != NULL)
		return -1;
	strcpy(r->groups, *p ? p : "*");
	return 0;
}

const char *
access_check_rule(const char *rule)
{
	struct rule r;

	return parse_rule(rule, &r) == 0
		   ? NULL
		   : "expected: address[/prefix] read|post|read,post|none [wildmat]";
}

static int
prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned bytes = bits / 8, rem = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return 0;
	if (rem == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rem));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

void
access_lookup(const struct vector *rules, const struct sockaddr_storage *ss,
	      struct access_result *out)
{
	unsigned char addr[16];
	int family;
	struct rule r;

	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			family = AF_INET;
			memcpy(addr, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			family = AF_INET6;
			memcpy(addr, &s6->sin6_addr, 16);
		}
	} else {
		family = AF_INET;
		memcpy(addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
	for (size_t i = 0; i < rules->count; i++) {
		if (parse_rule(rules->strings[i], &r) < 0 || r.family != family ||
		    !prefix_match(r.addr, addr, r.prefix))
			continue;
		free(out->groups);
		out->can_read = r.can_read;
		out->can_post = r.can_post;
		out->groups = xstrdup(r.groups);
	}
	if (out->groups == NULL)
		out->groups = xstrdup("*");
}

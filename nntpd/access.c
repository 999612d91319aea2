/* access: address rules matched by prefix on the binary address, so
 * v4-mapped IPv6 peers match IPv4 rules. */
#include "access.h"

#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "xmalloc.h"

struct rule {
	struct cidr net;
	int can_read, can_post;
	char groups[512];
};

static int
parse_rule(const char *text, struct rule *r)
{
	char perms[32];
	const char *p = text;
	size_t n;

	memset(r, 0, sizeof(*r));
	n = strcspn(p, " \t");
	if (cidr_parse(p, n, &r->net) < 0)
		return -1;
	p += n + strspn(p + n, " \t");
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

void
access_lookup(const struct vector *rules, const struct sockaddr_storage *ss,
	      struct access_result *out)
{
	struct addr_key key;
	struct rule r;

	memset(out, 0, sizeof(*out));
	addr_key_of(ss, &key);
	for (size_t i = 0; i < rules->count; i++) {
		if (parse_rule(rules->strings[i], &r) < 0 || !cidr_match(&r.net, &key))
			continue;
		free(out->groups);
		out->can_read = r.can_read;
		out->can_post = r.can_post;
		out->groups = xstrdup(r.groups);
	}
	if (out->groups == NULL)
		out->groups = xstrdup("*");
}

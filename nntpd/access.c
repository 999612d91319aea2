/* access: address rules matched by prefix on the binary address, so
 * v4-mapped IPv6 peers match IPv4 rules; user rules by a wildmat on the
 * name PAM settled on. */
#include "nntpd/access.h"

#include <stdlib.h>
#include <string.h>

#include "common/core/cidr.h"
#include "common/core/wildmat.h"
#include "common/core/xmalloc.h"

#define USER_PREFIX "user:"

struct rule {
	struct cidr net;
	int is_user;
	char user[256]; /* wildmat of user names (user rules) */
	int can_read, can_post, can_approve;
	char groups[512];
	char post_groups[512];
};

/* The next whitespace-separated word of *p into out (NUL-terminated);
 * 0, or -1 when it does not fit. An absent word is "". */
static int
word(const char **p, char *out, size_t cap)
{
	size_t n = strcspn(*p, " \t");

	if (n >= cap)
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n + strspn(*p + n, " \t");
	return 0;
}

static int
parse_rule(const char *text, struct rule *r)
{
	char perms[32];
	const char *p = text;
	size_t n;

	memset(r, 0, sizeof(*r));
	n = strcspn(p, " \t");
	if (strncmp(p, USER_PREFIX, strlen(USER_PREFIX)) == 0) {
		r->is_user = 1;
		p += strlen(USER_PREFIX);
		if (word(&p, r->user, sizeof(r->user)) < 0 || r->user[0] == '\0')
			return -1;
	} else {
		if (cidr_parse(p, n, &r->net) < 0)
			return -1;
		p += n + strspn(p + n, " \t");
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
			else if (strcmp(v.strings[i], "moderate") == 0)
				r->can_approve = 1;
			else {
				vector_free(&v);
				return -1;
			}
		}
		vector_free(&v);
	}
	if (word(&p, r->groups, sizeof(r->groups)) < 0 ||
	    word(&p, r->post_groups, sizeof(r->post_groups)) < 0 || *p != '\0')
		return -1;
	if (r->groups[0] == '\0')
		strcpy(r->groups, "*");
	if (r->post_groups[0] == '\0')
		strcpy(r->post_groups, r->groups);
	return 0;
}

const char *
access_check_rule(const char *rule)
{
	struct rule r;

	return parse_rule(rule, &r) == 0
	           ? NULL
	           : "expected: address[/prefix]|user:NAME read|post|read,post|none "
	             "(and moderate: read,post,moderate) [wildmat [post-wildmat]]";
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
		if (parse_rule(rules->strings[i], &r) < 0 || r.is_user || !cidr_match(&r.net, &key))
			continue;
		access_result_free(out);
		out->can_read = r.can_read;
		out->can_post = r.can_post;
		out->can_approve = r.can_approve;
		out->groups = xstrdup(r.groups);
		out->post_groups = xstrdup(r.post_groups);
	}
	if (out->groups == NULL) {
		out->groups = xstrdup("*");
		out->post_groups = xstrdup("*");
	}
}

int
access_lookup_user(const struct vector *rules, const char *user, struct access_result *out)
{
	struct rule r;
	int matched = 0;

	for (size_t i = 0; i < rules->count; i++) {
		if (parse_rule(rules->strings[i], &r) < 0 || !r.is_user ||
		    !wildmat_match(user, r.user))
			continue;
		access_result_free(out);
		out->can_read = r.can_read;
		out->can_post = r.can_post;
		out->can_approve = r.can_approve;
		out->groups = xstrdup(r.groups);
		out->post_groups = xstrdup(r.post_groups);
		matched = 1;
	}
	return matched;
}

int
access_has_user_rules(const struct vector *rules)
{
	struct rule r;

	for (size_t i = 0; i < rules->count; i++)
		if (parse_rule(rules->strings[i], &r) == 0 && r.is_user)
			return 1;
	return 0;
}

void
access_result_free(struct access_result *r)
{
	free(r->groups);
	free(r->post_groups);
	r->groups = r->post_groups = NULL;
}

/* peer= rules: who may feed relayed articles. */

#define USER_PREFIX "user:"

const char *
access_check_peer_rule(const char *rule)
{
	struct cidr c;

	if (strncmp(rule, USER_PREFIX, strlen(USER_PREFIX)) == 0)
		return rule[strlen(USER_PREFIX)] != '\0' ? NULL : "expected user:NAME";
	if (strpbrk(rule, " \t") != NULL || cidr_parse(rule, strlen(rule), &c) < 0)
		return "expected an address, address/prefix or user:NAME";
	return NULL;
}

int
access_is_peer(const struct vector *peers, const struct sockaddr_storage *addr, const char *user)
{
	struct addr_key key;
	struct cidr c;

	addr_key_of(addr, &key);
	for (size_t i = 0; i < peers->count; i++) {
		const char *r = peers->strings[i];

		/* SECURITY: only configured peers may inject relayed
		 * articles (they skip the posting rules and keep their Path). */
		if (strncmp(r, USER_PREFIX, strlen(USER_PREFIX)) == 0) {
			if (user != NULL && wildmat_match(user, r + strlen(USER_PREFIX)))
				return 1;
		} else if (cidr_parse(r, strlen(r), &c) == 0 && cidr_match(&c, &key)) {
			return 1;
		}
	}
	return 0;
}

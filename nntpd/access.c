/* access: address rules matched by prefix on the binary address, so
 * v4-mapped IPv6 peers match IPv4 rules; user rules by a wildmat on the
 * name PAM settled on. */
#include "nntpd/access.h"

#include <stdlib.h>
#include <string.h>

#include "common/core/cidr.h"
#include "common/core/number.h"
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

/* peer= rules: who may feed relayed articles, and within what limits
 * (INN's incoming.conf max-connections and patterns). */

#define PEER_MAX_CONN "max-connections="
#define PEER_PATTERNS "patterns="

struct peer_rule {
	int is_user;
	struct cidr net;
	char *user; /* wildmat of user names (user rules) */
	unsigned long max_conn;
	char *patterns; /* NULL: any group */
};

static void
peer_rule_free(struct peer_rule *r)
{
	free(r->user);
	free(r->patterns);
	memset(r, 0, sizeof(*r));
}

static int
parse_peer_rule(const char *text, struct peer_rule *r)
{
	struct vector w = VECTOR_INIT;
	const char *a;
	uint64_t n;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	vector_split_space(&w, text, 4);
	if (w.count < 1 || w.count > 3)
		goto out;
	a = w.strings[0];
	if (strncmp(a, USER_PREFIX, strlen(USER_PREFIX)) == 0) {
		r->is_user = 1;
		if (a[strlen(USER_PREFIX)] == '\0')
			goto out;
		r->user = xstrdup(a + strlen(USER_PREFIX));
	} else if (cidr_parse(a, strlen(a), &r->net) < 0) {
		goto out;
	}
	for (size_t i = 1; i < w.count; i++) {
		a = w.strings[i];
		if (strncmp(a, PEER_MAX_CONN, strlen(PEER_MAX_CONN)) == 0 && r->max_conn == 0 &&
		    number_parse(a + strlen(PEER_MAX_CONN), 1, 100000, &n) == 0)
			r->max_conn = (unsigned long)n;
		else if (strncmp(a, PEER_PATTERNS, strlen(PEER_PATTERNS)) == 0 &&
		         r->patterns == NULL && a[strlen(PEER_PATTERNS)] != '\0')
			r->patterns = xstrdup(a + strlen(PEER_PATTERNS));
		else
			goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		peer_rule_free(r);
	vector_free(&w);
	return rc;
}

const char *
access_check_peer_rule(const char *rule)
{
	struct peer_rule r;

	if (parse_peer_rule(rule, &r) < 0)
		return "expected an address, address/prefix or user:NAME, then optionally "
		       "max-connections=N and patterns=WILDMAT";
	peer_rule_free(&r);
	return NULL;
}

/* Whether rule r names addr (key) or user (NULL: not logged in). */
static int
peer_rule_matches(const struct peer_rule *r, const struct addr_key *key, const char *user)
{
	if (r->is_user)
		return user != NULL && wildmat_match(user, r->user);
	return cidr_match(&r->net, key);
}

/* The last rule naming key or user (NULL: address rules only) into out
 * (owned); 0, or -1: none. */
static int
peer_lookup(const struct vector *peers, const struct addr_key *key, const char *user,
            struct peer_rule *out)
{
	struct peer_rule r;
	int found = -1;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < peers->count; i++) {
		if (parse_peer_rule(peers->strings[i], &r) < 0)
			continue;
		if (!peer_rule_matches(&r, key, user)) {
			peer_rule_free(&r);
			continue;
		}
		peer_rule_free(out);
		*out = r;
		found = 0;
	}
	return found;
}

int
access_is_peer(const struct vector *peers, const struct sockaddr_storage *addr, const char *user)
{
	struct addr_key key;
	struct peer_rule r;
	int is;

	addr_key_of(addr, &key);
	/* SECURITY: only configured peers may inject relayed articles
	 * (they skip the posting rules and keep their Path). */
	is = peer_lookup(peers, &key, user, &r) == 0;

	peer_rule_free(&r);
	return is;
}

char *
access_peer_patterns(const struct vector *peers, const struct sockaddr_storage *addr,
                     const char *user)
{
	struct addr_key key;
	struct peer_rule r;
	char *p = NULL;

	addr_key_of(addr, &key);
	if (peer_lookup(peers, &key, user, &r) == 0 && r.patterns != NULL) {
		p = r.patterns;
		r.patterns = NULL;
	}
	peer_rule_free(&r);
	return p;
}

unsigned long
access_peer_max_connections(const struct vector *peers, const struct addr_key *key)
{
	struct peer_rule r;
	unsigned long max = peer_lookup(peers, key, NULL, &r) == 0 ? r.max_conn : 0;

	peer_rule_free(&r);
	return max;
}

int
access_peer_groups_ok(const char *patterns, const struct vector *groups, struct buffer *why)
{
	size_t at;
	int r;

	if (patterns == NULL)
		return 1;
	r = wildmat_poison_groups(groups, patterns, &at);
	if (r == WILDMAT_POISON)
		buffer_printf(why, "Group %s refused from this peer", groups->strings[at]);
	else if (r == WILDMAT_NOMATCH)
		buffer_puts(why, "Unwanted newsgroups from this peer");
	return r == WILDMAT_MATCH;
}

/* access: access rules, per address ("address[/prefix] perms [wildmat
 * [post-wildmat]]") and, after AUTHINFO, per user ("user:NAME perms ..."). */
#ifndef NNTPD_ACCESS_H
#define NNTPD_ACCESS_H

#include <sys/socket.h>

#include "common/core/buffer.h"
#include "common/core/cidr.h"
#include "common/core/vector.h"

struct access_result {
	int can_read, can_post;
	char *groups;      /* read wildmat (owned), "*" when none given */
	char *post_groups; /* post wildmat (owned), the read wildmat when none given */
	int can_approve;   /* "moderate": may post Approved articles to moderated groups */
};

/* Check one rule's syntax; NULL or the reason. */
const char *access_check_rule(const char *rule);
/* Apply the address rules in order; the last rule matching addr wins. No
 * match: no access. */
void access_lookup(const struct vector *rules, const struct sockaddr_storage *addr,
                   struct access_result *out);
/* After AUTHINFO: the last user rule whose NAME wildmat matches user
 * replaces out (what the address rules gave); none: out stays. Returns
 * whether one matched. */
int access_lookup_user(const struct vector *rules, const char *user, struct access_result *out);
/* Whether any rule is a user rule (logging in may give access). */
int access_has_user_rules(const struct vector *rules);
void access_result_free(struct access_result *r);

/* A peer= rule's syntax ("address[/prefix]" or "user:NAME", then
 * optionally "max-connections=N" and "patterns=WILDMAT"); NULL or why. */
const char *access_check_peer_rule(const char *rule);
/* Whether addr, or user once logged in (NULL: not yet), is a peer. */
int access_is_peer(const struct vector *peers, const struct sockaddr_storage *addr,
                   const char *user);
/* The patterns of the last peer rule naming addr or user (allocated), or
 * NULL when it has none: the peer may feed any group. */
char *access_peer_patterns(const struct vector *peers, const struct sockaddr_storage *addr,
                           const char *user);
/* The listener: max-connections of the last address rule matching key
 * (0: none given, max_per_ip applies). */
unsigned long access_peer_max_connections(const struct vector *peers, const struct addr_key *key);
/* INN's incoming.conf patterns over an article's Newsgroups: refused when
 * a group's last matching pattern is '@' (poison), or when no group
 * matches a plain pattern; otherwise taken whole, filed in every group
 * it names that exists here. 1, or 0 with the reason in why. */
int access_peer_groups_ok(const char *patterns, const struct vector *groups, struct buffer *why);

#endif

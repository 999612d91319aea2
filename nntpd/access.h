/* access: access rules, per address ("address[/prefix] perms [wildmat
 * [post-wildmat]]") and, after AUTHINFO, per user ("user:NAME perms ..."). */
#ifndef NNTPD_ACCESS_H
#define NNTPD_ACCESS_H

#include <sys/socket.h>

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

/* A peer= rule's syntax ("address[/prefix]" or "user:NAME"); NULL or why. */
const char *access_check_peer_rule(const char *rule);
/* Whether addr, or user once logged in (NULL: not yet), is a peer. */
int access_is_peer(const struct vector *peers, const struct sockaddr_storage *addr,
                   const char *user);

#endif

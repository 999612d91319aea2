/* access: per-address access rules ("address[/prefix] perms [wildmat]"). */
#ifndef NNTPD_ACCESS_H
#define NNTPD_ACCESS_H

#include <sys/socket.h>

#include "vector.h"

struct access_result {
	int can_read, can_post;
	char *groups; /* wildmat the rule gives (owned), "*" when none given */
};

/* Check one rule's syntax; NULL or the reason. */
const char *access_check_rule(const char *rule);
/* Apply the rules in order; the last rule matching addr wins. No match:
 * no access. */
void access_lookup(const struct vector *rules, const struct sockaddr_storage *addr,
		   struct access_result *out);

#endif

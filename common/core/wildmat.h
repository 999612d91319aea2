/* wildmat: RFC 3977 section 4 patterns (with INN's [...] classes and \
 * escapes), UTF-8 aware, in time bounded by len(text) * len(pattern). */
#ifndef POSTEL_WILDMAT_H
#define POSTEL_WILDMAT_H

#include <stddef.h>

#include "common/core/vector.h"

/* One pattern (no commas, no !): 1 if text matches, else 0. */
int wildmat_match(const char *text, const char *pattern);
/* A comma-separated list of patterns, each optionally prefixed by '!';
 * the last pattern that matches decides. 1 if text matches, else 0. */
int wildmat_match_list(const char *text, const char *list);
/* INN's newsfeeds and incoming.conf lists: as wildmat_match_list, and a
 * pattern prefixed by '@' poisons: when it is the last to match, the
 * answer is WILDMAT_POISON (the whole article is refused, not only this
 * group). WILDMAT_NOMATCH also when nothing matches. */
#define WILDMAT_POISON (-1)
#define WILDMAT_NOMATCH 0
#define WILDMAT_MATCH 1
int wildmat_poison(const char *text, const char *list);
/* wildmat_poison over each of groups (an article's Newsgroups):
 * WILDMAT_POISON as soon as one group is poisoned (its index in *at),
 * else WILDMAT_MATCH when one group matches, else WILDMAT_NOMATCH. */
int wildmat_poison_groups(const struct vector *groups, const char *list, size_t *at);

#endif

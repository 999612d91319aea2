/* setup: the accounts and directories a daemon needs before it starts
 * (what `make install` makes), checked at start and by -t. */
#ifndef POSTEL_SETUP_H
#define POSTEL_SETUP_H

#include <sys/types.h>

#include "common/core/buffer.h"

/* Where a key was set ("FILE:LINE") or NULL (its default). */
typedef const char *(*setup_where_fn)(const char *key);

struct setup_check {
	setup_where_fn where;
	struct buffer *errors; /* "WHERE: key: reason" lines */
	int bad;
};

/* The account named by key must exist; home is what useradd gives it. */
void setup_need_account(struct setup_check *c, const char *key, const char *name, const char *home);
/* Directory path (key's value) must exist, or, when the daemon makes it
 * itself (daemon_makes), at least its parent; owner, group (NULL: the
 * owner's) and mode are what the suggested command gives it. */
void setup_need_dir(struct setup_check *c, const char *key, const char *path, const char *owner,
                    const char *group, mode_t mode, int daemon_makes);
/* The directory a file (key's value) is created in must exist. */
void setup_need_parent(struct setup_check *c, const char *key, const char *file, const char *owner,
                       const char *group, mode_t mode);

#endif

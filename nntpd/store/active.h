/* active: the group list (active, active.times, newsgroups) in memory;
 * readers reload it only when a file changed, the writer owns updates. */
#ifndef POSTEL_ACTIVE_H
#define POSTEL_ACTIVE_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/core/buffer.h"
#include "common/core/vector.h"

/* File names under the spool root. active lines: "name high low flag" with
 * flag y (posting allowed), n (no posting), m (moderated), x (no local
 * posting, feeds filed), j (known, articles filed in junk) or =other.group
 * (an alias: articles filed in other.group); numbers are zero-padded to 10
 * digits. active.times: "name created creator".
 * newsgroups: "name<TAB>description". Each is rewritten as a whole via a
 * temp file and rename(2), so a reader sees the old or the new file. */
#define ACTIVE_FILE "active"
#define ACTIVE_TIMES_FILE "active.times"
#define ACTIVE_NEWSGROUPS_FILE "newsgroups"
/* Where articles for a j group are filed (INN's junk). */
#define ACTIVE_JUNK "junk"

struct group {
	char *name;
	uint64_t high, low; /* empty group: low == high + 1 */
	char flag;          /* 'y', 'n', 'm', 'x', 'j' or '=' */
	char *flags;        /* the active field: flag, or "=" and the alias */
	time_t created;
	char *creator;
	char *description;
};

struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	int valid;
};

struct active {
	struct group **groups; /* sorted by name (strcmp) */
	size_t count, alloc;
	struct file_id id[3]; /* active, active.times, newsgroups */
	/* Lines of active that do not parse (logged): written back as they
	 * are, so a typo in a flag never loses the group's line. */
	struct vector bad;
};

void active_init(struct active *a);
void active_free(struct active *a);
/* Load the files under spoolfd that changed since the last call (all on the
 * first). 1 reloaded, 0 unchanged, -1 error (errno set; a missing
 * active.times or newsgroups is not an error). */
int active_refresh(struct active *a, int spoolfd);
struct group *active_find(const struct active *a, const char *name);
/* Add a group (name already validated); returns it, or NULL if it exists. */
struct group *active_add(struct active *a, const char *name, const char *flags, time_t created,
                         const char *creator, const char *description);
/* 0, or -1 when no such group. */
int active_remove(struct active *a, const char *name);
/* 0 when flags is a valid active flag field, else -1 with a reason in why
 * (it names the flag). */
int active_check_flags(const char *flags, struct buffer *why);
/* The group articles for g are filed in: g itself, junk for a j group, the
 * target of an =alias (not followed further); NULL when that is missing. */
struct group *active_filing_group(const struct active *a, struct group *g);
/* Every bad line of active under spoolfd, "active:N: why\n" each, appended
 * to report; their count, or -1 (errno) when active cannot be read. */
long active_check(int spoolfd, struct buffer *report);
/* Atomically rewrite active only (the per-article high-water update). */
int active_write(struct active *a, int spoolfd);
/* Atomically rewrite newsgroups, active.times and then active. */
int active_write_all(struct active *a, int spoolfd);

#endif

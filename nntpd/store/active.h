/* active: the group list (active, active.times, newsgroups) in memory;
 * readers reload it only when a file changed, the writer owns updates. */
#ifndef POSTEL_ACTIVE_H
#define POSTEL_ACTIVE_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* File names under the spool root. active lines: "name high low flag" with
 * flag y (posting allowed), n (no posting), m (moderated); numbers are
 * zero-padded to 10 digits. active.times: "name created creator".
 * newsgroups: "name<TAB>description". Each is rewritten as a whole via a
 * temp file and rename(2), so a reader sees the old or the new file. */
#define ACTIVE_FILE "active"
#define ACTIVE_TIMES_FILE "active.times"
#define ACTIVE_NEWSGROUPS_FILE "newsgroups"

struct group {
	char *name;
	uint64_t high, low; /* empty group: low == high + 1 */
	char flag;          /* 'y', 'n' or 'm' */
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
};

void active_init(struct active *a);
void active_free(struct active *a);
/* Load the files under spoolfd that changed since the last call (all on the
 * first). 1 reloaded, 0 unchanged, -1 error (errno set; a missing
 * active.times or newsgroups is not an error). */
int active_refresh(struct active *a, int spoolfd);
struct group *active_find(const struct active *a, const char *name);
/* Add a group (name already validated); returns it, or NULL if it exists. */
struct group *active_add(struct active *a, const char *name, char flag, time_t created,
                         const char *creator, const char *description);
/* 0, or -1 when no such group. */
int active_remove(struct active *a, const char *name);
int active_valid_flag(char flag);
/* Atomically rewrite active only (the per-article high-water update). */
int active_write(struct active *a, int spoolfd);
/* Atomically rewrite newsgroups, active.times and then active. */
int active_write_all(struct active *a, int spoolfd);

#endif

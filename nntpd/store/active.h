/* active: the group list (active, active.times, newsgroups) in memory;
 * readers reload it only when a file was replaced, the writer owns updates. */
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
 * (an alias: articles filed in other.group). active.times: "name created
 * creator". newsgroups: "name<TAB>description". A change to the group list
 * rewrites each file whole via a temp file and rename(2), so a reader sees
 * the old or the new file.
 *
 * The marks change in place. The writer lays out every active line with
 * blanks after the name up to a 16-byte boundary of the file, then each mark
 * zero-padded to 15 digits at the start of its own 16-byte block:
 *   "misc.test       000000000000042 000000000000001 y"
 * and overwrites both with one pwrite(2). Each field lies within one aligned
 * block, so within one page and one disk sector: a killed writer or a power
 * cut leaves every field whole (old or new digits), and recovery raises a
 * high mark that lags its article files. Any other layout (INN's, or
 * Postel's older 10-digit one) is read, and rewritten so by the writer at
 * start. */
#define ACTIVE_FILE "active"
#define ACTIVE_TIMES_FILE "active.times"
#define ACTIVE_NEWSGROUPS_FILE "newsgroups"
#define ACTIVE_MARK_ALIGN 16
#define ACTIVE_MARK_WIDTH 15
#define ACTIVE_MARK_MAX 999999999999999ULL
/* The most bytes from a high mark's first digit to the low mark's last a
 * reader preads; a wider record is only seen when active is reloaded. */
#define ACTIVE_RECORD_MAX 64
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
	/* The marks' fields in the active file (width 0: not in it), and
	 * (writer) the values they hold. */
	size_t high_at, low_at, high_w, low_w;
	uint64_t disk_high, disk_low;
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
	/* The loaded active file, open: readers pread marks from it, the
	 * writer (writer set) pwrites them; -1 when not a regular file. */
	int fd;
	int writer;
};

void active_init(struct active *a);
void active_free(struct active *a);
/* Load the files under spoolfd that changed since the last call (all on the
 * first): active when it is a new file or its size changed, so marks updated
 * in place are not reloaded here but read by active_lookup or
 * active_marks_all. 1 reloaded, 0 unchanged, -1 error (errno set; a missing
 * active.times or newsgroups is not an error). */
int active_refresh(struct active *a, int spoolfd);
/* The group as last loaded (its marks may be old for a reader). */
struct group *active_find(const struct active *a, const char *name);
/* Readers: the group with its current marks, one pread of its record. */
struct group *active_lookup(const struct active *a, const char *name);
/* Readers: bring g's marks, or every group's (one read), up to date. */
void active_marks(const struct active *a, struct group *g);
void active_marks_all(struct active *a);
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
/* The writer takes the loaded active over: a file not laid out for in-place
 * marks (or not a regular file) is rewritten so. 0, or -1 (errno). */
int active_own(struct active *a, int spoolfd);
/* Store g's marks (in place), or every group's changed marks; active is
 * rewritten whole when a field cannot hold them. 0, or -1 (errno). */
int active_write_group(struct active *a, int spoolfd, struct group *g);
int active_write(struct active *a, int spoolfd);
/* Atomically rewrite newsgroups, active.times and then active. */
int active_write_all(struct active *a, int spoolfd);

#endif

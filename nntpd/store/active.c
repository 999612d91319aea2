/* active: parse and atomically rewrite the three group files. Readers
 * compare (dev, inode, size, mtime) of each file to skip unchanged ones. */
#include "nntpd/store/active.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "common/core/log.h"
#include "common/core/number.h"
#include "common/core/vector.h"
#include "common/core/xmalloc.h"
#include "nntpd/store/article.h"

static const char *const active_files[3] = {ACTIVE_FILE, ACTIVE_TIMES_FILE, ACTIVE_NEWSGROUPS_FILE};

static void
group_free(struct group *g)
{
	free(g->name);
	free(g->flags);
	free(g->creator);
	free(g->description);
	free(g);
}

/* Read a whole file relative to dirfd into b; -1 with errno on failure. */
static int
read_file(int dirfd, const char *name, struct buffer *b, struct file_id *id)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	buffer_clear(b);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
	id->valid = 1;
	do {
		n = read(fd, buffer_reserve(b, 65536), 65536);
		if (n > 0)
			buffer_commit(b, (size_t)n);
	} while (n > 0 || (n < 0 && errno == EINTR));
	close(fd);
	if (n < 0)
		return -1;
	buffer_cstr(b);
	return 0;
}

static int
file_changed(int dirfd, const char *name, const struct file_id *id)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, 0) < 0)
		return id->valid;
	return !id->valid || st.st_dev != id->dev || st.st_ino != id->ino ||
	       st.st_size != id->size || st.st_mtim.tv_sec != id->mtime.tv_sec ||
	       st.st_mtim.tv_nsec != id->mtime.tv_nsec;
}

/* Split one active line into f; -1 with the reason in why. */
static int
parse_line(char *line, struct vector *f, uint64_t *high, uint64_t *low, struct buffer *why)
{
	vector_split_space(f, line, 5);
	if (f->count != 4) {
		buffer_printf(why, "%zu fields, want 4 (name high low flag)", f->count);
		return -1;
	}
	if (number_parse(f->strings[1], 0, UINT64_MAX, high) < 0 ||
	    number_parse(f->strings[2], 0, UINT64_MAX, low) < 0) {
		buffer_printf(why, "group %s: bad high or low mark", f->strings[0]);
		return -1;
	}
	if (active_check_flags(f->strings[3], why) < 0) {
		buffer_printf(why, " (group %s)", f->strings[0]);
		return -1;
	}
	return 0;
}

static void
parse_active(struct active *a, char *text)
{
	struct vector f = VECTOR_INIT;
	struct buffer why = BUFFER_INIT;
	struct active old = *a;
	char *line, *save = NULL;

	a->groups = NULL;
	a->count = a->alloc = 0;
	vector_clear(&a->bad);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t high, low;
		struct group *g, *prev;

		buffer_clear(&why);
		if (parse_line(line, &f, &high, &low, &why) < 0) {
			log_msg(LOG_ERR, "active: bad line \"%s\": %s", line, buffer_cstr(&why));
			vector_add(&a->bad, line);
			continue;
		}
		prev = active_find(&old, f.strings[0]);
		g = active_add(a, f.strings[0], f.strings[3], prev ? prev->created : 0,
		               prev ? prev->creator : NULL, prev ? prev->description : NULL);
		if (g == NULL)
			continue;
		g->high = high;
		g->low = low;
	}
	vector_free(&f);
	buffer_free(&why);
	for (size_t i = 0; i < old.count; i++)
		group_free(old.groups[i]);
	free(old.groups);
}

static void
parse_times(struct active *a, char *text)
{
	struct vector f = VECTOR_INIT;
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct group *g;
		uint64_t t;

		vector_split_space(&f, line, 3);
		if (f.count < 2 || (g = active_find(a, f.strings[0])) == NULL ||
		    number_parse(f.strings[1], 0, INT64_MAX, &t) < 0)
			continue;
		g->created = (time_t)t;
		free(g->creator);
		g->creator = xstrdup(f.count > 2 ? f.strings[2] : "");
	}
	vector_free(&f);
}

static void
parse_newsgroups(struct active *a, char *text)
{
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		struct group *g;

		if (tab == NULL)
			continue;
		*tab++ = '\0';
		while (*tab == '\t')
			tab++;
		if ((g = active_find(a, line)) == NULL)
			continue;
		free(g->description);
		g->description = xstrdup(tab);
	}
}

void
active_init(struct active *a)
{
	memset(a, 0, sizeof(*a));
}

void
active_free(struct active *a)
{
	for (size_t i = 0; i < a->count; i++)
		group_free(a->groups[i]);
	free(a->groups);
	vector_free(&a->bad);
	active_init(a);
}

int
active_refresh(struct active *a, int spoolfd)
{
	struct buffer b = BUFFER_INIT;
	int changed = 0;

	if (file_changed(spoolfd, ACTIVE_FILE, &a->id[0])) {
		if (read_file(spoolfd, ACTIVE_FILE, &b, &a->id[0]) < 0) {
			int e = errno;

			buffer_free(&b);
			errno = e;
			return -1;
		}
		parse_active(a, buffer_head(&b));
		changed = 1;
	}
	/* The side files are re-read when they changed, or when active was
	 * reloaded (a new group needs its time and description). */
	for (int i = 1; i < 3; i++) {
		if (!changed && !file_changed(spoolfd, active_files[i], &a->id[i]))
			continue;
		if (read_file(spoolfd, active_files[i], &b, &a->id[i]) < 0) {
			a->id[i].valid = 0;
			continue;
		}
		if (i == 1)
			parse_times(a, buffer_head(&b));
		else
			parse_newsgroups(a, buffer_head(&b));
		changed = 1;
	}
	buffer_free(&b);
	return changed;
}

struct group *
active_find(const struct active *a, const char *name)
{
	size_t lo = 0, hi = a->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, a->groups[mid]->name);

		if (c == 0)
			return a->groups[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

struct group *
active_add(struct active *a, const char *name, const char *flags, time_t created,
           const char *creator, const char *description)
{
	struct group *g;
	size_t pos = a->count;

	if (active_find(a, name) != NULL)
		return NULL;
	if (a->count == a->alloc) {
		a->alloc = a->alloc ? a->alloc * 2 : 64;
		a->groups = xrealloc(a->groups, a->alloc * sizeof(*a->groups));
	}
	g = xcalloc(1, sizeof(*g));
	g->name = xstrdup(name);
	g->flags = xstrdup(flags);
	g->flag = flags[0];
	g->high = 0;
	g->low = 1;
	g->created = created;
	g->creator = xstrdup(creator ? creator : "");
	g->description = xstrdup(description ? description : "");
	/* Files arrive sorted, so appending is the common case. */
	while (pos > 0 && strcmp(a->groups[pos - 1]->name, name) > 0)
		pos--;
	memmove(&a->groups[pos + 1], &a->groups[pos], (a->count - pos) * sizeof(*a->groups));
	a->groups[pos] = g;
	a->count++;
	return g;
}

int
active_remove(struct active *a, const char *name)
{
	for (size_t i = 0; i < a->count; i++) {
		if (strcmp(a->groups[i]->name, name) != 0)
			continue;
		group_free(a->groups[i]);
		memmove(&a->groups[i], &a->groups[i + 1], (a->count - i - 1) * sizeof(*a->groups));
		a->count--;
		return 0;
	}
	return -1;
}

int
active_check_flags(const char *flags, struct buffer *why)
{
	if (flags[0] == '=') {
		/* SECURITY: the alias becomes a path under articles/ when
		 * articles are filed there: the group name rules apply. */
		if (!article_valid_group_name(flags + 1)) {
			buffer_printf(why, "bad flag \"%s\": = must be followed by a group name",
			              flags);
			return -1;
		}
		return 0;
	}
	if (flags[0] == '\0' || strchr("ynmxj", flags[0]) == NULL || flags[1] != '\0') {
		buffer_printf(why, "bad flag \"%s\": want y, n, m, x, j or =other.group", flags);
		return -1;
	}
	return 0;
}

struct group *
active_filing_group(const struct active *a, struct group *g)
{
	struct group *t;

	if (g->flag == 'j')
		return active_find(a, ACTIVE_JUNK);
	if (g->flag != '=')
		return g;
	/* One step only: an alias of an alias (or of a j group) would need a
	 * loop check, and INN follows one step too. */
	t = active_find(a, g->flags + 1);
	return t != NULL && t->flag != '=' && t->flag != 'j' ? t : NULL;
}

long
active_check(int spoolfd, struct buffer *report)
{
	struct buffer b = BUFFER_INIT, why = BUFFER_INIT;
	struct vector f = VECTOR_INIT;
	struct file_id id;
	char *line, *next;
	long bad = 0, n = 0;

	if (read_file(spoolfd, ACTIVE_FILE, &b, &id) < 0) {
		int e = errno;

		buffer_free(&b);
		errno = e;
		return -1;
	}
	for (line = buffer_head(&b); line != NULL; line = next) {
		uint64_t high, low;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		n++;
		if (*line == '\0') /* as the parser: blank lines are skipped */
			continue;
		buffer_clear(&why);
		if (parse_line(line, &f, &high, &low, &why) < 0) {
			buffer_printf(report, "active:%ld: %s\n", n, buffer_cstr(&why));
			bad++;
		}
	}
	vector_free(&f);
	buffer_free(&why);
	buffer_free(&b);
	return bad;
}

/* Write b to name via name.tmp + fsync-free rename: a process crash leaves
 * the old or the new file, never a torn one. */
static int
replace_file(int spoolfd, const char *name, const struct buffer *b, struct file_id *id)
{
	char tmp[64];
	int fd, n;
	struct stat st;
	size_t off = 0;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -1;
	fd = openat(spoolfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	while (off < b->len) {
		ssize_t w = write(fd, buffer_head(b) + off, b->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;

			close(fd);
			unlinkat(spoolfd, tmp, 0);
			errno = e;
			return -1;
		}
		off += (size_t)w;
	}
	if (fstat(fd, &st) == 0) {
		id->dev = st.st_dev;
		id->ino = st.st_ino;
		id->size = st.st_size;
		id->mtime = st.st_mtim;
		id->valid = 1;
	}
	if (close(fd) < 0 || renameat(spoolfd, tmp, spoolfd, name) < 0) {
		int e = errno;

		unlinkat(spoolfd, tmp, 0);
		errno = e;
		return -1;
	}
	return 0;
}

int
active_write(struct active *a, int spoolfd)
{
	struct buffer b = BUFFER_INIT;
	int rc;

	for (size_t i = 0; i < a->count; i++) {
		const struct group *g = a->groups[i];

		buffer_printf(&b, "%s %010llu %010llu %s\n", g->name, (unsigned long long)g->high,
		              (unsigned long long)g->low, g->flags);
	}
	for (size_t i = 0; i < a->bad.count; i++)
		buffer_printf(&b, "%s\n", a->bad.strings[i]);
	rc = replace_file(spoolfd, ACTIVE_FILE, &b, &a->id[0]);
	buffer_free(&b);
	return rc;
}

int
active_write_all(struct active *a, int spoolfd)
{
	struct buffer b = BUFFER_INIT;
	int rc;

	for (size_t i = 0; i < a->count; i++) {
		const struct group *g = a->groups[i];

		buffer_printf(&b, "%s\t%s\n", g->name, g->description);
	}
	rc = replace_file(spoolfd, ACTIVE_NEWSGROUPS_FILE, &b, &a->id[2]);
	buffer_clear(&b);
	for (size_t i = 0; rc == 0 && i < a->count; i++) {
		const struct group *g = a->groups[i];

		buffer_printf(&b, "%s %lld %s\n", g->name, (long long)g->created,
		              g->creator[0] ? g->creator : "unknown");
	}
	if (rc == 0)
		rc = replace_file(spoolfd, ACTIVE_TIMES_FILE, &b, &a->id[1]);
	buffer_free(&b);
	return rc == 0 ? active_write(a, spoolfd) : rc;
}

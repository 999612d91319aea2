/* active: parse the three group files, rewrite them atomically, and update
 * active's marks in place. Readers keep active open, reload it when its
 * inode or size changed (a rewrite) and pread one group's marks otherwise. */
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
#include "common/io/fileio.h"
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

/* Read a whole file relative to dirfd into b; -1 with errno on failure.
 * With keep, a regular file's descriptor is left open there (else -1). */
static int
read_file(int dirfd, const char *name, struct buffer *b, struct file_id *id, int *keep)
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
	if (n < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (keep != NULL && S_ISREG(st.st_mode))
		*keep = fd;
	else
		close(fd);
	buffer_cstr(b);
	return 0;
}

/* Has name changed since id? With same_file, only a new file or a new
 * size counts: active's marks change in place (and its mtime with them,
 * too coarsely to tell two updates apart), and the inode cannot be reused
 * while the reader holds the old one open. */
static int
file_changed(int dirfd, const char *name, const struct file_id *id, int same_file)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, 0) < 0)
		return id->valid;
	if (!id->valid || st.st_dev != id->dev || st.st_ino != id->ino || st.st_size != id->size)
		return 1;
	return !same_file &&
	       (st.st_mtim.tv_sec != id->mtime.tv_sec || st.st_mtim.tv_nsec != id->mtime.tv_nsec);
}

/* One active line's fields: where each starts in the line, and its length. */
struct fields {
	size_t at[4], len[4];
	uint64_t high, low;
};

/* The value of the n digits at p; -1 unless all are digits and it fits. */
static int
digits_value(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(p[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Split one active line into f; -1 with the reason in why. On success the
 * name and flags fields are NUL-terminated in place. */
static int
parse_line(char *line, struct fields *f, struct buffer *why)
{
	size_t pos = 0, count = 0;
	char *name = line;

	while (count < 5) {
		size_t start = pos + strspn(line + pos, " \t"), n = strcspn(line + start, " \t");

		if (n == 0)
			break;
		if (count < 4) {
			f->at[count] = start;
			f->len[count] = n;
		}
		count++;
		pos = start + n;
	}
	if (count != 4) {
		buffer_printf(why, "%zu fields, want 4 (name high low flag)", count);
		return -1;
	}
	name += f->at[0];
	if (digits_value(line + f->at[1], f->len[1], &f->high) < 0 ||
	    digits_value(line + f->at[2], f->len[2], &f->low) < 0) {
		buffer_printf(why, "group %.*s: bad high or low mark", (int)f->len[0], name);
		return -1;
	}
	line[f->at[3] + f->len[3]] = '\0'; /* only blanks follow */
	if (active_check_flags(line + f->at[3], why) < 0) {
		buffer_printf(why, " (group %.*s)", (int)f->len[0], name);
		return -1;
	}
	name[f->len[0]] = '\0';
	return 0;
}

/* Where g's marks sit in the file: line starts at offset off. */
static void
place_marks(struct group *g, size_t off, const struct fields *f)
{
	g->high_at = off + f->at[1];
	g->low_at = off + f->at[2];
	g->high_w = f->len[1];
	g->low_w = f->len[2];
	g->disk_high = g->high;
	g->disk_low = g->low;
}

static void
parse_active(struct active *a, char *text)
{
	struct buffer why = BUFFER_INIT;
	struct active old = *a;
	char *line, *save = NULL;

	a->groups = NULL;
	a->count = a->alloc = 0;
	vector_clear(&a->bad);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct fields f;
		struct group *g, *prev;
		const char *name, *flags;

		buffer_clear(&why);
		if (parse_line(line, &f, &why) < 0) {
			log_msg(LOG_ERR, "active: bad line \"%s\": %s", line, buffer_cstr(&why));
			vector_add(&a->bad, line);
			continue;
		}
		name = line + f.at[0];
		flags = line + f.at[3];
		prev = active_find(&old, name);
		g = active_add(a, name, flags, prev ? prev->created : 0,
		               prev ? prev->creator : NULL, prev ? prev->description : NULL);
		if (g == NULL)
			continue;
		g->high = f.high;
		g->low = f.low;
		place_marks(g, (size_t)(line - text), &f);
	}
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
	a->fd = -1;
}

void
active_free(struct active *a)
{
	for (size_t i = 0; i < a->count; i++)
		group_free(a->groups[i]);
	free(a->groups);
	vector_free(&a->bad);
	if (a->fd >= 0)
		close(a->fd);
	active_init(a);
}

int
active_refresh(struct active *a, int spoolfd)
{
	struct buffer b = BUFFER_INIT;
	int changed = 0;

	if (file_changed(spoolfd, ACTIVE_FILE, &a->id[0], a->fd >= 0)) {
		int fd = -1;

		if (read_file(spoolfd, ACTIVE_FILE, &b, &a->id[0], &fd) < 0) {
			int e = errno;

			buffer_free(&b);
			errno = e;
			return -1;
		}
		if (a->fd >= 0)
			close(a->fd);
		a->fd = fd;
		parse_active(a, buffer_head(&b));
		changed = 1;
	}
	/* The side files are re-read when they changed, or when active was
	 * reloaded (a new group needs its time and description). */
	for (int i = 1; i < 3; i++) {
		if (!changed && !file_changed(spoolfd, active_files[i], &a->id[i], 0))
			continue;
		if (read_file(spoolfd, active_files[i], &b, &a->id[i], NULL) < 0) {
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

/* g's two marks from the record bytes at p (the high field's first byte). */
static int
marks_at(const char *p, const struct group *g, uint64_t *high, uint64_t *low)
{
	return digits_value(p, g->high_w, high) < 0 ||
	               digits_value(p + (g->low_at - g->high_at), g->low_w, low) < 0
	           ? -1
	           : 0;
}

/* pread g's marks from the open active file. */
static int
read_marks(const struct active *a, const struct group *g, uint64_t *high, uint64_t *low)
{
	char rec[ACTIVE_RECORD_MAX];
	size_t len = g->low_at + g->low_w - g->high_at;

	if (g->high_w == 0 || len > sizeof(rec) ||
	    pread_full(a->fd, rec, len, (uint64_t)g->high_at) != 0)
		return -1;
	return marks_at(rec, g, high, low);
}

/* Take marks a reader has just read, when they differ from what it had:
 * the writer's pwrite may be copying into the page as we copy out of it,
 * so new values count once two reads in a row agree. */
static void
settle_marks(const struct active *a, struct group *g, uint64_t high, uint64_t low)
{
	for (int i = 0; i < 4 && (high != g->high || low != g->low); i++) {
		uint64_t h, l;

		if (read_marks(a, g, &h, &l) < 0)
			return;
		if (h == high && l == low) {
			g->high = high;
			g->low = low;
			return;
		}
		high = h;
		low = l;
	}
}

void
active_marks(const struct active *a, struct group *g)
{
	uint64_t high, low;

	if (a->writer || a->fd < 0 || read_marks(a, g, &high, &low) < 0)
		return;
	settle_marks(a, g, high, low);
}

void
active_marks_all(struct active *a)
{
	struct buffer b = BUFFER_INIT;
	size_t size = (size_t)a->id[0].size;

	if (a->writer || a->fd < 0 || a->count == 0)
		return;
	/* One read for the lot; its size is the loaded file's (a new size
	 * would have made the caller's refresh reload it). */
	if (pread_full(a->fd, buffer_reserve(&b, size), size, 0) == 0) {
		for (size_t i = 0; i < a->count; i++) {
			struct group *g = a->groups[i];
			uint64_t high, low;

			if (g->high_w != 0 && g->low_at + g->low_w <= size &&
			    marks_at(buffer_head(&b) + g->high_at, g, &high, &low) == 0)
				settle_marks(a, g, high, low);
		}
	}
	buffer_free(&b);
}

struct group *
active_lookup(const struct active *a, const char *name)
{
	struct group *g = active_find(a, name);

	if (g != NULL)
		active_marks(a, g);
	return g;
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
	struct file_id id;
	char *line, *next;
	long bad = 0, n = 0;

	if (read_file(spoolfd, ACTIVE_FILE, &b, &id, NULL) < 0) {
		int e = errno;

		buffer_free(&b);
		errno = e;
		return -1;
	}
	for (line = buffer_head(&b); line != NULL; line = next) {
		struct fields f;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		n++;
		if (*line == '\0') /* as the parser: blank lines are skipped */
			continue;
		buffer_clear(&why);
		if (parse_line(line, &f, &why) < 0) {
			buffer_printf(report, "active:%ld: %s\n", n, buffer_cstr(&why));
			bad++;
		}
	}
	buffer_free(&why);
	buffer_free(&b);
	return bad;
}

/* Write b to name via name.tmp + fsync-free rename: a process crash leaves
 * the old or the new file, never a torn one. With keep, the new file stays
 * open for writing there. */
static int
replace_file(int spoolfd, const char *name, const struct buffer *b, struct file_id *id, int *keep)
{
	char tmp[64];
	int fd, n;
	struct stat st;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -1;
	fd = openat(spoolfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write_all(fd, buffer_head(b), b->len) < 0)
		goto fail;
	if (fstat(fd, &st) == 0) {
		id->dev = st.st_dev;
		id->ino = st.st_ino;
		id->size = st.st_size;
		id->mtime = st.st_mtim;
		id->valid = 1;
	}
	if (keep == NULL) {
		n = close(fd);
		fd = -1;
		if (n < 0)
			goto fail;
	}
	if (renameat(spoolfd, tmp, spoolfd, name) < 0)
		goto fail;
	if (keep != NULL)
		*keep = fd;
	return 0;
fail:
	n = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(spoolfd, tmp, 0);
	errno = n;
	return -1;
}

/* g's record was written by us: each mark ACTIVE_MARK_WIDTH digits at the
 * start of its own ACTIVE_MARK_ALIGN-byte block of the file. */
static int
in_place(const struct group *g)
{
	return g->high_w == ACTIVE_MARK_WIDTH && g->low_w == ACTIVE_MARK_WIDTH &&
	       g->high_at % ACTIVE_MARK_ALIGN == 0 && g->low_at == g->high_at + ACTIVE_MARK_ALIGN;
}

/* Rewrite active whole, each record laid out for in-place updates: the
 * name, then blanks up to the next block boundary, the two marks in the
 * first ACTIVE_MARK_WIDTH bytes of two blocks, the flags. */
static int
rewrite_active(struct active *a, int spoolfd)
{
	struct buffer b = BUFFER_INIT;
	int rc, fd = -1;

	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	for (size_t i = 0; i < a->count; i++) {
		struct group *g = a->groups[i];
		struct fields f;
		size_t start = b.len;

		buffer_puts(&b, g->name);
		do
			buffer_append(&b, " ", 1);
		while (b.len % ACTIVE_MARK_ALIGN != 0);
		f.at[1] = b.len - start;
		buffer_printf(&b, "%0*llu", ACTIVE_MARK_WIDTH, (unsigned long long)g->high);
		f.len[1] = b.len - start - f.at[1];
		/* A mark past ACTIVE_MARK_MAX widens its field: that record is
		 * then rewritten whole each time (not within a lifetime). */
		do
			buffer_append(&b, " ", 1);
		while (b.len % ACTIVE_MARK_ALIGN != 0);
		f.at[2] = b.len - start;
		buffer_printf(&b, "%0*llu", ACTIVE_MARK_WIDTH, (unsigned long long)g->low);
		f.len[2] = b.len - start - f.at[2];
		buffer_printf(&b, " %s\n", g->flags);
		place_marks(g, start, &f);
	}
	for (size_t i = 0; i < a->bad.count; i++)
		buffer_printf(&b, "%s\n", a->bad.strings[i]);
	rc = replace_file(spoolfd, ACTIVE_FILE, &b, &a->id[0], &fd);
	if (rc == 0)
		a->fd = fd;
	buffer_free(&b);
	return rc;
}

/* pwrite g's marks over their fields when they changed; -1 when they
 * cannot be written there (a rewrite can). Both fields go in one write:
 * each lies within one aligned block, so neither a kill (the copy into one
 * page is not interrupted) nor a power cut (a sector is written whole)
 * leaves a field with half its digits. */
static int
put_marks(struct active *a, struct group *g)
{
	char rec[2 * ACTIVE_MARK_ALIGN];
	size_t len = ACTIVE_MARK_ALIGN + ACTIVE_MARK_WIDTH;
	int n;

	_Static_assert(ACTIVE_MARK_WIDTH + 1 == ACTIVE_MARK_ALIGN, "one blank between the marks");

	/* No file (a rewrite failed: what it recorded as written is not) or
	 * not our layout: only a rewrite will do. */
	if (a->fd < 0 || !in_place(g))
		return -1;
	if (g->high == g->disk_high && g->low == g->disk_low)
		return 0;
	if (g->high > ACTIVE_MARK_MAX || g->low > ACTIVE_MARK_MAX)
		return -1;
	n = snprintf(rec, sizeof(rec), "%0*llu %0*llu", ACTIVE_MARK_WIDTH,
	             (unsigned long long)g->high, ACTIVE_MARK_WIDTH, (unsigned long long)g->low);
	if (n < 0 || (size_t)n != len || pwrite(a->fd, rec, len, g->high_at) != (ssize_t)len)
		return -1;
	g->disk_high = g->high;
	g->disk_low = g->low;
	return 0;
}

int
active_write_group(struct active *a, int spoolfd, struct group *g)
{
	if (put_marks(a, g) == 0)
		return 0;
	return rewrite_active(a, spoolfd);
}

int
active_write(struct active *a, int spoolfd)
{
	for (size_t i = 0; i < a->count; i++)
		if (put_marks(a, a->groups[i]) < 0)
			return rewrite_active(a, spoolfd);
	return 0;
}

int
active_own(struct active *a, int spoolfd)
{
	struct stat st;
	int fd;

	a->writer = 1;
	for (size_t i = 0; i < a->count; i++)
		if (!in_place(a->groups[i]))
			goto convert;
	if (a->fd < 0)
		goto convert;
	/* The loaded file, reopened for writing (it is the one parsed). */
	fd = openat(spoolfd, ACTIVE_FILE, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == a->id[0].dev &&
	    st.st_ino == a->id[0].ino) {
		close(a->fd);
		a->fd = fd;
		return 0;
	}
	if (fd >= 0)
		close(fd);
convert:
	if (a->count > 0)
		log_msg(LOG_INFO, "active: rewriting it with fixed-width marks (updated in place)");
	return rewrite_active(a, spoolfd);
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
	rc = replace_file(spoolfd, ACTIVE_NEWSGROUPS_FILE, &b, &a->id[2], NULL);
	buffer_clear(&b);
	for (size_t i = 0; rc == 0 && i < a->count; i++) {
		const struct group *g = a->groups[i];

		buffer_printf(&b, "%s %lld %s\n", g->name, (long long)g->created,
		              g->creator[0] ? g->creator : "unknown");
	}
	if (rc == 0)
		rc = replace_file(spoolfd, ACTIVE_TIMES_FILE, &b, &a->id[1], NULL);
	buffer_free(&b);
	return rc == 0 ? rewrite_active(a, spoolfd) : rc;
}

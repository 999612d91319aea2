/* spool: storing articles and keeping the indexes consistent with them.
 *
 * Write protocol (one writer; numbers are taken from the in-memory
 * active, high + 1 in each group). Articles go in batches (group commit):
 *   1. write each article (with its Xref) to tmp/<pid>.<n>, no sync;
 *   2. syncfs: every file of the batch is on disk;
 *   3. rename each to articles/<first group>/<n>, link it into the others,
 *      append its overview records and its history entry;
 *   4. overwrite the raised high marks in active once (in place, see
 *      active.h), queue the articles for feeds;
 *   5. syncfs again: names, indexes, active and queues are on disk;
 *   6. only then acknowledge the batch's clients.
 * So a name in articles/ only ever points at a whole file, and everything
 * acknowledged is on disk. A crash before step 5 ends leaves, for the
 * unacknowledged batch, files in tmp/ (removed at start) and whole article
 * files named by numbers above their group's high mark, perhaps with gaps
 * (a power cut keeps any subset of step 3's names). spool_recover (run at
 * every start under the lock) empties tmp/ and, for each group, takes
 * every file numbered above the high mark (looking past gaps of up to
 * SPOOL_RECOVER_GAP numbers) and rolls it forward: a file that does not
 * parse or whose Xref does not name its place is removed; otherwise its
 * Xref names all its group:number places, so missing links are made,
 * overview and history appends are repeated (both ignore entries already
 * present) and the high marks are raised.
 *
 * Locking: the writer holds an exclusive flock on spool/lock for its whole
 * life; nntpctl takes the same lock to edit the spool directly when the
 * writer is down, and otherwise sends group commands to the writer. */
#include "nntpd/store/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/number.h"
#include "common/core/xmalloc.h"
#include "common/io/fileio.h"
#include "common/io/netio.h"
#include "nntpd/store/article.h"
#include "nntpd/store/overview.h"

/* How far past a missing number recovery looks for articles of one
 * unfinished batch (a power cut may keep any subset of their names). */
#define SPOOL_RECOVER_GAP SPOOL_BATCH_MAX

/* An article written to tmp/ and numbered, not yet in place (see top). */
struct pending {
	char tmp[64];
	struct vector groups;
	uint64_t *numbers;
	struct buffer stored;
	char *xref;
	char *msgid;
	time_t arrived;
	int relayed;
	int placed; /* its names and indexes are made */
};

struct spool {
	int dirfd;
	int lockfd;
	char *pathhost;
	struct active active;
	struct history *history;
	struct overview_writer *ov;
	unsigned long tmpseq;
	pid_t pid;            /* names the temp files (asked once, not per article) */
	struct pending *pend; /* the batch: stored, not yet committed */
	size_t npend, cappend;
	int batching; /* spool_batch_begin: spool_commit waits for the caller */
	int failed;   /* a commit of this batch failed */
};

/* Read a whole regular file (at most 64 MiB) into b. */
static int
read_fd(int fd, struct buffer *b)
{
	ssize_t n;

	buffer_clear(b);
	for (;;) {
		n = read(fd, buffer_reserve(b, 65536), 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buffer_commit(b, (size_t)n);
		if (b->len > (64u << 20)) {
			errno = EFBIG;
			return -1;
		}
	}
	return n < 0 ? -1 : 0;
}

char *
spool_article_path(const char *group, uint64_t number)
{
	char *p = xasprintf(SPOOL_ARTICLES "/%s/%llu", group, (unsigned long long)number);

	for (char *q = p + strlen(SPOOL_ARTICLES) + 1; *q != '\0'; q++)
		if (*q == '.')
			*q = '/';
	return p;
}

static char *
group_dir(const char *group)
{
	char *p = xasprintf(SPOOL_ARTICLES "/%s", group);

	for (char *q = p + strlen(SPOOL_ARTICLES) + 1; *q != '\0'; q++)
		if (*q == '.')
			*q = '/';
	return p;
}

/* mkdir -p of a relative path under dirfd. */
static int
mkdirs(int dirfd, const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *q = p;; q++) {
		if (*q == '/' || *q == '\0') {
			char c = *q;

			*q = '\0';
			if (mkdirat(dirfd, p, 0755) < 0 && errno != EEXIST)
				rc = -1;
			*q = c;
			if (c == '\0' || rc < 0)
				break;
		}
	}
	free(p);
	return rc;
}

int64_t
spool_scan_header_len(int fd)
{
	char buf[8192];
	uint64_t off = 0;
	int state = 0; /* bytes of "\r\n\r\n" matched so far */

	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		for (ssize_t i = 0; i < n; i++) {
			static const char pat[] = "\r\n\r\n";

			state = buf[i] == pat[state] ? state + 1 : (buf[i] == '\r' ? 1 : 0);
			if (state == 4)
				return (int64_t)(off + (uint64_t)i - 1);
		}
		off += (uint64_t)n;
	}
}

int
spool_open_article(int spoolfd, const char *group, uint64_t number, struct spool_article *out)
{
	struct overview_entry e;
	struct stat st;
	char *path;
	int fd;

	/* SECURITY: the name becomes a path; never let "..", "/" or an empty
	 * component through, whatever the caller checked. */
	if (!article_valid_group_name(group)) {
		errno = ENOENT;
		return -1;
	}
	path = spool_article_path(group, number);
	fd = openat(spoolfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = ENOENT;
		return -1;
	}
	out->fd = fd;
	out->size = (uint64_t)st.st_size;
	if (overview_get(spoolfd, group, number, &e) == 1 && e.size == out->size &&
	    e.header_len < e.size) {
		out->header_len = e.header_len;
	} else {
		int64_t h = spool_scan_header_len(fd);

		if (h < 0) {
			close(fd);
			errno = ENOENT;
			return -1;
		}
		out->header_len = (uint64_t)h;
	}
	return 0;
}

int
spool_article_header(const struct spool_article *art, const char *field, struct buffer *value)
{
	struct buffer text = BUFFER_INIT;
	struct article a;
	struct buffer why = BUFFER_INIT;
	size_t len = (size_t)art->header_len;
	ssize_t n;
	int rc = -1;

	buffer_clear(value);
	n = pread(art->fd, buffer_reserve(&text, len + 2), len + 2, 0);
	if (n == (ssize_t)(len + 2)) {
		buffer_commit(&text, len + 2);
		if (article_parse(&a, buffer_head(&text), text.len, &why) == 0) {
			rc = article_value(&a, field, value);
			article_free(&a);
		}
	}
	buffer_free(&text);
	buffer_free(&why);
	return rc;
}

/* Parse "group:number" at tok; 0 or -1. group is malloc'd. */
static int
parse_location(const char *tok, size_t len, char **group, uint64_t *number)
{
	const char *colon = memrchr(tok, ':', len);
	char *num;
	int rc;

	if (colon == NULL || colon == tok)
		return -1;
	num = xstrndup(colon + 1, len - (size_t)(colon + 1 - tok));
	rc = number_parse(num, 1, UINT64_MAX, number);
	free(num);
	if (rc < 0)
		return -1;
	*group = xstrndup(tok, (size_t)(colon - tok));
	if (!article_valid_group_name(*group)) {
		free(*group);
		return -1;
	}
	return 0;
}

/* RFC 5536 3.1.3: the right-hand side compares case-insensitively. */
static int
msgid_equal(const char *a, const char *b)
{
	const char *ata = strrchr(a, '@'), *atb = strrchr(b, '@');

	if (ata == NULL || atb == NULL || ata - a != atb - b)
		return strcmp(a, b) == 0;
	return strncmp(a, b, (size_t)(ata - a)) == 0 && strcasecmp(ata, atb) == 0;
}

int
spool_article_holds(const struct spool_article *art, const char *msgid)
{
	struct buffer v = BUFFER_INIT;
	int same =
	    spool_article_header(art, "Message-ID", &v) == 0 && msgid_equal(buffer_cstr(&v), msgid);

	buffer_free(&v);
	return same;
}

int
spool_find_msgid(struct history *h, int spoolfd, const char *msgid, char **group, uint64_t *number,
                 struct spool_article *out)
{
	struct history_entry e;
	const char *p;
	int rc = history_lookup(h, msgid, &e);

	if (rc <= 0) {
		if (rc == 0)
			errno = ENOENT;
		return -1;
	}
	for (p = e.location; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, " ");

		if (n > 0 && parse_location(p, n, group, number) == 0) {
			if (spool_open_article(spoolfd, *group, *number, out) == 0) {
				if (spool_article_holds(out, msgid)) {
					history_entry_free(&e);
					return 0;
				}
				close(out->fd);
			}
			free(*group);
		}
		p += n;
		p += strspn(p, " ");
	}
	history_entry_free(&e);
	errno = ENOENT;
	return -1;
}

/* Writer side. */

static int
empty_tmp(int dirfd)
{
	int fd = openat(dirfd, SPOOL_TMP, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			unlinkat(fd, de->d_name, 0);
	closedir(d);
	return 0;
}

struct spool *
spool_open(const char *spool_dir, const char *pathhost, int nonblocking)
{
	struct spool *s = xcalloc(1, sizeof(*s));
	int e;

	s->lockfd = -1;
	active_init(&s->active);
	s->pathhost = xstrdup(pathhost);
	s->dirfd = open(spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0)
		goto fail;
	mkdirat(s->dirfd, SPOOL_ARTICLES, 0755);
	mkdirat(s->dirfd, SPOOL_TMP, 0755);
	mkdirat(s->dirfd, OVERVIEW_DIR, 0755);
	s->lockfd = openat(s->dirfd, SPOOL_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->lockfd < 0 || flock(s->lockfd, LOCK_EX | (nonblocking ? LOCK_NB : 0)) < 0)
		goto fail;
	if (faccessat(s->dirfd, ACTIVE_FILE, F_OK, 0) < 0 &&
	    active_write_all(&s->active, s->dirfd) < 0)
		goto fail;
	if (active_refresh(&s->active, s->dirfd) < 0 || active_own(&s->active, s->dirfd) < 0)
		goto fail;
	s->history = history_open(s->dirfd, 1);
	if (s->history == NULL)
		goto fail;
	s->ov = overview_writer_open(s->dirfd);
	if (spool_recover(s) < 0)
		goto fail;
	return s;
fail:
	e = errno;
	spool_close(s);
	errno = e;
	return NULL;
}

static void
pending_free(struct pending *p)
{
	vector_free(&p->groups);
	free(p->numbers);
	buffer_free(&p->stored);
	free(p->xref);
	free(p->msgid);
}

void
spool_close(struct spool *s)
{
	if (s == NULL)
		return;
	overview_writer_close(s->ov);
	history_close(s->history);
	active_free(&s->active);
	/* Stored, never committed: their temp files go at the next start. */
	for (size_t i = 0; i < s->npend; i++)
		pending_free(&s->pend[i]);
	free(s->pend);
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->pathhost);
	free(s);
}

int
spool_dirfd(const struct spool *s)
{
	return s->dirfd;
}

struct active *
spool_active(struct spool *s)
{
	return &s->active;
}

struct history *
spool_history(struct spool *s)
{
	return s->history;
}

struct overview_writer *
spool_overview(struct spool *s)
{
	return s->ov;
}

/* Index one stored article file (text = its stored bytes) at its n places
 * (group:number each): an overview record in every group, history once
 * (unless add_history is 0, or the first group's record failed). Parsed
 * and its overview line built once for all the places. 0, or -1 when any
 * index write failed (each failure logged). */
static int
index_article(struct spool *s, char *const *groups, const uint64_t *numbers, size_t n,
              const struct buffer *text, time_t arrived, int add_history)
{
	struct article a;
	struct buffer why = BUFFER_INIT, line = BUFFER_INIT, v = BUFFER_INIT;
	struct overview_entry e = {0};
	int rc = 0, first = -1;

	if (article_parse(&a, buffer_head(text), text->len, &why) < 0) {
		log_msg(LOG_ERR, "spool: %s:%llu: %s", groups[0], (unsigned long long)numbers[0],
		        buffer_cstr(&why));
		buffer_free(&why);
		return -1;
	}
	e.arrived = (uint64_t)arrived;
	e.size = text->len;
	e.header_len = (uint32_t)(a.body_off - 2);
	overview_build_line(&a, text->len, &line);
	for (size_t i = 0; i < n; i++) {
		int one;

		e.number = numbers[i];
		one = overview_append(s->ov, groups[i], &e, buffer_head(&line), line.len);
		if (i == 0)
			first = one;
		if (one < 0) {
			log_msg(LOG_ERR,
			        "spool: indexing %s:%llu failed: %m (nntpctl rebuild repairs it)",
			        groups[i], (unsigned long long)numbers[i]);
			rc = -1;
		}
	}
	if (first == 0 && add_history && article_value(&a, "Message-ID", &v) == 0) {
		struct buffer loc = BUFFER_INIT;
		const char *x;

		/* Location: the Xref list minus its leading host. */
		if (article_value(&a, "Xref", &loc) == 0 && (x = strchr(buffer_cstr(&loc), ' ')))
			buffer_consume(&loc, (size_t)(x + 1 - buffer_head(&loc)));
		else {
			buffer_clear(&loc);
			buffer_printf(&loc, "%s:%llu", groups[0], (unsigned long long)numbers[0]);
		}
		if (history_add(s->history, buffer_cstr(&v), arrived, buffer_cstr(&loc)) < 0) {
			log_msg(LOG_ERR,
			        "spool: history of %s:%llu failed: %m (nntpctl rebuild "
			        "repairs it)",
			        groups[0], (unsigned long long)numbers[0]);
			rc = -1;
		}
		buffer_free(&loc);
	}
	article_free(&a);
	buffer_free(&why);
	buffer_free(&line);
	buffer_free(&v);
	return rc;
}

static void
undo_links(struct spool *s, const struct vector *groups, const uint64_t *numbers, size_t done)
{
	for (size_t i = 0; i < done; i++) {
		char *path = spool_article_path(groups->strings[i], numbers[i]);

		unlinkat(s->dirfd, path, 0);
		free(path);
	}
}

/* Step 1: the stored bytes in a new file under tmp/ (its name into tmp);
 * spool_commit makes the batch's files durable before any name in
 * articles/ points at them. */
static int
write_temp(struct spool *s, const struct buffer *stored, char *tmp, size_t size, time_t *arrived)
{
	struct stat st;
	int fd, n;

	if (s->pid == 0)
		s->pid = getpid();
	n = snprintf(tmp, size, SPOOL_TMP "/%ld.%lu", (long)s->pid, ++s->tmpseq);
	if (n < 0 || (size_t)n >= size)
		return -1;
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write_all(fd, buffer_head(stored), stored->len) < 0 || fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		unlinkat(s->dirfd, tmp, 0);
		errno = e;
		return -1;
	}
	close(fd);
	*arrived = st.st_mtim.tv_sec;
	return 0;
}

/* One name for the article at path: the temp file renamed there (first is
 * NULL) or a link to the first name; a missing group directory is made. */
static int
place_name(struct spool *s, const char *tmp, const char *first, const char *group, const char *path)
{
	int rc = -1;

	for (int attempt = 0; attempt < 2; attempt++) {
		rc = first == NULL ? renameat(s->dirfd, tmp, s->dirfd, path)
		                   : linkat(s->dirfd, first, s->dirfd, path, 0);
		if (rc == 0 || errno != ENOENT || attempt > 0)
			break;
		char *dir = group_dir(group);

		mkdirs(s->dirfd, dir);
		free(dir);
	}
	return rc;
}

/* Step 2: rename into the first group, link into the others. On failure
 * every name made so far goes, and the temp file with them. */
static int
link_into_groups(struct spool *s, const char *tmp, const struct vector *groups,
                 const uint64_t *numbers)
{
	char *first = NULL;

	for (size_t i = 0; i < groups->count; i++) {
		char *path = spool_article_path(groups->strings[i], numbers[i]);

		if (place_name(s, tmp, first, groups->strings[i], path) < 0) {
			int e = errno;

			log_msg(LOG_ERR, "spool: storing %s: %s", path, strerror(e));
			free(path);
			free(first);
			undo_links(s, groups, numbers, i);
			unlinkat(s->dirfd, tmp, 0);
			errno = e;
			return -1;
		}
		if (first == NULL)
			first = path;
		else
			free(path);
	}
	free(first);
	return 0;
}

/* Each group's next number, and the Xref value naming them all, appended
 * to xref. -1 (ENOENT) when a group is not in active. */
static int
take_numbers(struct spool *s, const struct vector *groups, uint64_t *numbers, struct buffer *xref)
{
	buffer_puts(xref, s->pathhost);
	for (size_t i = 0; i < groups->count; i++) {
		struct group *g = active_find(&s->active, groups->strings[i]);

		if (g == NULL) {
			errno = ENOENT;
			return -1;
		}
		numbers[i] = g->high + 1;
		buffer_printf(xref, " %s:%llu", g->name, (unsigned long long)numbers[i]);
	}
	return 0;
}

/* The file's bytes: the headers, our Xref, the body, dot-stuffed as they
 * are sent. */
static void
compose_stored(const char *headers, size_t hlen, const char *xref, size_t xlen, const char *body,
               size_t blen, struct buffer *stored)
{
	/* Each piece starts a line (a last header line without its CRLF
	 * gets one, the Xref line is ours and cannot start with a dot), so
	 * stuffing them one after the other is stuffing the whole, without
	 * copying it first. */
	buffer_reserve(stored, hlen + xlen + blen + blen / 32 + 64);
	article_dot_stuff(headers, hlen, stored);
	buffer_puts(stored, "Xref: ");
	buffer_append(stored, xref, xlen);
	buffer_puts(stored, "\r\n\r\n");
	article_dot_stuff(body, blen, stored);
}

/* Step 3: overview in every group, history once. */
static void
index_stored(struct spool *s, const struct vector *groups, const uint64_t *numbers,
             const struct buffer *stored, time_t arrived)
{
	index_article(s, groups->strings, numbers, groups->count, stored, arrived, 1);
}

/* Step 4, in memory at store time (the next article takes the next
 * number); active is written once per commit, after the names exist. */
static void
raise_marks(struct spool *s, const struct vector *groups, const uint64_t *numbers)
{
	for (size_t i = 0; i < groups->count; i++) {
		struct group *g = active_find(&s->active, groups->strings[i]);

		g->high = numbers[i];
		if (g->low > g->high)
			g->low = g->high;
	}
}

int
spool_store(struct spool *s, const char *headers, size_t hlen, const char *body, size_t blen,
            const struct vector *groups, const char *msgid, int relayed, struct buffer *xref)
{
	struct pending p = {.relayed = relayed};
	size_t xstart = xref->len;

	p.numbers = xcalloc(groups->count ? groups->count : 1, sizeof(*p.numbers));
	if (take_numbers(s, groups, p.numbers, xref) < 0) {
		xref->len = xstart;
		pending_free(&p);
		return -1;
	}
	compose_stored(headers, hlen, buffer_head(xref) + xstart, xref->len - xstart, body, blen,
	               &p.stored);
	if (write_temp(s, &p.stored, p.tmp, sizeof(p.tmp), &p.arrived) < 0) {
		int e = errno;

		xref->len = xstart;
		pending_free(&p);
		errno = e;
		return -1;
	}
	for (size_t i = 0; i < groups->count; i++)
		vector_add(&p.groups, groups->strings[i]);
	p.xref = xstrndup(buffer_head(xref) + xstart, xref->len - xstart);
	p.msgid = xstrdup(msgid);
	raise_marks(s, groups, p.numbers);
	if (s->npend == s->cappend) {
		s->cappend = s->cappend ? 2 * s->cappend : 16;
		s->pend = xrealloc(s->pend, s->cappend * sizeof(*s->pend));
	}
	s->pend[s->npend++] = p;
	return 0;
}

size_t
spool_pending(const struct spool *s)
{
	return s->npend;
}

int
spool_pending_has(const struct spool *s, const char *msgid)
{
	for (size_t i = 0; i < s->npend; i++)
		if (msgid_equal(s->pend[i].msgid, msgid))
			return 1;
	return 0;
}

void
spool_batch_begin(struct spool *s)
{
	s->batching = 1;
	s->failed = 0;
}

int
spool_batching(const struct spool *s)
{
	return s->batching;
}

/* The whole file system the spool is on, to disk: one call for the batch
 * (measured on /dev/vda, 32 articles: 4.4 ms for syncfs, 11.5 ms for an
 * fdatasync of each file). */
static int
sync_spool(struct spool *s)
{
	if (syncfs(s->dirfd) == 0)
		return 0;
	log_msg(LOG_ERR, "spool: syncfs: %m");
	return -1;
}

/* Steps 2 and 3 for one durable temp file; -1 when it could not be put
 * in place (it is gone then). */
static int
place_pending(struct spool *s, struct pending *p)
{
	if (link_into_groups(s, p->tmp, &p->groups, p->numbers) < 0)
		return -1;
	index_stored(s, &p->groups, p->numbers, &p->stored, p->arrived);
	p->placed = 1;
	return 0;
}

int
spool_commit(struct spool *s, spool_committed_fn *done, void *arg)
{
	int ok = 1;

	if (s->npend > 0) {
		/* The files' bytes first, then their names and indexes: a
		 * crash at any instant leaves a name only on a whole file. */
		if (sync_spool(s) < 0) {
			ok = 0;
			for (size_t i = 0; i < s->npend; i++)
				unlinkat(s->dirfd, s->pend[i].tmp, 0);
		} else {
			for (size_t i = 0; i < s->npend; i++)
				if (place_pending(s, &s->pend[i]) < 0)
					ok = 0;
		}
		/* A failed rewrite is repaired by recovery at the next start
		 * (the files above the mark roll forward). */
		if (active_write(&s->active, s->dirfd) < 0)
			log_msg(LOG_ERR, "spool: writing active: %m");
		for (size_t i = 0; done != NULL && i < s->npend; i++)
			if (s->pend[i].placed)
				done(arg, &s->pend[i].stored, s->pend[i].xref, s->pend[i].msgid,
				     s->pend[i].relayed);
		if (ok && sync_spool(s) < 0)
			ok = 0;
		for (size_t i = 0; i < s->npend; i++)
			pending_free(&s->pend[i]);
		s->npend = 0;
	}
	if (!ok)
		s->failed = 1;
	ok = !s->failed;
	/* Outside a batch each commit answers for itself. */
	if (!s->batching)
		s->failed = 0;
	return ok ? 0 : -1;
}

int
spool_batch_end(struct spool *s, spool_committed_fn *done, void *arg)
{
	int rc = spool_commit(s, done, arg);

	s->batching = 0;
	s->failed = 0;
	return rc;
}

/* The Xref value of a stored article; -1 when it has none. */
static int
stored_xref(const struct buffer *text, struct buffer *xref)
{
	struct buffer why = BUFFER_INIT;
	struct article a;
	int rc = -1;

	if (article_parse(&a, buffer_head(text), text->len, &why) == 0) {
		rc = article_value(&a, "Xref", xref) < 0 ? -1 : 0;
		article_free(&a);
	}
	buffer_free(&why);
	return rc;
}

/* Does an Xref value (host, then group:number places) name this place? */
static int
xref_names(const char *xref, const char *group, uint64_t number)
{
	const char *p = strchr(xref, ' ');
	int self = 0;

	for (p = p ? p + 1 : ""; *p != '\0';) {
		size_t n = strcspn(p, " ");
		char *g;
		uint64_t num;

		if (n > 0 && parse_location(p, n, &g, &num) == 0) {
			self |= strcmp(g, group) == 0 && num == number;
			free(g);
		}
		p += n;
		p += strspn(p, " ");
	}
	return self;
}

/* The place tok (group:number, n bytes) names, made whole: its link to
 * path, its indexes (history only with the first), its group's marks.
 * 0 when the place is malformed or its group is gone. */
static int
restore_place(struct spool *s, const char *path, const struct buffer *text, time_t arrived,
              const char *tok, size_t n, int first)
{
	char *g, *other;
	uint64_t num;
	struct group *gr;

	if (n == 0 || parse_location(tok, n, &g, &num) < 0)
		return 0;
	gr = active_find(&s->active, g);
	if (gr == NULL) {
		free(g);
		return 0;
	}
	other = spool_article_path(g, num);
	if (linkat(s->dirfd, path, s->dirfd, other, 0) < 0 && errno != EEXIST)
		log_msg(LOG_ERR, "spool: recovery: linking %s: %m", other);
	free(other);
	index_article(s, &g, &num, 1, text, arrived, first); /* a failure is logged */
	if (num > gr->high)
		gr->high = num;
	if (gr->low > gr->high)
		gr->low = gr->high;
	free(g);
	return 1;
}

/* Roll one whole article file above its group's mark forward (see top). */
static int
roll_forward(struct spool *s, const char *group, uint64_t number)
{
	char *path = spool_article_path(group, number);
	struct buffer text = BUFFER_INIT, xref = BUFFER_INIT;
	struct stat st;
	int fd = openat(s->dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = -1;
	const char *p;

	if (fd < 0 || fstat(fd, &st) < 0 || read_fd(fd, &text) < 0)
		goto out;
	if (stored_xref(&text, &xref) < 0 || !xref_names(buffer_cstr(&xref), group, number)) {
		log_msg(LOG_ERR, "spool: recovery: removing %s (no Xref naming it)", path);
		rc = unlinkat(s->dirfd, path, 0);
		goto out;
	}
	p = strchr(buffer_cstr(&xref), ' ') + 1;
	for (int first = 1; *p != '\0';) {
		size_t n = strcspn(p, " ");

		if (restore_place(s, path, &text, st.st_mtim.tv_sec, p, n, first))
			first = 0;
		p += n;
		p += strspn(p, " ");
	}
	log_msg(LOG_INFO, "spool: recovery: completed %s:%llu", group, (unsigned long long)number);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	buffer_free(&text);
	buffer_free(&xref);
	return rc;
}

/* The lowest number above g's high mark, at most SPOOL_RECOVER_GAP
 * above it, that names a file; 0 when none does. */
static uint64_t
next_above_mark(struct spool *s, const struct group *g)
{
	for (uint64_t n = g->high + 1; n <= g->high + SPOOL_RECOVER_GAP; n++) {
		char *path = spool_article_path(g->name, n);
		struct stat st;
		int present = fstatat(s->dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;

		free(path);
		if (present)
			return n;
	}
	return 0;
}

int
spool_recover(struct spool *s)
{
	int changed = 0;

	if (empty_tmp(s->dirfd) < 0)
		return -1;
	for (size_t i = 0; i < s->active.count; i++) {
		struct group *g = s->active.groups[i];
		uint64_t n;

		/* Each step removes the file (junk) or raises the mark to
		 * it (its Xref names this place): the scan moves on. */
		while ((n = next_above_mark(s, g)) != 0) {
			if (roll_forward(s, g->name, n) < 0)
				return -1;
			changed = 1;
		}
	}
	return changed ? active_write(&s->active, s->dirfd) : 0;
}

/* Group administration. */

/* Would name and an existing group share a path, one's article number
 * being the other's directory (alt.2600 vs article 2600 of alt)? */
static int
path_clash(const struct active *a, const char *name)
{
	for (size_t i = 0; i < a->count; i++) {
		const char *g = a->groups[i]->name, *longer = NULL;
		size_t n = 0;

		if (strncmp(g, name, strlen(name)) == 0 && g[strlen(name)] == '.')
			longer = g, n = strlen(name) + 1;
		else if (strncmp(name, g, strlen(g)) == 0 && name[strlen(g)] == '.')
			longer = name, n = strlen(g) + 1;
		if (longer != NULL && strspn(longer + n, "0123456789") == strcspn(longer + n, "."))
			return 1;
	}
	return 0;
}

static int
valid_description(const char *d)
{
	for (; *d != '\0'; d++)
		if ((unsigned char)*d < 32 || *d == 127)
			return 0;
	return 1;
}

/* The flag field of a new or changed group: valid, and an alias names an
 * existing group that is not itself an alias or a j group (the writer
 * follows one step). 0, or -1 with why. */
static int
check_group_flags(struct spool *s, const char *name, const char *flags, struct buffer *why)
{
	const struct group *t;

	if (active_check_flags(flags, why) < 0)
		return -1;
	if (flags[0] != '=')
		return 0;
	if (strcmp(flags + 1, name) == 0) {
		buffer_printf(why, "bad flag \"%s\": a group cannot be its own alias", flags);
		return -1;
	}
	t = active_find(&s->active, flags + 1);
	if (t == NULL || t->flag == '=' || t->flag == 'j') {
		buffer_printf(why, "bad flag \"%s\": %s %s", flags, flags + 1,
		              t == NULL ? "does not exist" : "is itself an alias or a j group");
		return -1;
	}
	return 0;
}

static int
add_group(struct spool *s, const char *name, const char *flags, const char *description,
          const char *creator, struct buffer *why)
{
	char *dir;

	if (active_find(&s->active, name) != NULL) {
		buffer_printf(why, "group %s already exists", name);
		return -1;
	}
	if (path_clash(&s->active, name)) {
		buffer_printf(why,
		              "group %s would share a directory with an article number of "
		              "another group",
		              name);
		return -1;
	}
	dir = group_dir(name);
	if (mkdirs(s->dirfd, dir) < 0) {
		buffer_printf(why, "mkdir %s: %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	free(dir);
	active_add(&s->active, name, flags, time(NULL), creator, description);
	return 0;
}

/* A j group needs junk, which INN keeps in every active (flag n: no
 * posting, the writer files there). 0, or -1 with why. */
static int
ensure_junk(struct spool *s, const char *flags, struct buffer *why)
{
	if (flags[0] != 'j' || active_find(&s->active, ACTIVE_JUNK) != NULL)
		return 0;
	return add_group(s, ACTIVE_JUNK, "n", "Articles for j groups", "nntpd", why);
}

int
spool_newgroup(struct spool *s, const char *name, const char *flags, const char *description,
               const char *creator, struct buffer *why)
{
	if (!article_valid_group_name(name)) {
		buffer_printf(why, "invalid group name \"%s\"", name);
		return -1;
	}
	if (check_group_flags(s, name, flags, why) < 0)
		return -1;
	if (description && !valid_description(description)) {
		buffer_puts(why, "description must not hold control characters");
		return -1;
	}
	if (active_find(&s->active, name) != NULL) {
		buffer_printf(why, "group %s already exists", name);
		return -1;
	}
	if (ensure_junk(s, flags, why) < 0 ||
	    add_group(s, name, flags, description, creator, why) < 0)
		return -1;
	if (active_write_all(&s->active, s->dirfd) < 0) {
		buffer_printf(why, "writing active: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Remove the numbered files of one group directory (subdirectories are
 * other groups and stay). */
static void
remove_articles(struct spool *s, const char *group)
{
	char *dir = group_dir(group);
	int fd = openat(s->dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	uint64_t n;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (number_parse(de->d_name, 1, UINT64_MAX, &n) == 0)
			unlinkat(fd, de->d_name, 0);
	closedir(d);
	/* Remove now-empty directories up to articles/. */
	for (char *slash; strchr(dir, '/') != NULL;) {
		if (unlinkat(s->dirfd, dir, AT_REMOVEDIR) < 0)
			break;
		slash = strrchr(dir, '/');
		*slash = '\0';
		if (strcmp(dir, SPOOL_ARTICLES) == 0)
			break;
	}
	free(dir);
}

int
spool_rmgroup(struct spool *s, const char *name, struct buffer *why)
{
	if (active_remove(&s->active, name) < 0) {
		buffer_printf(why, "no such group %s", name);
		return -1;
	}
	overview_remove(s->ov, name);
	remove_articles(s, name);
	if (active_write_all(&s->active, s->dirfd) < 0) {
		buffer_printf(why, "writing active: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
spool_changegroup(struct spool *s, const char *name, const char *flags, struct buffer *why)
{
	struct group *g = active_find(&s->active, name);

	if (g == NULL) {
		buffer_printf(why, "no such group %s", name);
		return -1;
	}
	if (check_group_flags(s, name, flags, why) < 0 || ensure_junk(s, flags, why) < 0)
		return -1;
	g = active_find(&s->active, name); /* junk may have moved it */
	free(g->flags);
	g->flags = xstrdup(flags);
	g->flag = flags[0];
	if (active_write_all(&s->active, s->dirfd) < 0) {
		buffer_printf(why, "writing active: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Article numbers present in a group's directory, ascending. */
static int
num_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t *
list_numbers(int spoolfd, const char *group, size_t *count)
{
	char *dir = group_dir(group);
	int fd = openat(spoolfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	uint64_t *v = NULL, n;
	size_t alloc = 0;

	free(dir);
	*count = 0;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (number_parse(de->d_name, 1, UINT64_MAX, &n) < 0 ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (*count == alloc) {
			alloc = alloc ? alloc * 2 : 256;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		v[(*count)++] = n;
	}
	closedir(d);
	if (*count > 0)
		qsort(v, *count, sizeof(*v), num_cmp);
	return v;
}

struct remembered {
	char **ids;
	time_t *times;
	size_t count, alloc;
};

static int
keep_remembered(void *arg, const char *msgid, time_t arrived, const char *location)
{
	struct remembered *r = arg;

	if (msgid == NULL || location != NULL)
		return 0;
	if (r->count == r->alloc) {
		r->alloc = r->alloc ? r->alloc * 2 : 64;
		r->ids = xrealloc(r->ids, r->alloc * sizeof(*r->ids));
		r->times = xrealloc(r->times, r->alloc * sizeof(*r->times));
	}
	r->ids[r->count] = xstrdup(msgid);
	r->times[r->count++] = arrived;
	return 0;
}

static int
rebuild_group(struct spool *s, struct group *g, struct buffer *why)
{
	size_t count;
	uint64_t *nums = list_numbers(s->dirfd, g->name, &count);
	struct buffer text = BUFFER_INIT;

	for (size_t i = 0; i < count; i++) {
		char *path = spool_article_path(g->name, nums[i]);
		int fd = openat(s->dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;

		if (fd < 0 || fstat(fd, &st) < 0 || read_fd(fd, &text) < 0 ||
		    index_article(s, &g->name, &nums[i], 1, &text, st.st_mtim.tv_sec, 1) < 0)
			buffer_printf(why, "%s: skipped (unreadable or not an article)\n", path);
		if (fd >= 0)
			close(fd);
		free(path);
	}
	if (count > 0) {
		if (nums[count - 1] > g->high)
			g->high = nums[count - 1];
		g->low = nums[0];
	} else {
		g->low = g->high + 1;
	}
	buffer_free(&text);
	free(nums);
	return 0;
}

int
spool_rebuild(struct spool *s, struct buffer *why)
{
	struct remembered r = {0};
	int rc = 0;

	history_walk(s->history, keep_remembered, &r);
	history_close(s->history);
	overview_writer_close(s->ov);
	history_remove(s->dirfd);
	s->ov = overview_writer_open(s->dirfd);
	for (size_t i = 0; i < s->active.count; i++)
		overview_remove(s->ov, s->active.groups[i]->name);
	s->history = history_open(s->dirfd, 1);
	if (s->history == NULL) {
		buffer_printf(why, "creating history: %s\n", strerror(errno));
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < s->active.count; i++)
		rc = rebuild_group(s, s->active.groups[i], why);
	for (size_t i = 0; i < r.count; i++) {
		if (rc == 0)
			history_add(s->history, r.ids[i], r.times[i], NULL);
		free(r.ids[i]);
	}
	free(r.ids);
	free(r.times);
	if (rc == 0 && active_write(&s->active, s->dirfd) < 0) {
		buffer_printf(why, "writing active: %s\n", strerror(errno));
		rc = -1;
	}
	return rc;
}

/* Checks, read-only. */

static long
check_article(int spoolfd, const char *group, uint64_t n, const struct overview_entry *e,
              struct buffer *report)
{
	struct spool_article art;
	char last[2];
	int64_t hl;
	long problems = 0;

	if (spool_open_article(spoolfd, group, n, &art) < 0) {
		buffer_printf(report, "%s:%llu: in overview but article missing or not whole\n",
		              group, (unsigned long long)n);
		return 1;
	}
	hl = spool_scan_header_len(art.fd);
	if (art.size < 2 || pread(art.fd, last, 2, (off_t)art.size - 2) != 2 ||
	    memcmp(last, "\r\n", 2) != 0) {
		buffer_printf(report, "%s:%llu: article does not end with CRLF\n", group,
		              (unsigned long long)n);
		problems++;
	}
	if (e != NULL && (e->size != art.size || hl < 0 || (uint64_t)hl != e->header_len)) {
		buffer_printf(report, "%s:%llu: overview size/header length disagree with file\n",
		              group, (unsigned long long)n);
		problems++;
	}
	close(art.fd);
	return problems;
}

static long
check_group(int spoolfd, const struct group *g, struct buffer *report)
{
	struct overview_range r;
	size_t count, j = 0;
	uint64_t *nums = list_numbers(spoolfd, g->name, &count);
	long problems = 0;
	uint64_t lo = 1;

	overview_range_init(&r);
	do {
		if (overview_read(spoolfd, g->name, lo, UINT64_MAX, &r) < 0) {
			buffer_printf(report, "%s: overview unreadable: %s\n", g->name,
			              strerror(errno));
			problems++;
			break;
		}
		for (size_t i = 0; i < r.count; i++) {
			uint64_t n = r.v[i].number;

			problems += check_article(spoolfd, g->name, n, &r.v[i], report);
			if (n > g->high) {
				buffer_printf(report, "%s:%llu: above the high mark %llu\n",
				              g->name, (unsigned long long)n,
				              (unsigned long long)g->high);
				problems++;
			}
		}
		lo = r.next;
	} while (lo != 0);
	for (size_t i = 0; i < count; i++) {
		struct overview_entry e;

		if (nums[i] > g->high || nums[i] < g->low) {
			buffer_printf(report, "%s:%llu: outside the marks %llu-%llu\n", g->name,
			              (unsigned long long)nums[i], (unsigned long long)g->low,
			              (unsigned long long)g->high);
			problems++;
		}
		if (overview_get(spoolfd, g->name, nums[i], &e) != 1) {
			buffer_printf(report, "%s:%llu: article has no overview record\n", g->name,
			              (unsigned long long)nums[i]);
			problems++;
		}
		j++;
	}
	if (g->low > g->high + 1) {
		buffer_printf(report, "%s: low mark %llu above high mark %llu + 1\n", g->name,
		              (unsigned long long)g->low, (unsigned long long)g->high);
		problems++;
	}
	overview_range_free(&r);
	free(nums);
	return problems;
}

struct history_check {
	int spoolfd;
	struct active *active;
	struct buffer *report;
	long problems;
};

static int
check_history_entry(void *arg, const char *msgid, time_t arrived, const char *location)
{
	struct history_check *c = arg;
	struct buffer v = BUFFER_INIT;

	(void)arrived;
	if (msgid == NULL) {
		buffer_puts(c->report, "history: slot with an unreadable line\n");
		c->problems++;
		return 0;
	}
	for (const char *p = location; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, " ");
		char *g;
		uint64_t num;
		struct spool_article art;

		if (parse_location(p, n, &g, &num) < 0) {
			buffer_printf(c->report, "history: %s: bad location\n", msgid);
			c->problems++;
		} else {
			if (active_find(c->active, g) == NULL) {
				/* removed group: the entry only remembers the ID */
			} else if (spool_open_article(c->spoolfd, g, num, &art) < 0) {
				buffer_printf(c->report, "history: %s: %s:%llu missing\n", msgid, g,
				              (unsigned long long)num);
				c->problems++;
			} else {
				/* A group removed and re-created reuses numbers: such an
				 * entry is stale but harmless (lookups verify the ID);
				 * rebuild drops it. */
				if (spool_article_header(&art, "Message-ID", &v) < 0 ||
				    !msgid_equal(buffer_cstr(&v), msgid))
					buffer_printf(c->report,
					              "note: history: %s: %s:%llu is stale\n",
					              msgid, g, (unsigned long long)num);
				close(art.fd);
			}
			free(g);
		}
		p += n;
		p += strspn(p, " ");
	}
	buffer_free(&v);
	return 0;
}

long
spool_check(int spoolfd, struct buffer *report)
{
	struct active a;
	struct history *h;
	struct history_check c = {spoolfd, NULL, report, 0};
	long bad;

	active_init(&a);
	if (active_refresh(&a, spoolfd) < 0) {
		buffer_printf(report, "active: %s\n", strerror(errno));
		return -1;
	}
	bad = active_check(spoolfd, report);
	if (bad > 0)
		c.problems += bad;
	for (size_t i = 0; i < a.count; i++)
		c.problems += check_group(spoolfd, a.groups[i], report);
	h = history_open(spoolfd, 0);
	if (h == NULL) {
		buffer_printf(report, "history: %s\n", strerror(errno));
		c.problems++;
	} else {
		c.active = &a;
		history_walk(h, check_history_entry, &c);
		history_close(h);
	}
	active_free(&a);
	return c.problems;
}

struct file_key {
	dev_t dev;
	ino_t ino;
	uint64_t size;
};

static int
key_cmp(const void *a, const void *b)
{
	const struct file_key *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

int
spool_stats(int spoolfd, struct buffer *out)
{
	struct active a;
	struct file_key *keys = NULL;
	size_t nkeys = 0, alloc = 0;
	uint64_t articles = 0, bytes = 0;

	active_init(&a);
	if (active_refresh(&a, spoolfd) < 0)
		return -1;
	for (size_t i = 0; i < a.count; i++) {
		size_t count;
		uint64_t *nums = list_numbers(spoolfd, a.groups[i]->name, &count);

		for (size_t j = 0; j < count; j++) {
			char *path = spool_article_path(a.groups[i]->name, nums[j]);
			struct stat st;

			if (fstatat(spoolfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0) {
				if (nkeys == alloc) {
					alloc = alloc ? alloc * 2 : 1024;
					keys = xrealloc(keys, alloc * sizeof(*keys));
				}
				keys[nkeys++] =
				    (struct file_key){st.st_dev, st.st_ino, (uint64_t)st.st_size};
			}
			free(path);
		}
		free(nums);
	}
	/* Crossposts are one file under several names: count inodes. */
	if (nkeys > 0)
		qsort(keys, nkeys, sizeof(*keys), key_cmp);
	for (size_t i = 0; i < nkeys; i++)
		if (i == 0 || key_cmp(&keys[i - 1], &keys[i]) != 0) {
			articles++;
			bytes += keys[i].size;
		}
	buffer_printf(out, "groups %zu\narticles %llu\nbytes %llu\nlinks %zu\n", a.count,
	              (unsigned long long)articles, (unsigned long long)bytes, nkeys);
	free(keys);
	active_free(&a);
	return 0;
}

int
spool_paused(int spoolfd, struct buffer *reason)
{
	int fd = openat(spoolfd, SPOOL_PAUSED, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int rc;

	buffer_clear(reason);
	if (fd < 0)
		return 0;
	rc = read_upto(fd, reason, SPOOL_MAX_PAUSE_REASON);
	close(fd);
	if (rc < 0)
		return 0;
	/* One line of text: whatever else is in the file goes no further. */
	for (size_t i = 0; i < reason->len; i++) {
		unsigned char c = (unsigned char)buffer_head(reason)[i];

		if (c == '\r' || c == '\n') {
			buffer_truncate(reason, i);
			break;
		}
		if (c < 32 || c == 127)
			buffer_head(reason)[i] = ' ';
	}
	if (reason->len == 0)
		buffer_puts(reason, "paused");
	buffer_cstr(reason);
	return 1;
}

int
spool_set_paused(int spoolfd, const char *reason)
{
	const char *tmp = SPOOL_PAUSED ".tmp";
	int fd, e;

	if (reason == NULL)
		return unlinkat(spoolfd, SPOOL_PAUSED, 0) < 0 && errno != ENOENT ? -1 : 0;
	fd = openat(spoolfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -1;
	if (write_all(fd, reason, strlen(reason)) < 0 || write_all(fd, "\n", 1) < 0) {
		e = errno;
		close(fd);
		unlinkat(spoolfd, tmp, 0);
		errno = e;
		return -1;
	}
	if (close(fd) < 0 || renameat(spoolfd, tmp, spoolfd, SPOOL_PAUSED) < 0) {
		e = errno;
		unlinkat(spoolfd, tmp, 0);
		errno = e;
		return -1;
	}
	return 0;
}

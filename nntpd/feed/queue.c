/* queue: the outgoing feed definitions (feed=) and their queues on disk:
 * appended by the writer, read by the feeders, reported by nntpctl. */
#include "nntpd/feed/feed.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/number.h"
#include "common/core/pace.h"
#include "common/core/wildmat.h"
#include "common/core/xmalloc.h"
#include "common/io/fileio.h"
#include "nntpd/store/article.h"
#include "nntpd/store/spool.h"

static int
valid_name(const char *n)
{
	if (n[0] == '\0' || n[0] == '.' || strlen(n) > 64)
		return 0;
	for (; *n != '\0'; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
		      (*n >= '0' && *n <= '9') || *n == '.' || *n == '-' || *n == '_'))
			return 0;
	return 1;
}

void
feed_def_free(struct feed_def *f)
{
	free(f->name);
	free(f->host);
	free(f->port);
	free(f->pattern);
	free(f->dists);
	free(f->user);
	free(f->pass);
	free(f->ca_file);
	memset(f, 0, sizeof(*f));
}

/* One option word of a feed= line into out; 0 or -1. */
static int
parse_option(const char *a, struct feed_def *out)
{
	const char *colon = strchr(a, ':');

	if (strcmp(a, "streaming") == 0)
		out->streaming = 1;
	else if (strcmp(a, "ihave") == 0)
		out->streaming = 0;
	else if (a[0] == '<')
		return number_parse(a + 1, 1, UINT64_MAX, &out->max_size);
	else if (strcmp(a, "tls") == 0)
		out->tls = 1;
	else if (strncmp(a, "tls-ca=", 7) == 0 && a[7] == '/' && out->ca_file == NULL) {
		/* Read before the feeder's chroot: an absolute path. */
		out->ca_file = xstrdup(a + 7);
		out->tls = 1;
	} else if (colon != NULL && colon != a && out->user == NULL) {
		out->user = xstrndup(a, (size_t)(colon - a));
		out->pass = xstrdup(colon + 1);
	} else
		return -1;
	return 0;
}

int
feed_parse(const char *text, struct feed_def *out)
{
	struct vector w = VECTOR_INIT;
	uint64_t port;
	const char *slash;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	vector_split_space(&w, text, 10);
	if (w.count < 4 || w.count > 9 || !valid_name(w.strings[0]) ||
	    number_parse(w.strings[2], 1, 65535, &port) < 0)
		goto out;
	out->name = xstrdup(w.strings[0]);
	out->host = xstrdup(w.strings[1]);
	out->port = xstrdup(w.strings[2]);
	/* newsfeeds(5): patterns, then /distributions (no group has a '/'). */
	slash = strchr(w.strings[3], '/');
	if (slash == w.strings[3] || (slash != NULL && slash[1] == '\0'))
		goto out;
	out->pattern =
	    slash ? xstrndup(w.strings[3], (size_t)(slash - w.strings[3])) : xstrdup(w.strings[3]);
	out->dists = slash ? xstrdup(slash + 1) : NULL;
	out->streaming = 1;
	for (size_t i = 4; i < w.count; i++)
		if (parse_option(w.strings[i], out) < 0)
			goto out;
	rc = 0;
out:
	if (rc < 0)
		feed_def_free(out);
	vector_free(&w);
	return rc;
}

const char *
feed_check_rule(const char *rule)
{
	struct feed_def f;

	if (feed_parse(rule, &f) < 0)
		return "expected NAME host port wildmat[/distributions] [streaming|ihave] "
		       "[user:password] [<max-bytes] [tls] [tls-ca=/path/ca.pem] "
		       "(NAME: letters, digits, . - _)";
	feed_def_free(&f);
	return NULL;
}

/* Writer side. */

/* newsfeeds(5) distributions: one of the article's is wanted when the
 * list names it, or when the list has a negation that does not name it. */
static int
dist_wanted(const char *dists, const char *dist)
{
	struct vector v = VECTOR_INIT;
	int bang = 0, match = 0, refused = 0;

	vector_split(&v, dists, ',');
	for (size_t i = 0; i < v.count; i++) {
		const char *d = v.strings[i];

		if (d[0] == '!') {
			bang = 1;
			refused |= strcmp(d + 1, dist) == 0;
		} else {
			match |= strcmp(d, dist) == 0;
		}
	}
	vector_free(&v);
	return !refused && (match || bang);
}

/* Whether an article whose Distribution is value (NULL: none) may go. */
static int
dists_wanted(const char *dists, const char *value)
{
	struct vector v = VECTOR_INIT;
	int want = 0;

	if (dists == NULL || value == NULL)
		return 1;
	vector_split(&v, value, ',');
	for (size_t i = 0; i < v.count && !want; i++) {
		const char *d = v.strings[i] + strspn(v.strings[i], " \t");
		char *t = xstrndup(d, strcspn(d, " \t"));

		want = t[0] != '\0' && dist_wanted(dists, t);
		free(t);
	}
	vector_free(&v);
	return want;
}

/* INN's newsfeeds semantics: never to a peer whose name is in Path;
 * over the groups of the Newsgroups header (not only those filed here),
 * the last pattern matching each group decides, '!' leaves that group
 * out, '@' keeps the whole article back; then Distribution and size. */
static int
wanted(const struct feed_def *f, const struct feed_article *a)
{
	size_t at;

	if (a->path != NULL && article_path_has(a->path, f->name))
		return 0;
	if (wildmat_poison_groups(a->newsgroups, f->pattern, &at) != WILDMAT_MATCH ||
	    !dists_wanted(f->dists, a->distribution))
		return 0;
	return f->max_size == 0 || a->size < f->max_size;
}

/* Append line to feed f's queue: one write with O_APPEND, so a line is
 * whole or absent. No sync of its own: the writer's batch commit syncs the
 * file system before it acknowledges the article. */
static void
append_line(int spoolfd, const struct feed_def *f, const struct buffer *line, const char *msgid)
{
	char *name = feed_path(f->name, "");
	int fd = openat(spoolfd, name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0 && errno == ENOENT && mkdirat(spoolfd, FEED_DIR, 0755) == 0)
		fd = openat(spoolfd, name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buffer_head(line), line->len) != (ssize_t)line->len)
		log_msg(LOG_ERR, "feed %s: cannot queue %s: %m", f->name, msgid);
	if (fd >= 0)
		close(fd);
	free(name);
}

void
feed_enqueue(int spoolfd, const struct vector *feeds, const char *xref, const struct article *art,
             int relayed, const char *msgid)
{
	const char *sp = strchr(xref, ' ');
	struct buffer line = BUFFER_INIT, path = BUFFER_INIT, dist = BUFFER_INIT;
	struct vector groups = VECTOR_INIT;
	struct feed_article a = {NULL, &groups, NULL, art->len};

	if (feeds == NULL || feeds->count == 0 || sp == NULL)
		return;
	sp++;
	buffer_append(&line, sp, strcspn(sp, " "));
	buffer_printf(&line, " %s\n", msgid);
	/* A post's Path before injection names no peer. */
	if (relayed && article_value(art, "Path", &path) == 0)
		a.path = buffer_cstr(&path);
	if (article_value(art, "Distribution", &dist) == 0)
		a.distribution = buffer_cstr(&dist);
	article_newsgroups(art, &groups);
	for (size_t i = 0; i < feeds->count; i++) {
		struct feed_def f;

		if (feed_parse(feeds->strings[i], &f) < 0)
			continue;
		if (wanted(&f, &a))
			append_line(spoolfd, &f, &line, msgid);
		feed_def_free(&f);
	}
	vector_free(&groups);
	buffer_free(&path);
	buffer_free(&dist);
	buffer_free(&line);
}

/* Backlog. */

char *
feed_path(const char *name, const char *suffix)
{
	size_t n = strlen(FEED_DIR) + strlen(name) + strlen(suffix) + 2;
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s%s", FEED_DIR, name, suffix);
	return p;
}

uint64_t
feed_read_done(int spoolfd, const char *name)
{
	char *p = feed_path(name, FEED_DONE_SUFFIX), buf[32];
	int fd = openat(spoolfd, p, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	uint64_t v = 0;

	if (fd >= 0)
		close(fd);
	free(p);
	if (n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (number_parse(buf, 0, UINT64_MAX, &v) < 0)
			v = 0;
	}
	return v;
}

int
feed_write_done(int spoolfd, const char *name, uint64_t off)
{
	char *p = feed_path(name, FEED_DONE_SUFFIX), *t = feed_path(name, ".done.tmp"), buf[32];
	int fd = openat(spoolfd, t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), rc = -1;
	int n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)off);

	if (fd >= 0 && write(fd, buf, (size_t)n) == n && fdatasync(fd) == 0 &&
	    renameat(spoolfd, t, spoolfd, p) == 0)
		rc = 0;
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		log_msg(LOG_ERR, "feed %s: cannot record progress: %m", name);
	free(p);
	free(t);
	return rc;
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The queue file's header line, when it has one, into q. */
static void
read_header(struct feed_queue *q)
{
	char buf[96], *nl;
	ssize_t n = pread(q->fd, buf, sizeof(buf) - 1, 0);
	size_t m = strlen(FEED_QUEUE_MAGIC);
	struct vector f = VECTOR_INIT;

	q->base = q->lines = q->hlen = 0;
	if (n <= (ssize_t)m || memcmp(buf, FEED_QUEUE_MAGIC, m) != 0)
		return;
	buf[n] = '\0';
	if ((nl = strchr(buf, '\n')) == NULL)
		return;
	*nl = '\0';
	vector_split_space(&f, buf + m, 3);
	if (f.count == 2 && number_parse(f.strings[0], 0, UINT64_MAX, &q->base) == 0 &&
	    number_parse(f.strings[1], 0, UINT64_MAX, &q->lines) == 0)
		q->hlen = (uint64_t)(nl - buf) + 1;
	else
		q->base = q->lines = 0;
	vector_free(&f);
}

int
feed_queue_open(int spoolfd, const char *name, struct feed_queue *q)
{
	char *p = feed_path(name, "");
	struct stat st;

	q->fd = openat(spoolfd, p, O_RDONLY | O_CLOEXEC);
	free(p);
	if (q->fd < 0)
		return -1;
	if (fstat(q->fd, &st) < 0) {
		feed_queue_close(q);
		return -1;
	}
	q->ino = st.st_ino;
	read_header(q);
	return 0;
}

void
feed_queue_close(struct feed_queue *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

uint64_t
feed_queue_end(const struct feed_queue *q)
{
	struct stat st;

	if (q->fd < 0 || fstat(q->fd, &st) < 0 || (uint64_t)st.st_size < q->hlen)
		return q->base;
	return q->base + (uint64_t)st.st_size - q->hlen;
}

ssize_t
feed_queue_read(const struct feed_queue *q, void *buf, size_t len, uint64_t off)
{
	if (off < q->base)
		off = q->base;
	return pread(q->fd, buf, len, (off_t)(off - q->base + q->hlen));
}

int
feed_queue_replaced(int spoolfd, const char *name, const struct feed_queue *q)
{
	char *p = feed_path(name, "");
	struct stat st;
	int moved = fstatat(spoolfd, p, &st, 0) == 0 && st.st_ino != q->ino;

	free(p);
	return moved;
}

/* Lines in [from, to) of the queue (to: UINT64_MAX for its end). */
static uint64_t
lines_between(const struct feed_queue *q, uint64_t from, uint64_t to)
{
	char buf[65536];
	uint64_t lines = 0;
	ssize_t n;

	for (uint64_t o = from < q->base ? q->base : from; o < to; o += (uint64_t)n) {
		size_t want = to - o < sizeof(buf) ? (size_t)(to - o) : sizeof(buf);

		if ((n = feed_queue_read(q, buf, want, o)) <= 0)
			break;
		for (ssize_t k = 0; k < n; k++)
			lines += buf[k] == '\n';
	}
	return lines;
}

uint64_t
feed_queue_lines(const struct feed_queue *q, uint64_t from)
{
	return lines_between(q, from, UINT64_MAX);
}

/* Compaction (expire, in the writer: the only appender, so no append
 * comes within a step). */

#define COMPACT_WORTH (64u << 10) /* answered bytes worth a rewrite */
#define COMPACT_CHUNK (1u << 20)  /* bytes copied between clock checks */

struct feed_compaction {
	int spoolfd;
	char *name, *tmp;
	struct feed_queue src;
	int dst;       /* -1 while counting */
	uint64_t from; /* the first offset kept (the answered offset) */
	uint64_t pos;  /* counted (dst -1) or copied up to */
	uint64_t sent; /* answered lines counted, the header's included */
};

static void
compact_free(struct feed_compaction *c, int failed)
{
	if (failed) {
		log_msg(LOG_ERR, "feed %s: compacting the queue: %m", c->name);
		unlinkat(c->spoolfd, c->tmp, 0);
	}
	feed_queue_close(&c->src);
	if (c->dst >= 0)
		close(c->dst);
	free(c->name);
	free(c->tmp);
	free(c);
}

struct feed_compaction *
feed_compact_begin(int spoolfd, const char *name)
{
	uint64_t done = feed_read_done(spoolfd, name), end;
	size_t n = strlen(FEED_DIR) + strlen(name) + 8;
	struct feed_compaction *c;
	struct feed_queue q;

	if (feed_queue_open(spoolfd, name, &q) < 0)
		return NULL;
	end = feed_queue_end(&q);
	if (done < q.base || done > end || done - q.base < COMPACT_WORTH ||
	    (done - q.base) * 2 < end - q.base) {
		feed_queue_close(&q);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->spoolfd = spoolfd;
	c->name = xstrdup(name);
	c->tmp = xmalloc(n);
	snprintf(c->tmp, n, "%s/.%s.new", FEED_DIR, name);
	c->src = q;
	c->dst = -1;
	c->from = done;
	c->pos = q.base;
	c->sent = q.lines;
	return c;
}

/* The answered lines counted: the new file, its header first. */
static int
compact_create(struct feed_compaction *c)
{
	struct buffer head = BUFFER_INIT;
	int rc;

	buffer_printf(&head, "%s%llu %llu\n", FEED_QUEUE_MAGIC, (unsigned long long)c->from,
	              (unsigned long long)c->sent);
	c->dst = openat(c->spoolfd, c->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	rc = c->dst < 0 || write_all(c->dst, buffer_head(&head), head.len) < 0 ? -1 : 0;
	buffer_free(&head);
	c->pos = c->from;
	return rc;
}

/* Everything copied: the new file synced, then renamed into place. */
static int
compact_switch(struct feed_compaction *c)
{
	char *p = feed_path(c->name, "");
	uint64_t before = feed_queue_end(&c->src) - c->src.base + c->src.hlen;
	struct stat st;
	int rc = fsync(c->dst) < 0 || fstat(c->dst, &st) < 0 ||
	                 renameat(c->spoolfd, c->tmp, c->spoolfd, p) < 0
	             ? -1
	             : 0;

	free(p);
	if (rc == 0) {
		(void)fsync_dir_at(c->spoolfd, FEED_DIR);
		log_msg(LOG_INFO, "feed %s: queue compacted from %llu to %llu bytes", c->name,
		        (unsigned long long)before, (unsigned long long)st.st_size);
	}
	return rc;
}

int
feed_compact_step(struct feed_compaction *c, double deadline)
{
	char *buf = xmalloc(COMPACT_CHUNK);
	int rc = 1;

	while (rc == 1) {
		uint64_t end = feed_queue_end(&c->src);
		ssize_t n;

		if (c->dst < 0 && c->pos < c->from) {
			uint64_t to = c->from - c->pos < COMPACT_CHUNK ? c->from : c->pos + COMPACT_CHUNK;

			c->sent += lines_between(&c->src, c->pos, to);
			c->pos = to;
		} else if (c->dst < 0) {
			rc = compact_create(c) < 0 ? -1 : 1;
		} else if (c->pos >= end) {
			rc = compact_switch(c) < 0 ? -1 : 0;
		} else {
			n = feed_queue_read(&c->src, buf,
			                    end - c->pos < COMPACT_CHUNK ? (size_t)(end - c->pos)
			                                                 : COMPACT_CHUNK,
			                    c->pos);
			if (n <= 0 || write_all(c->dst, buf, (size_t)n) < 0) {
				if (n == 0)
					errno = EIO;
				rc = -1;
				break;
			}
			c->pos += (uint64_t)n;
		}
		if (rc == 1 && mono_seconds() >= deadline)
			break;
	}
	free(buf);
	if (rc <= 0)
		compact_free(c, rc < 0);
	return rc;
}

int
feed_names(int spoolfd, struct vector *names)
{
	int dfd = openat(spoolfd, FEED_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	vector_clear(names);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while ((e = readdir(d)) != NULL)
		if (valid_name(e->d_name) && !has_suffix(e->d_name, FEED_DONE_SUFFIX) &&
		    !has_suffix(e->d_name, ".done.tmp"))
			vector_add(names, e->d_name);
	closedir(d);
	qsort(names->strings, names->count, sizeof(char *), cmp_str);
	return 0;
}

/* When the first unanswered article after from that is still in the spool
 * was stored (its file's mtime); 0 when none is (a bounded look). */
static time_t
oldest_unsent(int spoolfd, const struct feed_queue *q, uint64_t from)
{
	char buf[8192];
	ssize_t n = feed_queue_read(q, buf, sizeof(buf) - 1, from);
	char *line = buf, *nl;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		char *colon = memchr(line, ':', (size_t)(nl - line)), *path, *group;
		uint64_t number;
		struct stat st;
		int found;

		*nl = '\0';
		if (colon == NULL)
			continue;
		group = xstrndup(line, (size_t)(colon - line));
		colon[strcspn(colon, " ")] = '\0';
		found = number_parse(colon + 1, 1, UINT64_MAX, &number) == 0;
		path = found ? spool_article_path(group, number) : NULL;
		found = found && fstatat(spoolfd, path, &st, 0) == 0;
		free(group);
		free(path);
		if (found)
			return st.st_mtime;
	}
	return 0;
}

int
feed_queue_state(int spoolfd, const char *name, struct feed_queue_state *out)
{
	struct feed_queue q;

	memset(out, 0, sizeof(*out));
	out->done = feed_read_done(spoolfd, name);
	if (feed_queue_open(spoolfd, name, &q) < 0)
		return -1;
	out->bytes = feed_queue_end(&q);
	out->unsent = feed_queue_lines(&q, out->done);
	out->queued = q.lines + (out->done > q.base ? feed_queue_lines(&q, 0) : out->unsent);
	out->oldest = out->unsent > 0 ? oldest_unsent(spoolfd, &q, out->done) : 0;
	feed_queue_close(&q);
	return 0;
}

int
feed_backlog(int spoolfd, struct buffer *out)
{
	struct vector names = VECTOR_INIT;

	if (feed_names(spoolfd, &names) < 0)
		return -1;
	for (size_t i = 0; i < names.count; i++) {
		struct feed_queue_state q;

		feed_queue_state(spoolfd, names.strings[i], &q);
		buffer_printf(out, "%s backlog %llu sent-offset %llu queued-bytes %llu\n",
		              names.strings[i], (unsigned long long)q.unsent,
		              (unsigned long long)q.done, (unsigned long long)q.bytes);
	}
	vector_free(&names);
	return 0;
}

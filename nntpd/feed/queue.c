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
#include "common/core/wildmat.h"
#include "common/core/xmalloc.h"
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
	free(f->user);
	free(f->pass);
	memset(f, 0, sizeof(*f));
}

int
feed_parse(const char *text, struct feed_def *out)
{
	struct vector w = VECTOR_INIT;
	uint64_t port;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	vector_split_space(&w, text, 7);
	if (w.count < 4 || w.count > 6 || !valid_name(w.strings[0]) ||
	    number_parse(w.strings[2], 1, 65535, &port) < 0)
		goto out;
	out->name = xstrdup(w.strings[0]);
	out->host = xstrdup(w.strings[1]);
	out->port = xstrdup(w.strings[2]);
	out->pattern = xstrdup(w.strings[3]);
	out->streaming = 1;
	for (size_t i = 4; i < w.count; i++) {
		const char *a = w.strings[i], *colon = strchr(a, ':');

		if (strcmp(a, "streaming") == 0)
			out->streaming = 1;
		else if (strcmp(a, "ihave") == 0)
			out->streaming = 0;
		else if (colon != NULL && colon != a && out->user == NULL) {
			out->user = xstrndup(a, (size_t)(colon - a));
			out->pass = xstrdup(colon + 1);
		} else
			goto out;
	}
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
		return "expected NAME host port wildmat [streaming|ihave] [user:password] "
		       "(NAME: letters, digits, . - _)";
	feed_def_free(&f);
	return NULL;
}

/* Writer side. */

static int
wanted(const struct feed_def *f, const char *path, const struct vector *groups)
{
	/* Never back to a peer that has seen it (its name is in Path). */
	if (path != NULL && article_path_has(path, f->name))
		return 0;
	for (size_t i = 0; i < groups->count; i++)
		if (wildmat_match_list(groups->strings[i], f->pattern))
			return 1;
	return 0;
}

void
feed_enqueue(int spoolfd, const struct vector *feeds, const char *xref, const char *path,
             const struct vector *groups, const char *msgid)
{
	const char *sp = strchr(xref, ' ');
	size_t n;
	struct buffer line = BUFFER_INIT;

	if (feeds == NULL || feeds->count == 0 || sp == NULL)
		return;
	sp++;
	n = strcspn(sp, " ");
	buffer_append(&line, sp, n);
	buffer_printf(&line, " %s\n", msgid);
	for (size_t i = 0; i < feeds->count; i++) {
		struct feed_def f;
		char *name;
		int fd;

		if (feed_parse(feeds->strings[i], &f) < 0)
			continue;
		if (!wanted(&f, path, groups)) {
			feed_def_free(&f);
			continue;
		}
		name = xmalloc(strlen(FEED_DIR) + strlen(f.name) + 2);
		sprintf(name, "%s/%s", FEED_DIR, f.name);
		fd = openat(spoolfd, name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0 && errno == ENOENT && mkdirat(spoolfd, FEED_DIR, 0755) == 0)
			fd = openat(spoolfd, name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		/* One write with O_APPEND: a line is whole or absent. */
		if (fd < 0 || write(fd, buffer_head(&line), line.len) != (ssize_t)line.len ||
		    fdatasync(fd) < 0)
			log_msg(LOG_ERR, "feed %s: cannot queue %s: %m", f.name, msgid);
		if (fd >= 0)
			close(fd);
		free(name);
		feed_def_free(&f);
	}
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

uint64_t
feed_queue_lines(int fd, uint64_t from)
{
	char buf[65536];
	uint64_t lines = 0;
	ssize_t n;

	for (off_t o = (off_t)from; (n = pread(fd, buf, sizeof(buf), o)) > 0; o += n)
		for (ssize_t k = 0; k < n; k++)
			lines += buf[k] == '\n';
	return lines;
}

int
feed_backlog(int spoolfd, struct buffer *out)
{
	int dfd = openat(spoolfd, FEED_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct vector names = VECTOR_INIT;
	DIR *d;
	struct dirent *e;

	if (dfd < 0)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while ((e = readdir(d)) != NULL)
		if (valid_name(e->d_name) && !has_suffix(e->d_name, FEED_DONE_SUFFIX) &&
		    !has_suffix(e->d_name, ".done.tmp"))
			vector_add(&names, e->d_name);
	closedir(d);
	qsort(names.strings, names.count, sizeof(char *), cmp_str);
	for (size_t i = 0; i < names.count; i++) {
		char *p = feed_path(names.strings[i], "");
		uint64_t done = feed_read_done(spoolfd, names.strings[i]), lines = 0, size = 0;
		int fd = openat(spoolfd, p, O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			struct stat st;

			if (fstat(fd, &st) == 0)
				size = (uint64_t)st.st_size;
			lines = feed_queue_lines(fd, done);
			close(fd);
		}
		buffer_printf(out, "%s backlog %llu sent-offset %llu queued-bytes %llu\n",
		              names.strings[i], (unsigned long long)lines, (unsigned long long)done,
		              (unsigned long long)size);
		free(p);
	}
	vector_free(&names);
	return 0;
}

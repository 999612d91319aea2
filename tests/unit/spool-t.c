/* spool-t: storing, crossposts, overview ranges, history, rebuild, check,
 * crash recovery, and the writer process over its socket (parallel
 * numbering, kill -9, group commands, writer down). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "common/core/xmalloc.h"
#include "nntpd/store/active.h"
#include "nntpd/store/overview.h"
#include "nntpd/store/spool.h"
#include "nntpd/store/storeformat.h"
#include "nntpd/writer/writer.h"
#include "tap.h"

#define HOST "news.example"

static char *dir;
static struct buffer reply;
static long problems;

/* A report as one TAP-safe line. */
static const char *
oneline(struct buffer *b)
{
	char *s = buffer_cstr(b);

	for (char *p = s; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	return s;
}

static int
post(struct writer *w, const char *groups, const char *subject, const char *extra, const char *body)
{
	struct buffer t = BUFFER_INIT;
	int code;

	buffer_printf(&t, "From: u@example.com\r\nSubject: %s\r\nNewsgroups: %s\r\n%s\r\n%s",
	              subject, groups, extra, body);
	code = writer_process(w, SUBMIT_POST, NULL, NULL, buffer_head(&t), t.len, &reply);
	buffer_free(&t);
	return code;
}

static int
path_stat(const char *rel, struct stat *st)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	int rc = fstatat(fd, rel, st, AT_SYMLINK_NOFOLLOW);

	close(fd);
	return rc;
}

static char *
slurp(const char *rel, size_t *len)
{
	char *path = xasprintf("%s/%s", dir, rel);
	int fd = open(path, O_RDONLY);
	struct buffer b = BUFFER_INIT;
	ssize_t n;

	free(path);
	if (fd >= 0) {
		while ((n = read(fd, buffer_reserve(&b, 4096), 4096)) > 0)
			buffer_commit(&b, (size_t)n);
		close(fd);
	}
	*len = b.len;
	buffer_cstr(&b);
	return b.data ? b.data : xstrdup("");
}

static void
test_store(struct spool *s, struct writer *w)
{
	struct stat a, b;
	struct spool_article art;
	char *text;
	size_t len;

	ok(post(w, "a.one,a.two", "cross", "Organization: Example Org\r\n",
	        ".dot line\r\nbody\r\n") == 240,
	   "crosspost accepted");
	ok(path_stat("articles/a/one/1", &a) == 0 && path_stat("articles/a/two/1", &b) == 0 &&
	       a.st_ino == b.st_ino && a.st_nlink == 2,
	   "crosspost is one file, hard-linked into both groups");
	text = slurp("articles/a/one/1", &len);
	ok(strstr(text, "\r\nXref: " HOST " a.one:1 a.two:1\r\n") != NULL,
	   "one Xref names every group:number");
	ok(strstr(text, "\r\n\r\n..dot line\r\nbody\r\n") != NULL && len >= 2 &&
	       memcmp(text + len - 2, "\r\n", 2) == 0,
	   "stored dot-stuffed, CRLF, without the terminating dot");
	ok(spool_open_article(spool_dirfd(s), "a.two", 1, &art) == 0, "open article by number");
	ok(art.size == len && art.header_len < len &&
	       memcmp(text + art.header_len - 2, "\r\n\r\n", 4) == 0,
	   "size and header length: HEAD is [0,header_len), BODY follows the blank line");
	ok(spool_article_header(&art, "organization", &reply) == 0 &&
	       strcmp(buffer_cstr(&reply), "Example Org") == 0,
	   "header lookup from the article file (HDR on a non-overview field)");
	close(art.fd);
	free(text);
	ok(spool_open_article(spool_dirfd(s), "a.one", 99, &art) < 0 && errno == ENOENT,
	   "absent article: ENOENT");
	ok(spool_open_article(spool_dirfd(s), "..", 1, &art) < 0 &&
	       spool_open_article(spool_dirfd(s), "a/../a.one", 1, &art) < 0,
	   "group names that are not names never become paths");
}

static void
test_overview(struct spool *s, struct writer *w)
{
	struct overview_range r;
	char subj[32];
	int good = 1;

	for (int i = 2; i <= 6; i++) {
		snprintf(subj, sizeof(subj), "subject %d", i);
		good &= post(w, "a.one", subj, "", "line\r\n") == 240;
	}
	ok(good, "five more posts");
	overview_range_init(&r);
	ok(overview_read(spool_dirfd(s), "a.one", 2, 4, &r) == 0 && r.count == 3 &&
	       r.v[0].number == 2 && r.v[2].number == 4,
	   "OVER 2-4: three entries");
	ok(r.count == 3 && strncmp(overview_line(&r, 1), "subject 3\tu@example.com\t", 24) == 0,
	   "overview line: Subject, From first");
	ok(r.count == 3 && memmem(overview_line(&r, 1), r.v[1].len, "\tXref: " HOST " a.one:3", 22),
	   "overview line ends with the full Xref");
	ok(r.count == 3 && memchr(overview_line(&r, 1), '\r', r.v[1].len) == NULL,
	   "overview line without CRLF");
	ok(overview_read(spool_dirfd(s), "a.one", 1, UINT64_MAX, &r) == 0 && r.count == 6 &&
	       r.next == 0,
	   "OVER 1-: six entries, index exhausted");
	ok(overview_read(spool_dirfd(s), "a.one", 7, 100, &r) == 0 && r.count == 0,
	   "OVER beyond the high mark: empty");
	ok(overview_read(spool_dirfd(s), "no.such", 1, 100, &r) == 0 && r.count == 0,
	   "OVER of a group without overview: empty");
	overview_range_free(&r);
}

static void
test_lookup(struct spool *s, struct writer *w)
{
	struct history *h = history_open(spool_dirfd(s), 0);
	struct spool_article art;
	struct active a;
	char *g = NULL;
	uint64_t n = 0;

	ok(post(w, "a.two", "by id", "Message-ID: <by-id@example.com>\r\n", "x\r\n") == 240,
	   "post with own Message-ID");
	ok(h != NULL &&
	       spool_find_msgid(h, spool_dirfd(s), "<by-id@example.com>", &g, &n, &art) == 0 &&
	       strcmp(g, "a.two") == 0 && n == 2,
	   "Message-ID -> a.two:2 (read-only history)");
	if (g != NULL) {
		close(art.fd);
		free(g);
	}
	ok(h != NULL &&
	       spool_find_msgid(h, spool_dirfd(s), "<by-id@EXAMPLE.COM>", &g, &n, &art) == 0,
	   "domain part compares case-insensitively");
	if (g != NULL) {
		close(art.fd);
		free(g);
	}
	ok(h != NULL && history_lookup(h, "<unknown@example.com>", NULL) == 0,
	   "unknown ID: not found");
	{
		struct buffer why = BUFFER_INIT;

		/* Re-created group: number 1 now holds another article. */
		post(w, "a.three", "old", "Message-ID: <old@example.com>\r\n", "x\r\n");
		spool_rmgroup(s, "a.three", &why);
		spool_newgroup(s, "a.three", "y", "", "t", &why);
		post(w, "a.three", "new", "", "x\r\n");
		ok(spool_find_msgid(h, spool_dirfd(s), "<old@example.com>", &g, &n, &art) < 0,
		   "history entry of a removed group does not find the new article 1");
		buffer_free(&why);
	}
	history_close(h);
	active_init(&a);
	ok(active_refresh(&a, spool_dirfd(s)) == 1 && active_refresh(&a, spool_dirfd(s)) == 0,
	   "reader reloads active only when it changed");
	ok(active_find(&a, "a.one") && active_find(&a, "a.one")->high == 6 &&
	       strcmp(active_find(&a, "a.one")->description, "first group") == 0,
	   "reader sees marks and description");
	post(w, "a.one", "more", "", "x\r\n");
	ok(active_refresh(&a, spool_dirfd(s)) == 0 && active_lookup(&a, "a.one")->high == 7,
	   "reader sees the new high mark after a post without reloading active");
	post(w, "a.two", "more", "", "x\r\n");
	active_marks_all(&a);
	ok(active_refresh(&a, spool_dirfd(s)) == 0 && active_find(&a, "a.two")->high == 3 &&
	       active_find(&a, "a.one")->high == 7,
	   "one read brings every group's marks up to date");
	{
		struct buffer why = BUFFER_INIT;

		ok(spool_newgroup(s, "a.four", "y", "", "t", &why) == 0 &&
		       active_refresh(&a, spool_dirfd(s)) == 1 && active_lookup(&a, "a.four") &&
		       active_lookup(&a, "a.one")->high == 7,
		   "a new group replaces active: the reader reloads it");
		spool_rmgroup(s, "a.four", &why);
		buffer_free(&why);
	}
	active_free(&a);
}

static const char *const index_files[] = {"overview/a.one.idx",
                                          "overview/a.one.dat",
                                          "overview/a.two.idx",
                                          "overview/a.two.dat",
                                          "history",
                                          "history.dat",
                                          "active",
                                          NULL};

static void
test_rebuild(const char *d)
{
	struct buffer why = BUFFER_INIT, rep = BUFFER_INIT;
	struct spool *s = spool_open(d, HOST, 1);
	char *first[8];
	size_t flen[8], len;
	int same = 1;

	problems = spool_check(spool_dirfd(s), &rep);
	ok(problems == 0, "check: clean spool (%s)", oneline(&rep));
	history_add(spool_history(s), "<remembered@peer>", 1000, NULL);
	ok(spool_rebuild(s, &why) == 0, "rebuild");
	for (int i = 0; index_files[i]; i++)
		first[i] = slurp(index_files[i], &flen[i]);
	ok(spool_rebuild(s, &why) == 0, "rebuild again");
	for (int i = 0; index_files[i]; i++) {
		char *again = slurp(index_files[i], &len);

		if (len != flen[i] || memcmp(again, first[i], len) != 0) {
			same = 0;
			printf("# %s differs\n", index_files[i]);
		}
		free(again);
		free(first[i]);
	}
	ok(same, "second rebuild changes nothing");
	ok(history_lookup(spool_history(s), "<by-id@example.com>", NULL) == 1 &&
	       history_lookup(spool_history(s), "<remembered@peer>", NULL) == 1,
	   "history rebuilt, remembered IDs kept");
	buffer_clear(&rep);
	problems = spool_check(spool_dirfd(s), &rep);
	ok(problems == 0, "check after rebuild (%s)", oneline(&rep));
	unlinkat(spool_dirfd(s), "articles/a/one/5", 0);
	buffer_clear(&rep);
	problems = spool_check(spool_dirfd(s), &rep);
	ok(problems > 0 && strstr(buffer_cstr(&rep), "a.one:5"), "check reports a missing article");
	spool_rebuild(s, &why);
	buffer_clear(&rep);
	problems = spool_check(spool_dirfd(s), &rep);
	ok(problems == 0, "rebuild repairs it (%s)", oneline(&rep));
	spool_close(s);
	buffer_free(&why);
	buffer_free(&rep);
}

static void
write_rel(const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", dir, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		ok(0, "writing %s", rel);
	if (fd >= 0)
		close(fd);
	free(path);
}

static void
test_recovery(const char *d)
{
	struct spool *s;
	struct stat a, b;
	struct buffer rep = BUFFER_INIT;
	struct overview_entry e;
	struct active act;
	uint64_t one_high;

	/* State 1: a crash while writing the temp file. */
	write_rel("tmp/123.1", "Path: half-written");
	/* State 2: renamed into a.one, not yet linked into a.two, nothing
	 * indexed, active not raised. */
	active_init(&act);
	active_refresh(&act, open(d, O_RDONLY | O_DIRECTORY));
	one_high = active_find(&act, "a.one")->high;
	char *rel = xasprintf("articles/a/one/%llu", (unsigned long long)one_high + 1);
	char *text = xasprintf("Path: x\r\nFrom: u@example.com\r\nSubject: crash\r\n"
	                       "Newsgroups: a.one,a.two\r\nMessage-ID: <crash@example.com>\r\n"
	                       "Xref: " HOST " a.one:%llu a.two:%llu\r\n\r\nbody\r\n",
	                       (unsigned long long)one_high + 1,
	                       (unsigned long long)active_find(&act, "a.two")->high + 1);
	write_rel(rel, text);
	/* State 3: a number above the mark in a.two's neighbour with no Xref. */
	s = spool_open(d, HOST, 1);
	ok(s != NULL, "writer start runs recovery");
	ok(path_stat("tmp/123.1", &a) < 0, "tmp/ emptied");
	ok(active_find(spool_active(s), "a.one")->high == one_high + 1,
	   "a.one high mark raised to the recovered article");
	char *rel2 = xasprintf("articles/a/two/%llu",
	                       (unsigned long long)active_find(spool_active(s), "a.two")->high);
	ok(path_stat(rel, &a) == 0 && path_stat(rel2, &b) == 0 && a.st_ino == b.st_ino,
	   "missing crosspost link made");
	ok(history_lookup(spool_history(s), "<crash@example.com>", NULL) == 1, "history completed");
	ok(overview_get(spool_dirfd(s), "a.one", one_high + 1, &e) == 1, "overview completed");
	problems = spool_check(spool_dirfd(s), &rep);
	ok(problems == 0, "check after recovery (%s)", oneline(&rep));
	/* State 4: indexed but active not raised; state 5: junk above the mark. */
	active_find(spool_active(s), "a.one")->high = one_high;
	active_write(spool_active(s), spool_dirfd(s));
	spool_close(s);
	char *rel3 = xasprintf("articles/a/two/%llu",
	                       (unsigned long long)active_find(&act, "a.two")->high + 2);
	write_rel(rel3, "no headers at all\r\n");
	s = spool_open(d, HOST, 1);
	ok(s != NULL && active_find(spool_active(s), "a.one")->high == one_high + 1,
	   "indexed article above the mark: mark raised again");
	ok(path_stat(rel3, &a) < 0, "junk file above the mark removed");
	buffer_clear(&rep);
	problems = spool_check(spool_dirfd(s), &rep);
	ok(problems == 0, "check: no duplicate records (%s)", oneline(&rep));
	spool_close(s);
	active_free(&act);
	free(rel);
	free(rel2);
	free(rel3);
	free(text);
	buffer_free(&rep);
}

/* Whether d/name is a socket a process listens on (a connect succeeds). */
static int
listening(const char *d, const char *name)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), up;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", d, name);
	up = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	if (fd >= 0)
		close(fd);
	return up;
}

static pid_t
start_writer(const char *d)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct writer_conf wc = {HOST, 0, {0, 0, 0}};
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 2); /* accepted-article log lines */
		_exit(writer_main(d, &wc));
	}
	/* Wait until both sockets take connections: their files alone prove
	 * nothing after a kill -9, which leaves the old writer's behind. */
	for (int i = 0; i < 1000; i++) {
		if (listening(d, "ctl.sock") && listening(d, "writer.sock"))
			break;
		usleep(10000);
	}
	return pid;
}

static void
stop_writer(pid_t pid, int sig)
{
	int status;

	kill(pid, sig);
	waitpid(pid, &status, 0);
}

/* A client process: n posts to group; exits with the number accepted. */
static pid_t
poster(const char *d, const char *group, int n)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(d, O_RDONLY | O_DIRECTORY), accepted = 0;
		struct buffer t = BUFFER_INIT, r = BUFFER_INIT;

		for (int i = 0; i < n; i++) {
			int code = 0;

			buffer_clear(&t);
			buffer_printf(&t,
			              "From: p%d@example.com\r\nSubject: parallel %d\r\n"
			              "Newsgroups: %s\r\n\r\nbody %d\r\n",
			              (int)getpid(), i, group, i);
			for (int tries = 0; tries < 50; tries++) {
				code = writer_submit_from(fd, SUBMIT_POST, NULL, "127.0.0.1",
				                          buffer_head(&t), t.len, &r);
				if (code != 440 || i > 0)
					break;
				usleep(10000); /* the writer may still be starting */
			}
			if (code == 440 && i > 0)
				break; /* the writer went away */
			accepted += code == 240;
		}
		_exit(accepted >= 250 ? 250 : accepted);
	}
	return pid;
}

/* Raw bytes to writer.sock; returns the reply code, 0 when the writer
 * closed the connection. */
static int
raw_exchange(const char *d, const unsigned char *req, size_t len)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	unsigned char h[8];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), code = 0;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/writer.sock", d);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    send(fd, req, len, MSG_NOSIGNAL) == (ssize_t)len && recv(fd, h, 8, MSG_WAITALL) == 8)
		code = (int)store_get32(h + 4);
	close(fd);
	return code;
}

static void
test_bad_frames(const char *d)
{
	unsigned char req[64] = {0};
	unsigned char *big;
	size_t n = 8 + WRITER_DEFAULT_MAX_ARTICLE + 70000;
	struct buffer rep = BUFFER_INIT;
	int fd = open(d, O_RDONLY | O_DIRECTORY);

	store_put32(req, 12);
	store_put32(req + 4, 99); /* unknown kind */
	ok(raw_exchange(d, req, 16) == 0, "unknown request kind: connection dropped");
	store_put32(req, 12);
	store_put32(req + 4, SUBMIT_POST);
	store_put32(req + 8, 1000); /* msgid length beyond the frame */
	ok(raw_exchange(d, req, 16) == 0, "inconsistent lengths: connection dropped");
	store_put32(req + 4, SUBMIT_CONTROL);
	store_put32(req + 8, 0);
	ok(raw_exchange(d, req, 16) == 0, "group command on the session socket: dropped");
	big = xcalloc(1, n);
	store_put32(big, (uint32_t)(n - 4));
	store_put32(big + 4, SUBMIT_POST);
	ok(raw_exchange(d, big, n) == 441, "oversized request: skipped and refused with 441");
	free(big);
	const char *art = "From: u@example.com\r\nSubject: s\r\nNewsgroups: b.par\r\n\r\nx\r\n";

	ok(writer_submit(fd, SUBMIT_POST, NULL, art, strlen(art), &rep) == 240,
	   "writer still serves after bad clients (%s)", oneline(&rep));
	buffer_free(&rep);
	close(fd);
}

static void
test_writer_process(const char *d)
{
	pid_t w, p1, p2;
	int st1, st2, fd = open(d, O_RDONLY | O_DIRECTORY);
	struct timespec t0, t1;
	struct buffer rep = BUFFER_INIT;
	struct active a;
	double secs;

	ok(writer_submit(fd, SUBMIT_POST, NULL, "x", 1, &rep) == 440 &&
	       strstr(buffer_cstr(&rep), "try again later"),
	   "writer down: 440, nothing stored");
	ok(writer_submit(fd, SUBMIT_IHAVE, "<a@b>", "x", 1, &rep) == 436, "writer down: IHAVE 436");
	w = start_writer(d);
	ok(writer_control(fd, "newgroup b.par y parallel posts", &rep) == 200,
	   "newgroup through the running writer (%s)", oneline(&rep));
	ok(writer_control(fd, "newgroup b.par y", &rep) == 500 &&
	       strstr(buffer_cstr(&rep), "exists"),
	   "existing group refused");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	p1 = poster(d, "b.par", 1000);
	p2 = poster(d, "b.par", 1000);
	waitpid(p1, &st1, 0);
	waitpid(p2, &st2, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("# 2000 posts in %.2fs: %.0f/s\n", secs, 2000 / secs);
	ok(WIFEXITED(st1) && WIFEXITED(st2) && WEXITSTATUS(st1) == 250 && WEXITSTATUS(st2) == 250,
	   "both clients had every post accepted");
	active_init(&a);
	active_refresh(&a, fd);
	ok(active_find(&a, "b.par") && active_find(&a, "b.par")->high == 2000,
	   "2000 posts from 2 parallel clients: high mark 2000");
	{
		struct overview_range r;
		uint64_t seen = 0, lo = 1;

		overview_range_init(&r);
		do {
			overview_read(fd, "b.par", lo, UINT64_MAX, &r);
			seen += r.count;
			lo = r.next;
		} while (lo != 0);
		overview_range_free(&r);
		ok(seen == 2000, "2000 distinct numbers in overview (%llu)",
		   (unsigned long long)seen);
	}
	/* kill -9 in the middle of a stream of posts. */
	p1 = poster(d, "b.par", 100000);
	for (int i = 0; i < 1000; i++) {
		active_refresh(&a, fd);
		if (active_find(&a, "b.par")->high >= 2050)
			break;
		usleep(2000);
	}
	stop_writer(w, SIGKILL);
	waitpid(p1, &st1, 0);
	ok(WIFEXITED(st1), "client survives the writer's death");
	{
		struct spool *s = spool_open(d, HOST, 1);

		buffer_clear(&rep);
		problems = s != NULL ? spool_check(spool_dirfd(s), &rep) : -1;
		ok(problems == 0,
		   "after kill -9 and recovery every article is whole and indexed (%s)",
		   oneline(&rep));
		spool_close(s);
	}
	w = start_writer(d);
	test_bad_frames(d);
	ok(writer_control(fd, "rmgroup b.par", &rep) == 200, "rmgroup through the writer");
	stop_writer(w, SIGTERM);
	active_refresh(&a, fd);
	ok(active_find(&a, "b.par") == NULL, "group gone from active");
	active_free(&a);
	buffer_free(&rep);
	close(fd);
}

/* Group flags x, j and =alias: the checks on the flag field, where the
 * writer files posts and feeds, and nntpctl check naming a bad line. */
static void
test_flags(void)
{
	struct buffer why = BUFFER_INIT, rep = BUFFER_INIT;
	struct writer_conf wc = {HOST, 0, {0, 0, 0}};
	char *d = xasprintf("%s.flags", dir), *cmd;
	struct spool *s;
	struct writer *w;
	struct group *g;
	int fd;

	ok(active_check_flags("x", &why) == 0 && active_check_flags("j", &why) == 0 &&
	       active_check_flags("=a.b", &why) == 0 && why.len == 0,
	   "x, j and =a.b are valid flags");
	ok(active_check_flags("q", &why) < 0 && strstr(buffer_cstr(&why), "bad flag \"q\""),
	   "a bad flag is named: %s", buffer_cstr(&why));
	buffer_clear(&why);
	ok(active_check_flags("=../x", &why) < 0 && active_check_flags("yy", &why) < 0 &&
	       active_check_flags("=", &why) < 0,
	   "=../x, yy and a bare = refused");
	if (mkdir(d, 0755) < 0 || (s = spool_open(d, HOST, 1)) == NULL) {
		ok(0, "flags spool");
		free(d);
		return;
	}
	buffer_clear(&why);
	ok(spool_newgroup(s, "f.real", "y", "", "t", &why) == 0 &&
	       spool_newgroup(s, "f.feeds", "x", "", "t", &why) == 0 &&
	       spool_newgroup(s, "f.junked", "j", "", "t", &why) == 0 &&
	       spool_newgroup(s, "f.alias", "=f.real", "", "t", &why) == 0,
	   "x, j and =f.real groups created %s", buffer_cstr(&why));
	g = active_find(spool_active(s), "junk");
	ok(g != NULL && g->flag == 'n', "a j group made junk (flag n)");
	buffer_clear(&why);
	ok(spool_newgroup(s, "f.bad", "=f.none", "", "t", &why) < 0 &&
	       strstr(buffer_cstr(&why), "f.none does not exist"),
	   "an alias of a missing group refused: %s", buffer_cstr(&why));
	buffer_clear(&why);
	ok(spool_newgroup(s, "f.bad", "=f.alias", "", "t", &why) < 0 &&
	       spool_newgroup(s, "f.bad", "=f.bad", "", "t", &why) < 0 &&
	       spool_changegroup(s, "f.real", "z", &why) < 0,
	   "alias of an alias, self alias and flag z refused");
	w = writer_new(s, &wc);
	ok(post(w, "f.feeds", "x post", "", "x\r\n") == 441 &&
	       strstr(buffer_cstr(&reply), "Local postings to f.feeds are not allowed"),
	   "POST to an x group: 441 %s", buffer_cstr(&reply));
	ok(post(w, "f.junked", "j post", "Message-ID: <j@example.com>\r\n", "j\r\n") == 240 &&
	       active_find(spool_active(s), "junk")->high == 1 &&
	       active_find(spool_active(s), "f.junked")->high == 0,
	   "POST to a j group is filed in junk");
	ok(post(w, "f.alias,f.real", "a post", "Message-ID: <a@example.com>\r\n", "a\r\n") == 240 &&
	       active_find(spool_active(s), "f.real")->high == 1 &&
	       active_find(spool_active(s), "f.alias")->high == 0,
	   "POST to an alias (and its target) is filed once in the target");
	buffer_clear(&why);
	ok(spool_changegroup(s, "f.real", "n", &why) == 0 &&
	       post(w, "f.alias", "a2", "", "a\r\n") == 441,
	   "an alias follows its target's n: %s", buffer_cstr(&reply));
	writer_free(w);
	spool_close(s);
	fd = open(d, O_RDONLY | O_DIRECTORY);
	cmd = xasprintf("printf 'f.q 0000000000 0000000001 q\\n' >> %s/active", d);
	ok(system(cmd) == 0 && spool_check(fd, &rep) >= 1 &&
	       strstr(buffer_cstr(&rep), "active:6: bad flag \"q\"") != NULL,
	   "spool_check names a bad flag with its line: %s", oneline(&rep));
	free(cmd);
	close(fd);
	/* A writer started on that active keeps the bad line through its
	 * rewrites (a typo never loses a group's line). */
	s = spool_open(d, HOST, 1);
	buffer_clear(&why);
	ok(s != NULL && spool_newgroup(s, "f.later", "y", "", "t", &why) == 0,
	   "newgroup with a bad line in active %s", buffer_cstr(&why));
	spool_close(s);
	cmd = xasprintf("grep -qx 'f.q 0000000000 0000000001 q' %s/active && "
	                "grep -q '^f.later ' %s/active",
	                d, d);
	ok(system(cmd) == 0, "the bad line is written back as it was");
	free(cmd);
	cmd = xasprintf("rm -rf %s", d);
	if (system(cmd) != 0)
		ok(0, "cleanup");
	free(cmd);
	free(d);
	buffer_free(&why);
	buffer_free(&rep);
}

int
main(void)
{
	struct buffer why = BUFFER_INIT;
	struct writer_conf wc = {HOST, 0, {0, 0, 0}};
	struct spool *s;
	struct writer *w;
	char *cmd;

	/* TMPDIR=/dev/shm measures the writer without disk fsync cost. */
	dir = xasprintf("%s/spool-t.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	s = spool_open(dir, HOST, 1);
	ok(s != NULL, "spool created in %s", dir);
	if (s == NULL)
		return tap_done();
	ok(spool_open(dir, HOST, 1) == NULL && errno == EWOULDBLOCK,
	   "a second writer cannot take the lock");
	ok(spool_newgroup(s, "a.one", "y", "first group", "t", &why) == 0 &&
	       spool_newgroup(s, "a.two", "y", "", "t", &why) == 0 &&
	       spool_newgroup(s, "a.three", "y", "", "t", &why) == 0,
	   "groups created");
	ok(spool_newgroup(s, "a.one.2", "y", "", "t", &why) < 0,
	   "numeric component clashing with a.one refused");
	w = writer_new(s, &wc);
	test_store(s, w);
	test_overview(s, w);
	test_lookup(s, w);
	writer_free(w);
	spool_close(s);
	test_rebuild(dir);
	test_recovery(dir);
	test_writer_process(dir);
	test_flags();
	cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		ok(0, "cleanup");
	free(cmd);
	free(dir);
	buffer_free(&why);
	buffer_free(&reply);
	return tap_done();
}

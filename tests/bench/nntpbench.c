/* nntpbench: NNTP load generator behaving like nntplib or INN's tools (no
 * TCP_NODELAY, ordinary delayed ACKs; -Q: a quick-ACK client): session
 * rate, ARTICLE, OVER, POST, IHAVE and streaming ingest, idle readers;
 * and the fixture articles (gen: as spool files for nntpd; feed with
 * ihave -T fix for INN). With -G N the reading modes pick one of N groups
 * <group>.g00.. per request (the scale fixture genspool writes), and
 * group, msgid and newnews time GROUP, ARTICLE <message-id> and NEWNEWS.
 * mixed loads a server as a site is loaded: idle readers, posters, readers
 * and one streaming feed at once, each class timed on its own.
 * Prints one line of key=value results; a command the server does not know
 * (5xx) prints na=CODE and exits 0, so the harness can say "n/a". */
#include "benchlib.h"

#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>

static const char *host = "127.0.0.1";
static int port = 119;
static int feed_port;          /* -f: feeds connect here (INN's innd), 0: -p */
static int workers = 4;
static double seconds = 5;
static const char *group = "bench.test";
static long count = 20000;
static long window = 10000;
static size_t body_size = 2048;
static const char *tag = "run";
static int nodelay;
static int idle_n = 100;
static const char *outdir;
static const char *pathhost = "bench.example.org";
static int ngroups;            /* -G: groups <group>.g00.. (scale fixture) */
static long recent;            /* -R: articles of the fixture's last 2 hours */
static long span = 30 * 86400; /* -S: seconds the others spread over */
static long since;             /* -s: NEWNEWS since (Unix time) */
static int readers_n = 8;      /* -r: mixed: reading clients */
static const char *read_group = "bench.test"; /* -a: mixed: the group they read */
static volatile int na_code;

static void
na(int code)
{
	if (!na_code)
		na_code = code;
}

/* The text of article i (CRLF lines, no terminating dot; no line starts with
 * a dot). xref: also an Xref header, as a stored article has. */
static size_t
make_article_in(char *out, size_t outsz, const char *grp, long num, const char *id_tag, long i,
                int xref)
{
	static const char *date;
	static char datebuf[64];
	size_t n;

	if (date == NULL) {
		time_t t = time(NULL);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(datebuf, sizeof(datebuf), "%a, %d %b %Y %H:%M:%S +0000", &tm);
		date = datebuf;
	}
	n = (size_t)snprintf(out, outsz,
	                     "Path: %s!not-for-mail\r\n"
	                     "From: Bench <bench@example.org>\r\n"
	                     "Newsgroups: %s\r\n"
	                     "Subject: bench article %ld\r\n"
	                     "Date: %s\r\n"
	                     "Message-ID: <%s.%ld@bench.example.org>\r\n",
	                     pathhost, grp, i, date, id_tag, i);
	if (xref)
		n +=
		    (size_t)snprintf(out + n, outsz - n, "Xref: %s %s:%ld\r\n", pathhost, grp, num);
	n += (size_t)snprintf(out + n, outsz - n, "\r\n");
	for (size_t body = 0; body < body_size && n + 80 < outsz; body += 74) {
		n += (size_t)snprintf(out + n, outsz - n, "%06ld ", i);
		for (int k = 0; k < 64; k++)
			out[n++] = (char)('a' + (k + i) % 26);
		memcpy(out + n, "\r\n", 2);
		n += 2;
	}
	return n;
}

static size_t
make_article(char *out, size_t outsz, const char *id_tag, long i, int xref)
{
	return make_article_in(out, outsz, group, i, id_tag, i, xref);
}

/* Group k of the scale fixture. */
static void
scale_group(char *out, size_t sz, long k)
{
	snprintf(out, sz, "%s.g%02ld", group, k);
}

/* A reply line's code; sets na for 5xx of the command under test. */
static int
reply(struct conn *c, char *line, size_t sz)
{
	if (conn_line(c, line, sz) < 3)
		return -1;
	return atoi(line);
}

static int
cmd(struct conn *c, char *line, size_t sz, const char *fmt, const char *arg)
{
	char out[LINE_MAX_BYTES];
	int n = snprintf(out, sizeof(out), fmt, arg);

	memcpy(out + n, "\r\n", 3);
	if (conn_write(c, out, (size_t)n + 2) < 0)
		return -1;
	return reply(c, line, sz);
}

/* A reader connection: banner, MODE READER, GROUP grp (none if NULL). */
static int
reader_open(struct conn *c, const char *grp)
{
	char line[LINE_MAX_BYTES];
	int fd = tcp_connect(host, port, nodelay), code;

	conn_init(c, fd);
	if (fd < 0)
		return -1;
	code = reply(c, line, sizeof(line));
	if (code != 200 && code != 201)
		goto fail;
	code = cmd(c, line, sizeof(line), "MODE READER", NULL);
	if (code >= 500)
		na(code);
	if (code != 200 && code != 201)
		goto fail;
	if (grp != NULL) {
		code = cmd(c, line, sizeof(line), "GROUP %s", grp);
		if (code >= 500)
			na(code);
		if (code != 211)
			goto fail;
	}
	return 0;
fail:
	if (!na_code)
		fprintf(stderr, "nntpbench: %s\n", line);
	conn_close(c);
	return -1;
}

struct worker {
	pthread_t t;
	int id;
	const char *group; /* the group a reading worker selects */
	void (*fn)(struct worker *);
	long done, errors, lines;
	struct lat lat;
};

static void *
trampoline(void *arg)
{
	struct worker *w = arg;

	w->fn(w);
	return NULL;
}

/* Run n workers w[0..n-1] (fn and group set) until the deadline. */
static void
run_all(struct worker *w, int n)
{
	deadline = now_s() + seconds;
	for (int i = 0; i < n; i++) {
		w[i].id = i;
		pthread_create(&w[i].t, NULL, trampoline, &w[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(w[i].t, NULL);
}

/* The sums of workers w[0..n-1] into *into (latencies merged). */
static void
sum_workers(struct worker *into, const struct worker *w, int n)
{
	for (int i = 0; i < n; i++) {
		into->done += w[i].done;
		into->errors += w[i].errors;
		into->lines += w[i].lines;
		lat_merge(&into->lat, &w[i].lat);
	}
}

static int
run_workers(void (*fn)(struct worker *), const char *unit)
{
	struct worker *w = calloc((size_t)workers, sizeof(*w)), all = {0};
	double t0 = now_s();

	for (int i = 0; i < workers; i++)
		w[i].fn = fn, w[i].group = group;
	run_all(w, workers);
	sum_workers(&all, w, workers);
	double el = now_s() - t0;

	if (na_code) {
		printf("na=%d\n", na_code);
		return 0;
	}
	if (strcmp(unit, "lines") == 0)
		printf("rate=%.1f requests=%.1f p50=%.2f p99=%.2f errors=%ld\n", all.lines / el,
		       all.done / el, lat_q(&all.lat, 0.5), lat_q(&all.lat, 0.99), all.errors);
	else
		printf("rate=%.1f p50=%.2f p99=%.2f max=%.2f errors=%ld\n", all.done / el,
		       lat_q(&all.lat, 0.5), lat_q(&all.lat, 0.99), lat_q(&all.lat, 1.0), all.errors);
	return all.done > 0 ? 0 : 1;
}

/* Session: connect, CAPABILITIES, MODE READER, GROUP, QUIT. */
static void
sess_run(struct worker *w)
{
	char line[LINE_MAX_BYTES];

	while (running() && !na_code) {
		struct conn *c = malloc(sizeof(*c));
		double t0 = now_s();
		int fd = tcp_connect(host, port, nodelay), ok = 0, code;

		conn_init(c, fd);
		if (fd >= 0 && (code = reply(c, line, sizeof(line))) / 100 == 2) {
			code = cmd(c, line, sizeof(line), "CAPABILITIES", NULL);
			if (code == 101 && conn_skip_block(c) >= 0 &&
			    (code = cmd(c, line, sizeof(line), "MODE READER", NULL)) / 100 == 2 &&
			    (code = cmd(c, line, sizeof(line), "GROUP %s", group)) == 211 &&
			    (code = cmd(c, line, sizeof(line), "QUIT", NULL)) == 205)
				ok = 1;
			else if (code >= 500)
				na(code);
		}
		conn_close(c);
		free(c);
		if (ok) {
			w->done++;
			lat_add(&w->lat, now_s() - t0);
		} else {
			w->errors++;
			usleep(10000);
		}
	}
}

/* With -G: a random group of the fixture, a new one every 64 requests
 * (the GROUP is untimed and mostly out of the rate); its article count,
 * or -1. Without: count. */
static long
pick_group(struct conn *c, unsigned *seed, long *cur, long *left)
{
	char line[LINE_MAX_BYTES], g[256];
	long k;

	if (ngroups <= 0)
		return count;
	if (*left <= 0 || *cur < 0) {
		k = (long)(rand_r(seed) % (unsigned)ngroups);
		scale_group(g, sizeof(g), k);
		if (cmd(c, line, sizeof(line), "GROUP %s", g) != 211)
			return -1;
		*cur = k;
		*left = 64;
	}
	--*left;
	return count / ngroups;
}

/* ARTICLE of random numbers in 1..count over one reader connection. */
static void
article_run(struct worker *w)
{
	char line[LINE_MAX_BYTES], num[32];
	struct conn *c = malloc(sizeof(*c));
	unsigned seed = (unsigned)(w->id * 7919 + getpid());
	long cur = -1, left = 0;

	if (reader_open(c, ngroups == 0 ? w->group : NULL) < 0) {
		w->errors++;
		free(c);
		return;
	}
	while (running()) {
		long n = pick_group(c, &seed, &cur, &left);
		double t0 = now_s();

		if (n <= 0)
			break;
		snprintf(num, sizeof(num), "%ld", 1 + (long)(rand_r(&seed) % (unsigned)n));
		int code = cmd(c, line, sizeof(line), "ARTICLE %s", num);

		if (code == 220) {
			if (conn_skip_block(c) < 0)
				break;
			w->done++;
			lat_add(&w->lat, now_s() - t0);
		} else if (code >= 500 || code < 0) {
			if (code > 0)
				na(code);
			break;
		} else {
			w->errors++;
		}
	}
	conn_close(c);
	free(c);
}

/* OVER over random windows of `window` articles. */
static void
over_run(struct worker *w)
{
	char line[LINE_MAX_BYTES], range[64];
	struct conn *c = malloc(sizeof(*c));
	unsigned seed = (unsigned)(w->id * 104729 + getpid());
	long cur = -1, left = 0;

	if (reader_open(c, ngroups == 0 ? group : NULL) < 0) {
		w->errors++;
		free(c);
		return;
	}
	while (running()) {
		long have = pick_group(c, &seed, &cur, &left);
		long room = have - window + 1 > 0 ? have - window + 1 : 1;
		long lo = 1 + (long)(rand_r(&seed) % (unsigned)room);
		double t0 = now_s();

		if (have <= 0)
			break;
		snprintf(range, sizeof(range), "%ld-%ld", lo, lo + window - 1);
		int code = cmd(c, line, sizeof(line), "OVER %s", range);

		if (code == 224) {
			long n = conn_skip_block(c);

			if (n < 0)
				break;
			w->lines += n;
			w->done++;
			lat_add(&w->lat, now_s() - t0);
		} else {
			if (code >= 500)
				na(code);
			w->errors++;
			break;
		}
	}
	conn_close(c);
	free(c);
}

/* One timed command with a reply block per request (the scale rows):
 * GROUP of a random fixture group, ARTICLE of a random Message-ID, or
 * NEWNEWS <group>.* since -s. */
enum probe { PROBE_GROUP, PROBE_MSGID, PROBE_NEWNEWS };
static enum probe probe_kind;

static void
probe_run(struct worker *w)
{
	char line[LINE_MAX_BYTES], arg[512];
	struct conn *c = malloc(sizeof(*c));
	unsigned seed = (unsigned)(w->id * 15485863 + getpid());

	if (reader_open(c, NULL) < 0) {
		w->errors++;
		free(c);
		return;
	}
	while (running()) {
		const char *fmt = "GROUP %s";
		int want = 211, code;
		double t0;

		if (probe_kind == PROBE_GROUP) {
			scale_group(arg, sizeof(arg), (long)(rand_r(&seed) % (unsigned)ngroups));
		} else if (probe_kind == PROBE_MSGID) {
			snprintf(arg, sizeof(arg), "<%s.%ld@bench.example.org>", tag,
			         1 + (long)(rand_r(&seed) % (unsigned)count));
			fmt = "ARTICLE %s", want = 220;
		} else {
			struct tm tm;
			time_t t = (time_t)since;

			gmtime_r(&t, &tm);
			snprintf(arg, sizeof(arg), "%s.* %04d%02d%02d %02d%02d%02d GMT", group,
			         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			         tm.tm_min, tm.tm_sec);
			fmt = "NEWNEWS %s", want = 230;
		}
		t0 = now_s();
		code = cmd(c, line, sizeof(line), fmt, arg);
		if (code == want) {
			long n = probe_kind == PROBE_GROUP ? 0 : conn_skip_block(c);

			if (n < 0)
				break;
			w->lines += n;
			w->done++;
			lat_add(&w->lat, now_s() - t0);
		} else {
			if (code >= 500 || code < 0) {
				if (code > 0)
					na(code);
				break;
			}
			w->errors++;
		}
	}
	conn_close(c);
	free(c);
}

/* POST, IHAVE: one article per exchange; ids unique to this run. */
static volatile long next_id;

static long
take_id(void)
{
	return __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
}

static int
send_article(struct conn *c, char *buf, size_t cap, long i)
{
	size_t n = make_article(buf, cap, tag, i, 0);

	memcpy(buf + n, ".\r\n", 3);
	return conn_write(c, buf, n + 3);
}

static void
post_run(struct worker *w)
{
	char line[LINE_MAX_BYTES], *buf = malloc(body_size + 4096);
	struct conn *c = malloc(sizeof(*c));

	if (reader_open(c, NULL) < 0) {
		w->errors++;
		goto out;
	}
	while (running()) {
		double t0 = now_s();
		int code = cmd(c, line, sizeof(line), "POST", NULL);

		if (code != 340) {
			if (code >= 500)
				na(code);
			else
				fprintf(stderr, "nntpbench: POST -> %s\n",
				        code < 0 ? "connection lost" : line);
			break;
		}
		if (send_article(c, buf, body_size + 4096, take_id()) < 0)
			break;
		code = reply(c, line, sizeof(line));
		if (code == 240) {
			w->done++;
			lat_add(&w->lat, now_s() - t0);
		} else {
			if (w->errors++ == 0)
				fprintf(stderr, "nntpbench: POST article -> %s\n", line);
			if (code < 0)
				break;
		}
	}
	conn_close(c);
out:
	free(c);
	free(buf);
}

/* A feeding peer's connection: banner only (no MODE READER). */
static int
feed_open(struct conn *c)
{
	char line[LINE_MAX_BYTES];
	int fd = tcp_connect(host, feed_port ? feed_port : port, nodelay), code;

	conn_init(c, fd);
	if (fd < 0)
		return -1;
	code = reply(c, line, sizeof(line));
	if (code != 200 && code != 201) {
		fprintf(stderr, "nntpbench: feed banner: %s\n", line);
		conn_close(c);
		return -1;
	}
	return 0;
}

static long ihave_limit; /* fill: stop after this many ids (0: deadline) */

static void
ihave_run(struct worker *w)
{
	char line[LINE_MAX_BYTES], msgid[128], *buf = malloc(body_size + 4096);
	struct conn *c = malloc(sizeof(*c));

	if (feed_open(c) < 0) {
		w->errors++;
		goto out;
	}
	while (ihave_limit ? 1 : running()) {
		long i = take_id();

		if (ihave_limit && i > ihave_limit)
			break;
		double t0 = now_s();

		snprintf(msgid, sizeof(msgid), "<%s.%ld@bench.example.org>", tag, i);
		int code = cmd(c, line, sizeof(line), "IHAVE %s", msgid);

		if (code != 335) {
			if (code >= 500)
				na(code);
			else if (w->errors++ == 0)
				fprintf(stderr, "nntpbench: IHAVE -> %s\n",
				        code < 0 ? "connection lost" : line);
			if (code >= 500 || code < 0)
				break;
			continue;
		}
		if (send_article(c, buf, body_size + 4096, i) < 0)
			break;
		code = reply(c, line, sizeof(line));
		if (code == 235) {
			w->done++;
			lat_add(&w->lat, now_s() - t0);
		} else {
			if (w->errors++ == 0)
				fprintf(stderr, "nntpbench: IHAVE article -> %s\n", line);
			if (code < 0)
				break;
		}
	}
	cmd(c, line, sizeof(line), "QUIT", NULL);
	conn_close(c);
out:
	free(c);
	free(buf);
}

/* Streaming (RFC 4644) as innfeed does it once a peer takes nearly all it
 * is offered: TAKETHIS without CHECK, up to WINDOW unanswered, one write per
 * article; a second thread reads the replies, so data keeps flowing both ways
 * (no lockstep that would wait on delayed ACKs). */
#define WINDOW 32

struct stream_state {
	struct conn *c;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int outstanding, writer_done;
	struct worker *w;
	double sent_at[WINDOW]; /* ring of send times, replies come in order */
	unsigned head;
};

static void *
stream_reader(void *arg)
{
	struct stream_state *st = arg;
	char line[LINE_MAX_BYTES];

	for (;;) {
		pthread_mutex_lock(&st->mu);
		while (st->outstanding == 0 && !st->writer_done)
			pthread_cond_wait(&st->cv, &st->mu);
		int idle = st->outstanding == 0;

		pthread_mutex_unlock(&st->mu);
		if (idle)
			break;
		int code = reply(st->c, line, sizeof(line));

		pthread_mutex_lock(&st->mu);
		double t0 = st->sent_at[st->head++ % WINDOW];

		st->outstanding--;
		pthread_cond_broadcast(&st->cv);
		pthread_mutex_unlock(&st->mu);
		if (code == 239) {
			st->w->done++;
			lat_add(&st->w->lat, now_s() - t0);
		} else if (code < 0 || code >= 500) {
			if (code >= 500)
				na(code);
			else
				fprintf(stderr, "nntpbench: TAKETHIS: connection lost\n");
			pthread_mutex_lock(&st->mu);
			st->writer_done = 2; /* tell the writer to stop */
			st->outstanding = 0;
			pthread_cond_broadcast(&st->cv);
			pthread_mutex_unlock(&st->mu);
			break;
		} else if (st->w->errors++ == 0) {
			fprintf(stderr, "nntpbench: TAKETHIS -> %s\n", line);
		}
	}
	return NULL;
}

static void
stream_run(struct worker *w)
{
	char line[LINE_MAX_BYTES];
	size_t cap = body_size + 4096;
	char *buf = malloc(cap);
	struct conn *c = malloc(sizeof(*c));
	struct stream_state st = {.c = c, .w = w};
	pthread_t rt;
	unsigned tail = 0;

	if (feed_open(c) < 0) {
		w->errors++;
		goto out;
	}
	int code = cmd(c, line, sizeof(line), "MODE STREAM", NULL);

	if (code != 203) {
		if (code >= 500)
			na(code);
		else
			fprintf(stderr, "nntpbench: MODE STREAM -> %s\n",
			        code < 0 ? "connection lost" : line);
		goto close;
	}
	pthread_mutex_init(&st.mu, NULL);
	pthread_cond_init(&st.cv, NULL);
	pthread_create(&rt, NULL, stream_reader, &st);
	while (running()) {
		long id = take_id();
		size_t n =
		    (size_t)snprintf(buf, cap, "TAKETHIS <%s.%ld@bench.example.org>\r\n", tag, id);

		n += make_article(buf + n, cap - n - 3, tag, id, 0);
		memcpy(buf + n, ".\r\n", 3);
		n += 3;
		pthread_mutex_lock(&st.mu);
		while (st.outstanding >= WINDOW && st.writer_done != 2)
			pthread_cond_wait(&st.cv, &st.mu);
		int quit = st.writer_done == 2;

		if (!quit) {
			st.sent_at[tail++ % WINDOW] = now_s();
			st.outstanding++;
			pthread_cond_broadcast(&st.cv);
		}
		pthread_mutex_unlock(&st.mu);
		if (quit || conn_write(c, buf, n) < 0)
			break;
	}
	pthread_mutex_lock(&st.mu);
	if (st.writer_done == 0)
		st.writer_done = 1;
	pthread_cond_broadcast(&st.cv);
	pthread_mutex_unlock(&st.mu);
	pthread_join(rt, NULL);
close:
	conn_close(c);
out:
	free(c);
	free(buf);
}

/* Fixtures as nntpd spool files: <outdir>/<i>, stored form (CRLF, Xref). */
static int
mode_gen(void)
{
	char *buf = malloc(body_size + 4096), path[4096];

	for (long i = 1; i <= count; i++) {
		size_t n = make_article(buf, body_size + 4096, tag, i, 1);
		int fd;

		snprintf(path, sizeof(path), "%s/%ld", outdir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, buf, n) != (ssize_t)n)
			die("%s: %s", path, strerror(errno));
		close(fd);
	}
	free(buf);
	return 0;
}

/* The scale fixture as an nntpd spool under -d: article i (1..count) in
 * group (i - 1) % G as number (i - 1) / G + 1, mtime (the arrival time
 * nntpctl rebuild indexes) spread over -S seconds ending two hours ago,
 * but the last -R articles in those two hours, so "since an hour ago" is
 * a slice of the same size in any spool. <dir>/fixture.time gets the time
 * it was made, which the NEWNEWS row counts back from. */
/* The directory of group k's articles under outdir: '.' becomes '/'. */
static void
group_dir(char *out, size_t sz, long k)
{
	char g[256];
	int n;

	scale_group(g, sizeof(g), k);
	for (char *p = g; *p != '\0'; p++)
		if (*p == '.')
			*p = '/';
	n = snprintf(out, sz, "%s/articles/%s", outdir, g);
	if (n < 0 || (size_t)n >= sz)
		die("path too long");
}

static int
mode_genspool(void)
{
	char *buf = malloc(body_size + 4096), path[4200], g[256], dir[4096];
	time_t t0 = time(NULL), recent_start = t0 - 7200;
	long old = count - recent;
	FILE *f;

	for (long k = 0; k < ngroups; k++) {
		group_dir(dir, sizeof(dir), k);
		for (char *p = dir + strlen(outdir) + 1;; p++) {
			if (*p != '/' && *p != '\0')
				continue;
			char c = *p;

			*p = '\0';
			if (mkdir(dir, 0755) < 0 && errno != EEXIST)
				die("%s: %s", dir, strerror(errno));
			*p = c;
			if (c == '\0')
				break;
		}
	}
	for (long i = 1; i <= count; i++) {
		long k = (i - 1) % ngroups, num = (i - 1) / ngroups + 1;
		struct timespec ts[2];
		size_t n;
		int fd;

		scale_group(g, sizeof(g), k);
		group_dir(dir, sizeof(dir), k);
		n = make_article_in(buf, body_size + 4096, g, num, tag, i, 1);
		snprintf(path, sizeof(path), "%s/%ld", dir, num);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, buf, n) != (ssize_t)n)
			die("%s: %s", path, strerror(errno));
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		ts[0].tv_sec = ts[1].tv_sec =
		    i <= old
		        ? recent_start - span + (time_t)((double)span * (double)i / (double)old)
		        : recent_start + (time_t)(7200.0 * (double)(i - old) / (double)recent);
		if (futimens(fd, ts) < 0)
			die("%s: %s", path, strerror(errno));
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/fixture.time", outdir);
	if ((f = fopen(path, "w")) == NULL)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "%lld\n", (long long)t0);
	fclose(f);
	free(buf);
	return 0;
}

static int
mode_idle(void)
{
	struct conn *c = calloc((size_t)idle_n, sizeof(*c));
	char line[LINE_MAX_BYTES];

	for (int i = 0; i < idle_n; i++)
		if (reader_open(&c[i], group) < 0) {
			if (na_code) {
				printf("na=%d\n", na_code);
				return 0;
			}
			die("idle reader %d failed", i);
		}
	hold_until_stdin_closes();
	for (int i = 0; i < idle_n; i++) {
		cmd(&c[i], line, sizeof(line), "QUIT", NULL);
		conn_close(&c[i]);
	}
	return 0;
}

/* A site's load at once: -i idle readers (opened first, held), one
 * streaming feed, -w posters and -r readers of -a; the feed and the posts
 * go to -g. One line: the feed's rate and latencies, then post_ and read_
 * rate and latencies, each class measured on its own. */
static int
mode_mixed(void)
{
	struct conn *idle = calloc((size_t)idle_n, sizeof(*idle));
	int n = 1 + workers + readers_n;
	struct worker *w = calloc((size_t)n, sizeof(*w)), cls[3] = {{0}};
	char line[LINE_MAX_BYTES];
	int held = 0;

	for (; held < idle_n; held++)
		if (reader_open(&idle[held], read_group) < 0) {
			if (na_code) {
				printf("na=%d\n", na_code);
				return 0;
			}
			die("idle reader %d failed", held);
		}
	for (int i = 0; i < n; i++) {
		w[i].fn = i == 0 ? stream_run : i <= workers ? post_run : article_run;
		w[i].group = read_group;
	}
	double t0 = now_s();

	run_all(w, n);
	double el = now_s() - t0;

	sum_workers(&cls[0], w, 1);
	sum_workers(&cls[1], w + 1, workers);
	sum_workers(&cls[2], w + 1 + workers, readers_n);
	for (int i = 0; i < idle_n; i++) {
		cmd(&idle[i], line, sizeof(line), "QUIT", NULL);
		conn_close(&idle[i]);
	}
	if (na_code) {
		printf("na=%d\n", na_code);
		return 0;
	}
	printf("rate=%.1f p50=%.2f p99=%.2f max=%.2f post_rate=%.1f post_p99=%.2f post_max=%.2f "
	       "read_rate=%.1f read_p99=%.2f idle=%d errors=%ld\n",
	       cls[0].done / el, lat_q(&cls[0].lat, 0.5), lat_q(&cls[0].lat, 0.99),
	       lat_q(&cls[0].lat, 1.0), cls[1].done / el, lat_q(&cls[1].lat, 0.99),
	       lat_q(&cls[1].lat, 1.0), cls[2].done / el, lat_q(&cls[2].lat, 0.99), held,
	       cls[0].errors + cls[1].errors + cls[2].errors);
	return cls[0].done > 0 && cls[1].done > 0 ? 0 : 1;
}

static void
usage(void)
{
	fprintf(
	    stderr,
	    "usage: nntpbench [-h host] [-p port] [-f feed-port] [-w workers] [-t seconds] [-g group]\n"
	    "                 [-c count] [-W window] [-b body] [-T tag] [-N] [-Q] [-i n] [-d dir]\n"
	    "                 [-r readers] [-a group] mode\n"
	    "  sess     sessions/s: CAPABILITIES, MODE READER, GROUP, QUIT\n"
	    "  article  ARTICLE/s of random numbers 1..-c;  over: OVER lines/s, -W windows\n"
	    "  post     POST/s of -b byte bodies; ihave, stream: ingest/s (ids tagged -T)\n"
	    "  fill     IHAVE articles 1..-c tagged -T, in order (INN's fixture)\n"
	    "  gen      write articles 1..-c as spool files into -d (nntpd's fixture)\n"
	    "  idle     hold -i readers until stdin closes\n"
	    "  mixed    at once: -i idle readers, a TAKETHIS feed and -w posters into -g,\n"
	    "           -r readers of ARTICLE 1..-c in -a (feed, post_, read_ results)\n"
	    "  genspool the scale fixture: -c articles in -G groups <-g>.gNN as an nntpd\n"
	    "           spool under -d, spread over -S seconds but the last -R in 2 hours\n"
	    "  group, msgid, newnews: GROUP of a random one of -G groups, ARTICLE of a\n"
	    "           random Message-ID 1..-c (tag -T), NEWNEWS <-g>.* since -s\n"
	    "  -N sets TCP_NODELAY (news clients do not)\n"
	    "  -Q re-arms TCP_QUICKACK after each read (no delayed ACKs from the client)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "h:p:f:w:t:g:c:W:b:T:NQi:d:P:G:R:S:s:r:a:")) != -1) {
		switch (ch) {
		case 'h':
			host = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'f':
			feed_port = atoi(optarg);
			break;
		case 'w':
			workers = atoi(optarg);
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'g':
			group = optarg;
			break;
		case 'c':
			count = atol(optarg);
			break;
		case 'W':
			window = atol(optarg);
			break;
		case 'b':
			body_size = (size_t)atol(optarg);
			break;
		case 'T':
			tag = optarg;
			break;
		case 'N':
			nodelay = 1;
			break;
		case 'Q':
			bench_quickack = 1;
			break;
		case 'i':
			idle_n = atoi(optarg);
			break;
		case 'd':
			outdir = optarg;
			break;
		case 'P':
			pathhost = optarg;
			break;
		case 'G':
			ngroups = atoi(optarg);
			break;
		case 'R':
			recent = atol(optarg);
			break;
		case 'S':
			span = atol(optarg);
			break;
		case 's':
			since = atol(optarg);
			break;
		case 'r':
			readers_n = atoi(optarg);
			break;
		case 'a':
			read_group = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc || workers < 1 || count < 1)
		usage();
	signal(SIGPIPE, SIG_IGN);
	const char *mode = argv[optind];

	if (strcmp(mode, "sess") == 0)
		return run_workers(sess_run, "sessions");
	if (strcmp(mode, "article") == 0)
		return run_workers(article_run, "articles");
	if (strcmp(mode, "over") == 0)
		return run_workers(over_run, "lines");
	if (strcmp(mode, "post") == 0)
		return run_workers(post_run, "posts");
	if (strcmp(mode, "ihave") == 0)
		return run_workers(ihave_run, "articles");
	if (strcmp(mode, "stream") == 0)
		return run_workers(stream_run, "articles");
	if (strcmp(mode, "fill") == 0) {
		ihave_limit = count;
		workers = 1;
		return run_workers(ihave_run, "articles");
	}
	if (strcmp(mode, "gen") == 0 && outdir != NULL)
		return mode_gen();
	if (strcmp(mode, "idle") == 0)
		return mode_idle();
	if (strcmp(mode, "mixed") == 0)
		return mode_mixed();
	if (strcmp(mode, "genspool") == 0 && outdir != NULL && ngroups > 0 && recent > 0 &&
	    recent < count)
		return mode_genspool();
	if (ngroups > 0 || strcmp(mode, "msgid") == 0 || strcmp(mode, "newnews") == 0) {
		probe_kind = strcmp(mode, "group") == 0   ? PROBE_GROUP
		             : strcmp(mode, "msgid") == 0 ? PROBE_MSGID
		                                          : PROBE_NEWNEWS;
		if (strcmp(mode, "group") == 0 || strcmp(mode, "msgid") == 0 ||
		    strcmp(mode, "newnews") == 0)
			return run_workers(probe_run, "requests");
	}
	usage();
}

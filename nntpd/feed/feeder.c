/* feeder: the process that sends one feed's queue to its peer with
 * CHECK/TAKETHIS or IHAVE, and records how far the peer has answered.
 * Runs as the news user, one per feed=. */
#include "nntpd/feed/feed.h"

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
#include "common/core/metrics.h"
#include "common/core/number.h"
#include "common/core/xmalloc.h"
#include "nntpd/metrics.h"
#include "nntpd/store/article.h"
#include "nntpd/store/spool.h"

#define BATCH_LINES 200     /* queue lines per CHECK/TAKETHIS round */
#define BATCH_BYTES 65536   /* queue bytes read per round */
#define PEER_TIMEOUT 120000 /* ms without a reply before the peer is dropped */
#define IDLE_POLL_MS 200    /* how often an empty queue is looked at */
#define BACKOFF_MAX 15      /* seconds between attempts while the peer is down */
#define REPLY_MAX 4096
#define TLS_HANDSHAKE_MS 30000 /* the STARTTLS handshake with the peer */

/* The feeder. */

struct peer {
	int fd;
	struct buffer in;
	const struct feed_def *f;
	SSL_CTX *tls; /* a tls feed's client context (NULL: in clear) */
	SSL *ssl;     /* set once STARTTLS is through, until the close */
};

struct item {
	uint64_t end; /* queue offset just past this line */
	char *group;  /* where the article is filed */
	uint64_t number;
	char *msgid;
	int state; /* 0 to send, 1 answered (or gone), 2 try later */
};

static volatile sig_atomic_t feeder_stop;

static void
on_term(int sig)
{
	(void)sig;
	feeder_stop = 1;
}

static int
peer_write(struct peer *p, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = p->ssl != NULL ? tls_write(p->ssl, data, len) : write(p->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One reply line (without CRLF) into line; its code, or -1 when the peer
 * went away, timed out or sent something that is not a reply. */
static int
peer_reply(struct peer *p, struct buffer *line)
{
	for (;;) {
		const char *h = buffer_head(&p->in);
		const char *nl = p->in.len ? memchr(h, '\n', p->in.len) : NULL;

		if (nl != NULL) {
			size_t n = (size_t)(nl - h);

			buffer_clear(line);
			buffer_append(line, h, n > 0 && h[n - 1] == '\r' ? n - 1 : n);
			buffer_consume(&p->in, n + 1);
			h = buffer_cstr(line);
			if (line->len < 3 || h[0] < '1' || h[0] > '5' || h[1] < '0' || h[1] > '9' ||
			    h[2] < '0' || h[2] > '9')
				return -1;
			return (h[0] - '0') * 100 + (h[1] - '0') * 10 + (h[2] - '0');
		}
		if (p->in.len > REPLY_MAX)
			return -1;
		struct pollfd pfd = {p->fd, POLLIN, 0};
		ssize_t n;

		if (p->ssl != NULL)
			n = tls_read_within(p->ssl, buffer_reserve(&p->in, 4096), 4096,
			                    PEER_TIMEOUT);
		else if (poll(&pfd, 1, PEER_TIMEOUT) <= 0)
			return -1;
		else
			n = read(p->fd, buffer_reserve(&p->in, 4096), 4096);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buffer_commit(&p->in, (size_t)n);
	}
}

static int
peer_command(struct peer *p, struct buffer *line, const char *fmt, const char *arg)
{
	struct buffer cmd = BUFFER_INIT;
	int rc;

	buffer_printf(&cmd, fmt, arg);
	buffer_puts(&cmd, "\r\n");
	rc = peer_write(p, buffer_head(&cmd), cmd.len);
	buffer_free(&cmd);
	return rc < 0 ? -1 : peer_reply(p, line);
}

/* Close the connection without a word (TLS: with close_notify). */
static void
peer_drop(struct peer *p)
{
	tls_close(p->ssl);
	p->ssl = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/* A tls feed that could not get TLS: say why, count it, send nothing. */
static void
tls_refused(struct peer *p, const char *why, const char *detail)
{
	log_msg(LOG_NOTICE,
	        "feed %s: %s port %s: %s: %s; nothing sent in clear, articles stay queued",
	        p->f->name, p->f->host, p->f->port, why, detail);
	metrics_report_peer(M_NNTP_FEED_TLS_REFUSED, p->f->index, METRIC_ADD, 1);
}

/* RFC 4642: STARTTLS, 382, then the handshake, the certificate verified
 * against the CA file and the feed's host. 0 or -1 (refused: logged). */
static int
peer_starttls(struct peer *p, struct buffer *line)
{
	struct buffer err = BUFFER_INIT;
	int code = peer_command(p, line, "%s", "STARTTLS");

	if (code != 382) {
		tls_refused(p, "STARTTLS refused", code < 0 ? "no reply" : buffer_cstr(line));
		return -1;
	}
	/* SECURITY: whatever came after the 382 in clear is not the TLS
	 * peer's (a STARTTLS injection); it is dropped, never read as a reply. */
	buffer_clear(&p->in);
	p->ssl = tls_connect(p->tls, p->fd, p->f->host, TLS_HANDSHAKE_MS, &err);
	if (p->ssl == NULL) {
		tls_refused(p, "TLS failed", buffer_cstr(&err));
		buffer_free(&err);
		return -1;
	}
	buffer_free(&err);
	/* Non-blocking from now on, so PEER_TIMEOUT bounds every read,
	 * a record cut short included (tls_read_within). */
	return fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
}

/* Connect, read the greeting, STARTTLS for a tls feed, log in, ask for
 * streaming. 0 (streaming), 1 (IHAVE) or -1. */
static int
peer_open(struct peer *p, const struct sockaddr_storage *addr, socklen_t alen)
{
	struct buffer line = BUFFER_INIT;
	int code;

	p->fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || connect(p->fd, (const struct sockaddr *)addr, alen) < 0)
		goto fail;
	buffer_clear(&p->in);
	code = peer_reply(p, &line);
	if (code != 200 && code != 201) {
		log_msg(LOG_NOTICE, "feed %s: greeting: %s", p->f->name, buffer_cstr(&line));
		goto fail;
	}
	/* SECURITY: a tls feed sends no command but STARTTLS until its
	 * handshake and verification are through. */
	if (p->tls != NULL && peer_starttls(p, &line) < 0)
		goto fail;
	if (p->f->user != NULL) {
		if (peer_command(p, &line, "AUTHINFO USER %s", p->f->user) == 381)
			code = peer_command(p, &line, "AUTHINFO PASS %s", p->f->pass);
		else
			code = -1;
		if (code != 281) {
			log_msg(LOG_NOTICE, "feed %s: login refused: %s", p->f->name,
			        buffer_cstr(&line));
			goto fail;
		}
	}
	if (p->f->streaming) {
		code = peer_command(p, &line, "%s", "MODE STREAM");
		if (code < 0)
			goto fail;
		if (code != 203) {
			log_msg(LOG_NOTICE, "feed %s: no streaming (%s); using IHAVE", p->f->name,
			        buffer_cstr(&line));
			buffer_free(&line);
			return 1;
		}
	}
	buffer_free(&line);
	return p->f->streaming ? 0 : 1;
fail:
	peer_drop(p);
	buffer_free(&line);
	return -1;
}

static void
peer_close(struct peer *p)
{
	if (p->fd >= 0)
		(void)peer_write(p, "QUIT\r\n", 6);
	peer_drop(p);
}

/* The queue lines after done, at most BATCH_LINES; whole lines only. */
static size_t
load_batch(const struct feed_queue *q, uint64_t done, struct item *items)
{
	char *buf = xmalloc(BATCH_BYTES);
	ssize_t n = feed_queue_read(q, buf, BATCH_BYTES, done);
	size_t count = 0, pos = 0;

	while (n > 0 && count < BATCH_LINES) {
		char *nl = memchr(buf + pos, '\n', (size_t)n - pos), *sp, *colon;
		struct item *it = &items[count];

		if (nl == NULL)
			break;
		*nl = '\0';
		memset(it, 0, sizeof(*it));
		it->end = done + (uint64_t)(nl - buf) + 1;
		sp = strchr(buf + pos, ' ');
		colon = sp ? memrchr(buf + pos, ':', (size_t)(sp - (buf + pos))) : NULL;
		if (sp != NULL && colon != NULL) {
			*sp = '\0';
			*colon = '\0';
			it->group = xstrdup(buf + pos);
			it->msgid = xstrdup(sp + 1);
			if (number_parse(colon + 1, 1, UINT64_MAX, &it->number) < 0)
				it->state = 1;
		} else {
			it->state = 1; /* a malformed line: skip it */
		}
		count++;
		pos = (size_t)(nl - buf) + 1;
	}
	free(buf);
	return count;
}

static void
free_batch(struct item *items, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(items[i].group);
		free(items[i].msgid);
	}
}

/* The stored article, already in wire form (dot-stuffed, CRLF), plus the
 * terminator, appended to out. 0, or -1 when it is gone (expired). */
static int
append_article(int spoolfd, const struct item *it, struct buffer *out)
{
	struct spool_article a;
	size_t start = out->len, got = 0;

	if (spool_open_article(spoolfd, it->group, it->number, &a) < 0)
		return -1;
	char *dst = buffer_reserve(out, (size_t)a.size + 3);

	while (got < a.size) {
		ssize_t n = pread(a.fd, dst + got, (size_t)a.size - got, (off_t)got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(a.fd);
	if (got != a.size) {
		out->len = start;
		return -1;
	}
	memcpy(dst + got, ".\r\n", 3);
	buffer_commit(out, got + 3);
	return 0;
}

/* Streaming: CHECK the batch, then TAKETHIS what the peer wants, each
 * group of commands in one write. 0, or -1 when the connection failed. */
static int
send_streaming(struct peer *p, int spoolfd, struct item *items, size_t count)
{
	struct buffer out = BUFFER_INIT, line = BUFFER_INIT;
	int rc = -1;
	size_t i;

	for (i = 0; i < count; i++)
		if (items[i].state == 0)
			buffer_printf(&out, "CHECK %s\r\n", items[i].msgid);
	if (peer_write(p, buffer_head(&out), out.len) < 0)
		goto out;
	for (i = 0; i < count; i++) {
		if (items[i].state != 0)
			continue;
		int code = peer_reply(p, &line);

		if (code < 0)
			goto out;
		if (code == 438)
			items[i].state = 1;
		else if (code == 431 || code != 238)
			items[i].state = 2;
	}
	buffer_clear(&out);
	for (i = 0; i < count; i++) {
		if (items[i].state != 0)
			continue;
		size_t mark = out.len;

		buffer_printf(&out, "TAKETHIS %s\r\n", items[i].msgid);
		if (append_article(spoolfd, &items[i], &out) < 0) {
			out.len = mark;
			items[i].state = 1; /* expired before it could be sent */
		}
	}
	if (out.len > 0 && peer_write(p, buffer_head(&out), out.len) < 0)
		goto out;
	for (i = 0; i < count; i++) {
		if (items[i].state != 0)
			continue;
		int code = peer_reply(p, &line);

		if (code < 0)
			goto out;
		items[i].state = code == 239 || code == 439 ? 1 : 2;
		if (code != 239)
			log_msg(LOG_INFO, "feed %s: %s: %s", p->f->name, items[i].msgid,
			        buffer_cstr(&line));
	}
	rc = 0;
out:
	buffer_free(&out);
	buffer_free(&line);
	return rc;
}

static int
send_ihave(struct peer *p, int spoolfd, struct item *items, size_t count)
{
	struct buffer out = BUFFER_INIT, line = BUFFER_INIT;
	int rc = -1;

	for (size_t i = 0; i < count; i++) {
		if (items[i].state != 0)
			continue;
		int code = peer_command(p, &line, "IHAVE %s", items[i].msgid);

		if (code < 0)
			goto out;
		if (code == 435 || code == 437) {
			items[i].state = 1;
			continue;
		}
		if (code != 335) {
			items[i].state = 2;
			break;
		}
		buffer_clear(&out);
		if (append_article(spoolfd, &items[i], &out) < 0) {
			/* Gone meanwhile: an empty article makes the peer refuse. */
			buffer_puts(&out, ".\r\n");
		}
		if (peer_write(p, buffer_head(&out), out.len) < 0 ||
		    (code = peer_reply(p, &line)) < 0)
			goto out;
		items[i].state = code == 235 || code == 437 ? 1 : 2;
		if (items[i].state == 2)
			break;
	}
	rc = 0;
out:
	buffer_free(&out);
	buffer_free(&line);
	return rc;
}

static void
nap(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* After a failed attempt: wait (a stop request cuts it short), and twice
 * as long the next time, up to BACKOFF_MAX. */
static void
back_off(unsigned *backoff)
{
	for (unsigned t = 0; t < *backoff * 10 && !feeder_stop; t++)
		nap(100);
	*backoff = *backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : *backoff * 2;
}

static void
feeder_signals(void)
{
	struct sigaction sa = {0};

	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* The backlog gauge, whenever what is queued or answered moved. */
static void
report_backlog(const struct feed_def *f, const struct feed_queue *q, uint64_t end, uint64_t done)
{
	static uint64_t last_end = UINT64_MAX, last_done = UINT64_MAX;

	if (end == last_end && done == last_done)
		return;
	last_end = end;
	last_done = done;
	metrics_report_peer(M_NNTP_FEED_BACKLOG, f->index, METRIC_SET,
	                    q->fd >= 0 && end > done ? feed_queue_lines(q, done) : 0);
}

/* Does the queue hold lines after done? It is opened once it exists, and
 * again once read to its end when a compaction has replaced it. */
static int
queue_has_more(const struct feed_def *f, int spoolfd, struct feed_queue *q, uint64_t done)
{
	uint64_t end;

	if (q->fd < 0)
		(void)feed_queue_open(spoolfd, f->name, q);
	end = feed_queue_end(q);
	if (q->fd >= 0 && end <= done && feed_queue_replaced(spoolfd, f->name, q)) {
		feed_queue_close(q);
		(void)feed_queue_open(spoolfd, f->name, q);
		end = feed_queue_end(q);
	}
	report_backlog(f, q, end, done);
	return q->fd >= 0 && end > done;
}

/* Connect unless connected (ihave: how to offer); -1 after waiting out
 * the back-off when the peer cannot be reached. */
static int
ensure_connected(struct peer *p, const struct sockaddr_storage *addr, socklen_t addrlen,
                 unsigned *backoff, int *ihave)
{
	const struct feed_def *f = p->f;
	int mode;

	if (p->fd >= 0)
		return 0;
	mode = peer_open(p, addr, addrlen);
	if (mode < 0) {
		log_msg(LOG_NOTICE, "feed %s: %s port %s unreachable; retry in %us", f->name,
		        f->host, f->port, *backoff);
		back_off(backoff);
		return -1;
	}
	*ihave = mode == 1;
	log_msg(LOG_INFO, "feed %s: connected (%s%s)", f->name, *ihave ? "IHAVE" : "streaming",
	        p->ssl != NULL ? ", TLS verified" : "");
	return 0;
}

/* Offer one batch and record how far the peer has answered. 1 when
 * something is left for later or the connection failed (it is closed). */
static int
offer_batch(struct peer *p, int spoolfd, struct item *items, size_t count, uint64_t done, int ihave)
{
	int rc =
	    ihave ? send_ihave(p, spoolfd, items, count) : send_streaming(p, spoolfd, items, count);
	uint64_t upto = done;
	int later = 0;

	/* Progress only over the answered prefix: what the peer
	 * deferred, and everything after it, is offered again. */
	for (size_t i = 0; i < count && items[i].state == 1; i++)
		upto = items[i].end;
	for (size_t i = 0; i < count; i++)
		later |= items[i].state != 1;
	free_batch(items, count);
	if (upto > done && feed_write_done(spoolfd, p->f->name, upto) == 0)
		metrics_report_peer(M_NNTP_FEED_LAST_SUCCESS, p->f->index, METRIC_SET,
		                    (uint64_t)time(NULL));
	if (rc < 0) {
		log_msg(LOG_NOTICE, "feed %s: connection lost", p->f->name);
		peer_drop(p);
	}
	return rc < 0 || later;
}

int
feed_main(int spoolfd, const struct feed_def *f, const struct sockaddr_storage *addr,
          socklen_t addrlen, SSL_CTX *tls)
{
	struct peer p = {-1, BUFFER_INIT, f, tls, NULL};
	struct item *items = xcalloc(BATCH_LINES, sizeof(*items));
	struct feed_queue q = {.fd = -1};
	unsigned backoff = 1;
	int ihave = !f->streaming;

	feeder_signals();
	mkdirat(spoolfd, FEED_DIR, 0755);
	log_msg(LOG_INFO, "feed %s: feeder started for %s port %s", f->name, f->host, f->port);
	while (!feeder_stop) {
		uint64_t done = feed_read_done(spoolfd, f->name);
		size_t count;

		if (!queue_has_more(f, spoolfd, &q, done)) {
			nap(IDLE_POLL_MS);
			continue;
		}
		if (ensure_connected(&p, addr, addrlen, &backoff, &ihave) < 0)
			continue;
		/* What went before a compaction's first line was answered. */
		if (done < q.base)
			done = q.base;
		count = load_batch(&q, done, items);
		if (count == 0) {
			nap(IDLE_POLL_MS);
			continue;
		}
		if (offer_batch(&p, spoolfd, items, count, done, ihave))
			back_off(&backoff);
		else
			backoff = 1;
	}
	peer_close(&p);
	buffer_free(&p.in);
	free(items);
	feed_queue_close(&q);
	return 0;
}

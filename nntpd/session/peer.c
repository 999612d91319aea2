/* peer: articles offered by peers named in `peer=` lines: IHAVE (RFC 3977)
 * and MODE STREAM with CHECK and TAKETHIS (RFC 4644). The session reads the
 * article; the writer validates and stores it, as it does for POST. IHAVE
 * is one exchange with the writer at a time; TAKETHIS pipelines: up to
 * PEER_IN_FLIGHT articles go to the writer while the session reads the
 * next commands, and the answers leave in command order as the writer's
 * replies come back (CHECK's wait behind them). While the writer is
 * paused, each gets its "try later": IHAVE 436, CHECK 431, TAKETHIS
 * (which has none) 400 and the end of the session; the same 400 when the
 * writer is down or cannot store it now, and CHECK's 431 when the writer
 * is down or this session already has a full window in flight. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/metrics.h"
#include "common/core/wildmat.h"
#include "common/core/xmalloc.h"
#include "common/io/tls.h"
#include "common/priv/sandbox.h"
#include "nntpd/access.h"
#include "nntpd/options.h"
#include "nntpd/session/commands.h"
#include "nntpd/session/monreq.h"
#include "nntpd/store/article.h"
#include "nntpd/store/history.h"
#include "nntpd/store/spool.h"
#include "nntpd/writer/proto.h"

/* One answer owed to the peer, in command order: a line ready to go
 * (text), or a TAKETHIS whose writer reply is awaited (waiting), then
 * its code and the writer's text. */
struct owed {
	char *msgid;
	char *text;
	int code; /* 0: text is the whole line */
	int waiting;
};

struct peer_pipe {
	struct owed *q;
	size_t head, count, cap;
	size_t waiting; /* entries sent to the writer, reply not read */
	size_t next;    /* the oldest waiting entry */
	uint64_t bytes; /* article bytes sent, not yet counted (M_BYTES_IN) */
};

static struct peer_pipe *
pipe_of(struct nntp_session *s)
{
	if (s->pipe == NULL)
		s->pipe = xcalloc(1, sizeof(*s->pipe));
	return s->pipe;
}

size_t
peer_in_flight(const struct nntp_session *s)
{
	return s->pipe == NULL ? 0 : s->pipe->count - s->pipe->head;
}

static struct owed *
owe(struct nntp_session *s, const char *msgid)
{
	struct peer_pipe *p = pipe_of(s);

	if (p->head == p->count)
		p->head = p->count = p->next = 0;
	if (p->count == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 2 * PEER_IN_FLIGHT;
		p->q = xrealloc(p->q, p->cap * sizeof(*p->q));
	}
	p->q[p->count] = (struct owed){xstrdup(msgid), NULL, 0, 0};
	return &p->q[p->count++];
}

/* A reply in command order: at once when nothing is owed, else queued. */
static void peer_reply(struct nntp_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
peer_reply(struct nntp_session *s, const char *fmt, ...)
{
	struct buffer b = BUFFER_INIT;
	va_list ap;

	va_start(ap, fmt);
	buffer_vprintf(&b, fmt, ap);
	va_end(ap);
	if (peer_in_flight(s) == 0)
		reply(s, "%s", buffer_cstr(&b));
	else
		owe(s, "")->text = xstrdup(buffer_cstr(&b));
	buffer_free(&b);
}

int
session_is_peer(const struct nntp_session *s)
{
	return access_is_peer(&opt.peer, &s->peer, s->user);
}

static const char *
peer_denied(const struct nntp_session *s)
{
	return s->user == NULL && s->auth_helps ? R_AUTH_REQUIRED : R_DENIED;
}

/* 1 when msgid is in the history (stored or remembered), 0 otherwise
 * (including when the history cannot be read: the writer decides). */
static int
known(struct nntp_session *s, const char *msgid)
{
	struct history *h = session_history(s);

	return h != NULL && history_lookup(h, msgid, NULL) == 1;
}

/* Read the article and hand it to the writer; the writer's code, its
 * text in why. */
static int
take_article(struct nntp_session *s, enum submit_kind kind, const char *msgid, int refused,
             struct buffer *why)
{
	struct buffer text = BUFFER_INIT;
	int code;

	if (read_article(s, &text, opt.max_article_size) != 0) {
		buffer_printf(why, "Article too large (limit %lu octets)", opt.max_article_size);
		code = refused;
	} else {
		/* The writer applies the peer's patterns= (the rights its
		 * monitor sent): nothing to judge here. */
		code = monreq_submit(s, kind, msgid, buffer_head(&text), text.len, why);
	}
	log_msg(LOG_INFO, "%s %s: %d %s", kind == SUBMIT_IHAVE ? "ihave" : "takethis", msgid, code,
	        buffer_cstr(why));
	buffer_free(&text);
	return code;
}

/* TAKETHIS's answer for the writer's code. RFC 4644 gives TAKETHIS no
 * "try later" (439 would make the peer drop the article for good): RFC
 * 3977's 400, and the session ends; the peer offers the article again
 * later. */
static void
takethis_answer(struct nntp_session *s, const char *id, int code, const char *why)
{
	struct buffer paused = BUFFER_INIT;

	log_msg(LOG_INFO, "takethis %s: %d %s", id, code, why);
	if (code != 239 && spool_paused(s->spoolfd, &paused) == 1) {
		reply(s, "400 Paused: %s", buffer_cstr(&paused));
		conn_flush(&s->c);
		sandbox_exit(0);
	}
	buffer_free(&paused);
	if (code == writer_codes[SUBMIT_TAKETHIS].unavailable) {
		reply(s, "400 %s", why);
		conn_flush(&s->c);
		sandbox_exit(0);
	}
	if (code == 239)
		reply(s, "239 %s", id);
	else
		reply(s, "%d %s %s", code, id, why);
}

/* Every answer at the head of the queue that is ready, in order. */
static void
emit_ready(struct nntp_session *s)
{
	struct peer_pipe *p = s->pipe;

	while (p != NULL && p->head < p->count && !p->q[p->head].waiting) {
		struct owed *o = &p->q[p->head++];

		if (o->code == 0)
			reply(s, "%s", o->text);
		else
			takethis_answer(s, o->msgid, o->code, o->text ? o->text : "");
		free(o->msgid);
		free(o->text);
	}
}

/* The writer's reply to the oldest waiting TAKETHIS; when the connection
 * fails, every waiting one is "unavailable" (the peer offers them again;
 * what the writer stored meanwhile is a duplicate then). */
static void
read_one(struct nntp_session *s)
{
	struct peer_pipe *p = s->pipe;
	struct buffer why = BUFFER_INIT;
	int code;

	while (p->next < p->count && !p->q[p->next].waiting)
		p->next++;
	if (s->writer >= 0 && writer_read_reply(s->writer, &code, &why) == 0) {
		struct owed *o = &p->q[p->next];

		o->waiting = 0;
		o->code = code;
		o->text = xstrdup(buffer_cstr(&why));
		p->waiting--;
		buffer_free(&why);
		return;
	}
	buffer_free(&why);
	log_msg(LOG_ERR, "writer connection lost with %zu article(s) in flight", p->waiting);
	if (s->writer >= 0)
		close(s->writer);
	s->writer = -1;
	for (size_t i = p->next; i < p->count; i++)
		if (p->q[i].waiting) {
			p->q[i].waiting = 0;
			p->q[i].code = writer_codes[SUBMIT_TAKETHIS].unavailable;
			p->q[i].text = xstrdup("Writer unavailable, try again later");
		}
	p->waiting = 0;
}

/* The bytes sent since the last wait, in one report to the monitor
 * rather than one per article. */
static void
count_bytes(struct nntp_session *s)
{
	if (s->pipe != NULL && s->pipe->bytes > 0) {
		monreq_metric(s, M_BYTES_IN, s->pipe->bytes);
		s->pipe->bytes = 0;
	}
}

void
peer_drain(struct nntp_session *s)
{
	count_bytes(s);
	while (s->pipe != NULL && s->pipe->waiting > 0) {
		read_one(s);
		emit_ready(s);
	}
	emit_ready(s);
}

int
peer_wait(struct nntp_session *s)
{
	struct pollfd pf[2];
	int n;

	emit_ready(s);
	count_bytes(s);
	if (s->pipe == NULL || s->pipe->waiting == 0)
		return 0;
	if (conn_flush(&s->c) < 0)
		sandbox_exit(0);
	/* Bytes TLS has decrypted already are input too. */
	if (s->c.ssl != NULL && tls_pending(s->c.ssl))
		return 1;
	pf[0] = (struct pollfd){s->writer, POLLIN, 0};
	pf[1] = (struct pollfd){s->c.fd, POLLIN, 0};
	n = poll(pf, 2, WRITER_CLIENT_TIMEOUT * 1000);
	if (n < 0 && errno == EINTR)
		return 0;
	/* A writer silent that long is as good as gone. */
	if (n <= 0 || pf[0].revents != 0)
		read_one(s);
	emit_ready(s);
	return n > 0 && pf[1].revents != 0;
}

/* Hand a read TAKETHIS article to the writer without waiting for its
 * answer: at most PEER_IN_FLIGHT wait at a time. */
static void
send_article(struct nntp_session *s, const char *id, const struct buffer *text)
{
	struct peer_pipe *p = pipe_of(s);
	struct owed *o;

	if (p->waiting >= PEER_IN_FLIGHT) {
		read_one(s);
		emit_ready(s);
	}
	o = owe(s, id);
	if (monreq_send(s, SUBMIT_TAKETHIS, id, buffer_head(text), text->len, p->waiting == 0) <
	    0) {
		o->code = writer_codes[SUBMIT_TAKETHIS].unavailable;
		o->text = xstrdup("Writer unavailable, try again later");
		/* The earlier answers first, then this one's 400. */
		peer_drain(s);
		return;
	}
	o->waiting = 1;
	p->waiting++;
	p->bytes += text->len;
}

void
cmd_ihave(struct nntp_session *s, struct vector *args)
{
	const char *id = args->strings[1];
	struct buffer why = BUFFER_INIT;
	int code;

	if (!session_is_peer(s)) {
		reply(s, "%s", peer_denied(s));
		return;
	}
	if (!is_msgid(id)) {
		reply(s, "501 Bad message-id");
		return;
	}
	if (spool_paused(s->spoolfd, &why) == 1) {
		reply(s, "436 Paused: %s", buffer_cstr(&why));
		buffer_free(&why);
		return;
	}
	if (known(s, id)) {
		reply(s, "435 Duplicate");
		return;
	}
	reply(s, "335 Send it");
	code = take_article(s, SUBMIT_IHAVE, id, 437, &why);
	reply(s, "%d %s", code, buffer_cstr(&why));
	buffer_free(&why);
}

void
cmd_check(struct nntp_session *s, struct vector *args)
{
	const char *id = args->strings[1];
	struct buffer why = BUFFER_INIT;

	if (!session_is_peer(s)) {
		peer_reply(s, "%s", peer_denied(s));
		return;
	}
	if (!is_msgid(id)) {
		peer_reply(s, "438 %s Bad message-id", id);
		return;
	}
	if (known(s, id))
		peer_reply(s, "438 %s", id);
	else if (spool_paused(s->spoolfd, &why) == 1)
		peer_reply(s, "431 %s Paused: %s", id, buffer_cstr(&why));
	/* A full window: the writer is not keeping up with this feed, so
	 * offering more now would only stall it (RFC 4644 2.4: 431 is "try
	 * again later"). */
	else if (s->pipe != NULL && s->pipe->waiting >= PEER_IN_FLIGHT) {
		log_msg(LOG_NOTICE, "check %s: 431, writer busy (%zu in flight)", id,
		        s->pipe->waiting);
		peer_reply(s, "431 %s Writer busy, try again later", id);
	}
	/* A writer that is down would only refuse the TAKETHIS with 400 and
	 * the end of the feed. Replies in flight prove the connection. */
	else if ((s->pipe == NULL || s->pipe->waiting == 0) && !monreq_writer_up(s))
		peer_reply(s, "431 %s Writer unavailable, try again later", id);
	else
		peer_reply(s, "238 %s", id);
	buffer_free(&why);
}

void
cmd_takethis(struct nntp_session *s, struct vector *args)
{
	const char *id = args->strings[1];
	struct buffer text = BUFFER_INIT;
	int too_big = read_article(s, &text, opt.max_article_size);

	/* The article follows regardless: it is read first so its lines are
	 * not taken for commands. */
	if (!session_is_peer(s))
		peer_reply(s, "%s", peer_denied(s));
	else if (!is_msgid(id) || known(s, id))
		peer_reply(s, "439 %s %s", id, is_msgid(id) ? "Duplicate" : "Bad message-id");
	else if (too_big) {
		log_msg(LOG_INFO, "takethis %s: 439 too large", id);
		peer_reply(s, "439 %s Article too large (limit %lu octets)", id,
		           opt.max_article_size);
	} else
		send_article(s, id, &text);
	buffer_free(&text);
}

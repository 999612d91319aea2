/* monreq: the NNTP session worker's requests to its monitor: AUTHINFO, and
 * the writer connection the monitor makes with the session's rights (the
 * worker never connects to the writer itself: what it could send on its own
 * connection, the writer refuses). Runs in the worker, unprivileged. */
#include "nntpd/session/monreq.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/metrics.h"
#include "common/core/xmalloc.h"
#include "common/priv/privsep.h"

void
monreq_metric(struct nntp_session *s, unsigned series, uint64_t value)
{
	ps_send_metric(s->monitor, series, value);
}

int
monreq_login(struct nntp_session *s, const char *user, const char *pass, int *fatal)
{
	struct buffer who = BUFFER_INIT;

	if (ps_login(s->monitor, user, pass, fatal, &who, NULL) < 0) {
		buffer_free(&who);
		return -1;
	}
	free(s->user);
	s->user = buffer_cstr(&who) ? xstrdup(buffer_cstr(&who)) : NULL;
	buffer_free(&who);
	if (s->user == NULL || s->user[0] == '\0')
		die("monitor: login without a user name");
	log_set_prefix("s=%s c=%s u=%s", s->id, s->peer_text, s->user);
	/* The rights changed with the login: the next submission gets a
	 * connection the monitor made with the user's. */
	if (s->writer >= 0) {
		close(s->writer);
		s->writer = -1;
	}
	return 0;
}

/* PS_WRITER: a connection from the monitor into s->writer; 0 or -1. */
static int
ask_writer(struct nntp_session *s)
{
	struct ps_msg m;

	if (ps_send(s->monitor, PS_WRITER, NULL, 0, -1) < 0 || ps_recv(s->monitor, &m) < 0)
		die("monitor channel lost");
	if (m.type == PS_OK && m.fd >= 0) {
		s->writer = m.fd;
		return 0;
	}
	if (m.fd >= 0)
		close(m.fd);
	if (m.type != PS_OK && m.type != PS_FAIL)
		die("monitor: unexpected answer %u to a writer request", m.type);
	return -1;
}

int
monreq_writer_up(struct nntp_session *s)
{
	/* A kept connection the writer has closed (a restart, its idle
	 * timeout) reads EOF: the writer never speaks first. */
	if (s->writer >= 0) {
		struct pollfd p = {s->writer, POLLIN, 0};

		if (poll(&p, 1, 0) == 0)
			return 1;
		close(s->writer);
		s->writer = -1;
	}
	return ask_writer(s) == 0;
}

int
monreq_submit(struct nntp_session *s, enum submit_kind kind, const char *msgid, const char *article,
              size_t len, struct buffer *reply)
{
	int code = -1, sent = 0;

	monreq_metric(s, M_BYTES_IN, len);

	for (int attempt = 0; attempt < 2 && code < 0; attempt++) {
		int fresh = s->writer < 0;

		if (s->writer < 0 && ask_writer(s) < 0)
			break;
		code = writer_exchange(s->writer, kind, msgid, article, len, reply, &sent);
		if (code >= 0)
			break;
		close(s->writer);
		s->writer = -1;
		/* Retry only a kept connection that failed before the request
		 * was fully sent (the writer restarted, or closed it idle). */
		if (fresh || sent)
			break;
	}
	if (code < 0) {
		code = writer_codes[kind].unavailable;
		buffer_clear(reply);
		buffer_puts(reply, kind == SUBMIT_POST ? "Posting unavailable, try again later"
		                                       : "Writer unavailable, try again later");
		log_msg(LOG_ERR, "writer unavailable: %s refused with %d",
		        kind == SUBMIT_POST ? "post" : "feed", code);
	}
	return code;
}

int
monreq_send(struct nntp_session *s, enum submit_kind kind, const char *msgid, const char *article,
            size_t len, int may_retry)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int fresh = s->writer < 0;

		if (s->writer < 0 && ask_writer(s) < 0)
			break;
		if (writer_send_request(s->writer, kind, msgid, article, len) == 0)
			return 0;
		close(s->writer);
		s->writer = -1;
		if (fresh || !may_retry)
			break;
	}
	log_msg(LOG_ERR, "writer unavailable: feed refused");
	return -1;
}

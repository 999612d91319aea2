/* peer: articles offered by peers named in `peer=` lines: IHAVE (RFC 3977)
 * and MODE STREAM with CHECK and TAKETHIS (RFC 4644). The session reads the
 * article; the writer validates and stores it, as it does for POST. While
 * the writer is paused, each gets its "try later": IHAVE 436, CHECK 431,
 * TAKETHIS (which has none) 400 and the end of the session; the same 400
 * when the writer is down or cannot store it now, and CHECK's 431 when
 * the writer is down. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/log.h"
#include "common/core/wildmat.h"
#include "common/priv/sandbox.h"
#include "nntpd/access.h"
#include "nntpd/options.h"
#include "nntpd/session/commands.h"
#include "nntpd/session/monreq.h"
#include "nntpd/store/article.h"
#include "nntpd/store/history.h"
#include "nntpd/store/spool.h"
#include "nntpd/writer/proto.h"

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
		reply(s, "%s", peer_denied(s));
		return;
	}
	if (!is_msgid(id)) {
		reply(s, "438 %s Bad message-id", id);
		return;
	}
	if (known(s, id))
		reply(s, "438 %s", id);
	else if (spool_paused(s->spoolfd, &why) == 1)
		reply(s, "431 %s Paused: %s", id, buffer_cstr(&why));
	/* RFC 4644 2.4: 431 is "try again later"; a writer that is down
	 * would only refuse the TAKETHIS with 400 and the end of the feed. */
	else if (!monreq_writer_up(s))
		reply(s, "431 %s Writer unavailable, try again later", id);
	else
		reply(s, "238 %s", id);
	buffer_free(&why);
}

void
cmd_takethis(struct nntp_session *s, struct vector *args)
{
	const char *id = args->strings[1];

	if (!session_is_peer(s)) {
		struct buffer junk = BUFFER_INIT;

		/* The article follows regardless: read it so its lines are
		 * not taken for commands. */
		read_article(s, &junk, opt.max_article_size);
		buffer_free(&junk);
		reply(s, "%s", peer_denied(s));
		return;
	}
	if (!is_msgid(id) || known(s, id)) {
		struct buffer junk = BUFFER_INIT;

		read_article(s, &junk, opt.max_article_size);
		buffer_free(&junk);
		reply(s, "439 %s %s", id, is_msgid(id) ? "Duplicate" : "Bad message-id");
		return;
	}
	{
		struct buffer why = BUFFER_INIT, paused = BUFFER_INIT;
		int code = take_article(s, SUBMIT_TAKETHIS, id, 439, &why);

		/* RFC 4644 gives TAKETHIS no "try later" (439 would make the
		 * peer drop the article for good): RFC 3977's 400, and the
		 * session ends; the peer offers the article again later. The
		 * pause's reason has a buffer of its own: the writer's why is
		 * the 439's text. */
		if (code != 239 && spool_paused(s->spoolfd, &paused) == 1) {
			reply(s, "400 Paused: %s", buffer_cstr(&paused));
			conn_flush(&s->c);
			sandbox_exit(0);
		}
		if (code == writer_codes[SUBMIT_TAKETHIS].unavailable) {
			reply(s, "400 %s", buffer_cstr(&why));
			conn_flush(&s->c);
			sandbox_exit(0);
		}
		buffer_free(&paused);
		if (code == 239)
			reply(s, "239 %s", id);
		else
			reply(s, "%d %s %s", code, id, buffer_cstr(&why));
		buffer_free(&why);
	}
}

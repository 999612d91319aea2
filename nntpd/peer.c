/* peer: articles offered by peers named in `peer=` lines: IHAVE (RFC 3977)
 * and MODE STREAM with CHECK and TAKETHIS (RFC 4644). The session reads the
 * article; the writer validates and stores it, as it does for POST. */
#include <string.h>
#include <strings.h>

#include "cidr.h"
#include "commands.h"
#include "history.h"
#include "log.h"
#include "options.h"
#include "wildmat.h"
#include "writer.h"

#define USER_PREFIX "user:"

const char *
peer_check_rule(const char *rule)
{
	struct cidr c;

	if (strncmp(rule, USER_PREFIX, strlen(USER_PREFIX)) == 0)
		return rule[strlen(USER_PREFIX)] != '\0' ? NULL : "expected user:NAME";
	if (strpbrk(rule, " \t") != NULL || cidr_parse(rule, strlen(rule), &c) < 0)
		return "expected an address, address/prefix or user:NAME";
	return NULL;
}

int
session_is_peer(const struct nntp_session *s)
{
	struct addr_key key;
	struct cidr c;

	addr_key_of(&s->peer, &key);
	for (size_t i = 0; i < opt.peer.count; i++) {
		const char *r = opt.peer.strings[i];

		/* SECURITY: only configured peers may inject relayed
		 * articles (they skip the posting rules and keep their Path). */
		if (strncmp(r, USER_PREFIX, strlen(USER_PREFIX)) == 0) {
			if (s->user != NULL && wildmat_match(s->user, r + strlen(USER_PREFIX)))
				return 1;
		} else if (cidr_parse(r, strlen(r), &c) == 0 && cidr_match(&c, &key)) {
			return 1;
		}
	}
	return 0;
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
		code = writer_submit_from(s->spoolfd, kind, msgid, s->peer_text, buffer_head(&text),
		                          text.len, why);
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

	if (!session_is_peer(s)) {
		reply(s, "%s", peer_denied(s));
		return;
	}
	if (!is_msgid(id)) {
		reply(s, "438 %s Bad message-id", id);
		return;
	}
	reply(s, known(s, id) ? "438 %s" : "238 %s", id);
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
		struct buffer why = BUFFER_INIT;
		int code = take_article(s, SUBMIT_TAKETHIS, id, 439, &why);

		if (code == 239)
			reply(s, "239 %s", id);
		else
			reply(s, "%d %s %s", code, id, buffer_cstr(&why));
		buffer_free(&why);
	}
}

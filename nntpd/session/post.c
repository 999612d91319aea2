/* post: the POST command. The session reads and un-dot-stuffs the article
 * (bounded by max_article_size), checks the access rules' post wildmat, and
 * hands it to the writer, which validates, numbers and stores it. */
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/wildmat.h"
#include "common/priv/sandbox.h"
#include "nntpd/options.h"
#include "nntpd/session/commands.h"
#include "nntpd/session/monreq.h"
#include "nntpd/store/article.h"
#include "nntpd/store/spool.h"
#include "nntpd/writer/proto.h"

/* Read the article up to the terminating "." line. 0 read, 1 read but
 * over the limit (its bytes dropped as they came), and the session ends
 * when the client goes away mid-article. */
int
read_article(struct nntp_session *s, struct buffer *text, size_t limit)
{
	size_t saved = s->c.max_line;
	int too_big = 0;

	/* A single body line may be as long as a whole article. */
	s->c.max_line = limit + 2;
	for (;;) {
		char *line;
		size_t len;

		switch (conn_getline(&s->c, &line, &len)) {
		case CONN_LINE:
			if (len == 1 && line[0] == '.') {
				s->c.max_line = saved;
				return too_big;
			}
			if (len > 0 && line[0] == '.') { /* dot-unstuffing */
				line++;
				len--;
			}
			if (too_big)
				break;
			if (text->len + len + 2 > limit) {
				/* SECURITY: never buffer beyond the limit; keep
				 * reading to the terminator so the next command
				 * is a command again. */
				too_big = 1;
				buffer_free(text);
				break;
			}
			buffer_append(text, line, len);
			buffer_append(text, "\r\n", 2);
			break;
		case CONN_TOOLONG:
			too_big = 1;
			buffer_free(text);
			break;
		default:
			log_msg(LOG_NOTICE, "connection lost during POST; nothing posted");
			sandbox_exit(0);
		}
	}
}

/* The access rules' post wildmat for every group of Newsgroups; 0 or -1
 * with the refused group in why. Unparsable articles pass: the writer
 * refuses them with the precise reason. */
static int
post_allowed(struct nntp_session *s, const struct buffer *text, struct buffer *why)
{
	struct buffer err = BUFFER_INIT;
	struct vector groups = VECTOR_INIT;
	struct article a;
	int rc = 0;

	if (article_parse(&a, buffer_head(text), text->len, &err) < 0) {
		buffer_free(&err);
		return 0;
	}
	if (article_newsgroups(&a, &groups) == 0) {
		for (size_t i = 0; i < groups.count && rc == 0; i++) {
			/* SECURITY: the address rules limit where one may post. */
			if (!wildmat_match_list(groups.strings[i], s->post_groups)) {
				buffer_printf(why, "Posting to %s is not allowed from your address",
				              groups.strings[i]);
				rc = -1;
			}
		}
	}
	vector_free(&groups);
	article_free(&a);
	buffer_free(&err);
	return rc;
}

void
cmd_post(struct nntp_session *s, struct vector *args)
{
	struct buffer id = BUFFER_INIT, text = BUFFER_INIT, why = BUFFER_INIT;
	size_t limit = opt.max_article_size;
	int code;

	(void)args;
	if (!s->can_post) {
		reply(s, "%s",
		      s->user == NULL && s->auth_helps ? R_AUTH_REQUIRED
		                                       : "440 Posting not permitted");
		return;
	}
	/* Paused (nntpctl pause): RFC 3977's initial 440, with the reason,
	 * before the client sends the article. */
	if (spool_paused(s->spoolfd, &why) == 1) {
		reply(s, "440 Posting paused: %s", buffer_cstr(&why));
		goto out;
	}
	article_recommend_msgid(s->pathhost, &id);
	reply(s, "340 Ok, recommended Message-ID %s", buffer_cstr(&id));
	if (read_article(s, &text, limit) != 0) {
		reply(s, "441 Article too large (limit %zu octets)", limit);
		goto out;
	}
	if (text.len == 0) {
		reply(s, "441 Empty article");
		goto out;
	}
	if (post_allowed(s, &text, &why) < 0) {
		reply(s, "441 %s", buffer_cstr(&why));
		goto out;
	}
	code = monreq_submit(s, SUBMIT_POST, buffer_cstr(&id), buffer_head(&text), text.len, &why);
	if (code != 240 && code != 441)
		code = 440;
	reply(s, "%d %s", code, buffer_cstr(&why));
	log_msg(LOG_INFO, "post %s: %d %s", buffer_cstr(&id), code, buffer_cstr(&why));
out:
	buffer_free(&id);
	buffer_free(&text);
	buffer_free(&why);
}

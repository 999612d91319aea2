/* commands: the NNTP command table and loop. Dispatch, argument counts,
 * permissions, HELP and CAPABILITIES all come from the one table. */
#include "nntpd/session/commands.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/wildmat.h"
#include "common/core/xmalloc.h"
#include "common/priv/sandbox.h"
#include "nntpd/options.h"
#include "nntpd/store/article.h"
#include "nntpd/store/history.h"
#include "nntpd/store/reader.h"

#define UNKNOWN_MAX 50
#define MAX_WORDS 64

struct nntp_cmd {
	const char *name;
	void (*fn)(struct nntp_session *, struct vector *);
	int min_args, max_args; /* words after the command */
	unsigned flags;
	const char *help;
};

#define NEED_READ 0x01 /* 502 unless the access rules allow reading */
#define POSTING 0x02   /* POST: the session takes poster_nice */

/* The session steps down to steps (0..19, the options' bounds) below the
 * listener's priority (19 at most), unless it is that low already:
 * readers and posters cannot starve the writer and the feeds of CPU. */
static void
session_nice(struct nntp_session *s, unsigned long steps)
{
	int to = s->base_nice + (int)steps;

	if (to > 19)
		to = 19;
	if (!s->can_nice || to <= s->nice)
		return;
	/* SECURITY: the filter lets a session set only its own priority,
	 * and without CAP_SYS_NICE the kernel lets it only lower it. */
	if (setpriority(PRIO_PROCESS, 0, to) < 0)
		log_msg(LOG_DEBUG, "session nice %d: %m", to);
	s->nice = to;
}

void
reply(struct nntp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buffer_vprintf(&s->c.out, fmt, ap);
	va_end(ap);
	conn_append(&s->c, "\r\n", 2);
}

void
reply_end(struct nntp_session *s)
{
	conn_append(&s->c, ".\r\n", 3);
}

void
reply_data(struct nntp_session *s, const char *line, size_t len)
{
	reader_put_line(&s->c.out, line, len);
}

struct active *
session_groups(struct nntp_session *s)
{
	if (s->active == NULL) {
		s->active = xcalloc(1, sizeof(*s->active));
		active_init(s->active);
	}
	if (active_refresh(s->active, s->spoolfd) < 0) {
		log_msg(LOG_ERR, "cannot read the active file: %m");
		reply(s, R_SPOOL);
		return NULL;
	}
	return s->active;
}

int
group_visible(struct nntp_session *s, const char *name)
{
	/* SECURITY: groups outside the read wildmat do not exist for this
	 * client: every lookup and listing goes through here. */
	return s->can_read && wildmat_match_list(name, s->read_groups);
}

int
group_visible_cb(void *s, const char *name)
{
	return group_visible(s, name);
}

struct group *
selected_group(struct nntp_session *s)
{
	struct active *a;
	struct group *g;

	if (s->group == NULL) {
		reply(s, R_NO_GROUP);
		return NULL;
	}
	if ((a = session_groups(s)) == NULL)
		return NULL;
	g = active_lookup(a, s->group);
	if (g == NULL) { /* removed while selected */
		free(s->group);
		s->group = NULL;
		s->current = 0;
		reply(s, R_NO_GROUP);
	}
	return g;
}

int
is_msgid(const char *arg)
{
	return arg[0] == '<' && article_valid_msgid(arg, strlen(arg), 0);
}

struct history *
session_history(struct nntp_session *s)
{
	if (s->history == NULL) {
		s->history = history_open(s->spoolfd, 0);
		if (s->history == NULL)
			log_msg(LOG_ERR, "cannot open the history: %m");
	}
	return s->history;
}

static void cmd_help(struct nntp_session *s, struct vector *args);

static void
cmd_capabilities(struct nntp_session *s, struct vector *args)
{
	(void)args;
	reply(s, "101 Capability list:");
	reply(s, "VERSION 2");
	if (s->can_read) {
		reply(s, "READER");
		reply(s, "HDR");
		reply(s, "OVER MSGID");
		list_capability(s);
		if (opt.allow_newnews)
			reply(s, "NEWNEWS");
	}
	if (s->can_post)
		reply(s, "POST");
	if (session_is_peer(s)) {
		reply(s, "IHAVE");
		reply(s, "STREAMING");
	}
	capabilities_security(s);
	reply(s, "IMPLEMENTATION Postel nntpd");
	reply_end(s);
}

static void
cmd_mode(struct nntp_session *s, struct vector *args)
{
	if (strcasecmp(args->strings[1], "STREAM") == 0) {
		/* RFC 4644: streaming only for peers. */
		if (session_is_peer(s))
			reply(s, "203 Streaming permitted");
		else
			reply(s, "%s", denied_reply(s));
		return;
	}
	if (strcasecmp(args->strings[1], "READER") != 0) {
		reply(s, "501 Unknown MODE variant");
		return;
	}
	s->reader_mode = 1;
	reply(s, s->can_post ? "200 Posting allowed" : "201 Posting prohibited");
}

static void
cmd_date(struct nntp_session *s, struct vector *args)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];

	(void)args;
	strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", gmtime_r(&now, &tm));
	reply(s, "111 %s", stamp);
}

static void
cmd_quit(struct nntp_session *s, struct vector *args)
{
	(void)args;
	reply(s, "205 Bye!");
	conn_flush(&s->c);
	sandbox_exit(0);
}

static const struct nntp_cmd commands[] = {
    {"ARTICLE", cmd_article, 0, 1, NEED_READ, "[message-id|number]"},
    {"AUTHINFO", cmd_authinfo, 2, MAX_WORDS, 0, "USER name|PASS password"},
    {"BODY", cmd_body, 0, 1, NEED_READ, "[message-id|number]"},
    {"CAPABILITIES", cmd_capabilities, 0, 1, 0, "[keyword]"},
    {"CHECK", cmd_check, 1, 1, 0, "message-id"},
    {"COMPRESS", cmd_compress, 1, 1, 0, "DEFLATE"},
    {"DATE", cmd_date, 0, 0, 0, ""},
    {"GROUP", cmd_group, 1, 1, NEED_READ, "newsgroup"},
    {"HDR", cmd_hdr, 1, 2, NEED_READ, "header [message-id|range]"},
    {"HEAD", cmd_head, 0, 1, NEED_READ, "[message-id|number]"},
    {"HELP", cmd_help, 0, 0, 0, ""},
    {"IHAVE", cmd_ihave, 1, 1, 0, "message-id"},
    {"LAST", cmd_last, 0, 0, NEED_READ, ""},
    {"LIST", cmd_list, 0, 2, NEED_READ,
     "[ACTIVE|ACTIVE.TIMES|COUNTS|DISTRIB.PATS|HEADERS|MODERATORS|MOTD|NEWSGROUPS|"
     "OVERVIEW.FMT|SUBSCRIPTIONS [wildmat]]"},
    {"LISTGROUP", cmd_listgroup, 0, 2, NEED_READ, "[newsgroup [range]]"},
    {"MODE", cmd_mode, 1, 1, 0, "READER|STREAM"},
    {"NEWGROUPS", cmd_newgroups, 2, 3, NEED_READ, "[yy]yymmdd hhmmss [GMT]"},
    {"NEWNEWS", cmd_newnews, 3, 4, NEED_READ, "wildmat [yy]yymmdd hhmmss [GMT]"},
    {"NEXT", cmd_next, 0, 0, NEED_READ, ""},
    {"OVER", cmd_over, 0, 1, NEED_READ, "[range|message-id]"},
    {"POST", cmd_post, 0, 0, POSTING, ""},
    {"QUIT", cmd_quit, 0, 0, 0, ""},
    {"STARTTLS", cmd_starttls, 0, 0, 0, ""},
    {"STAT", cmd_stat, 0, 1, NEED_READ, "[message-id|number]"},
    {"TAKETHIS", cmd_takethis, 1, 1, 0, "message-id"},
    {"XGTITLE", cmd_xgtitle, 0, 1, NEED_READ, "[wildmat]"},
    {"XHDR", cmd_xhdr, 1, 2, NEED_READ, "header [message-id|range]"},
    {"XOVER", cmd_over, 0, 1, NEED_READ, "[range]"},
    {"XPAT", cmd_xpat, 3, MAX_WORDS, NEED_READ, "header message-id|range pattern..."},
    {NULL, NULL, 0, 0, 0, NULL},
};

static void
cmd_help(struct nntp_session *s, struct vector *args)
{
	(void)args;
	reply(s, "100 Legal commands");
	for (const struct nntp_cmd *c = commands; c->name != NULL; c++)
		reply(s, "  %s%s%s", c->name, c->help[0] ? " " : "", c->help);
	reply_end(s);
}

const char *
denied_reply(const struct nntp_session *s)
{
	return s->user == NULL && s->auth_helps ? R_AUTH_REQUIRED : R_DENIED;
}

static const struct nntp_cmd *
find_command(const char *name)
{
	for (const struct nntp_cmd *t = commands; t->name != NULL; t++)
		if (strcasecmp(t->name, name) == 0)
			return t;
	return NULL;
}

/* An HTTP request line: METHOD TARGET HTTP/x. HEAD and POST are NNTP
 * commands too, but never with an "HTTP/" third word. */
static int
is_http_request(const struct vector *args)
{
	static const char *const methods[] = {"GET",     "POST",    "HEAD",  "PUT",  "DELETE",
	                                      "CONNECT", "OPTIONS", "TRACE", "PATCH"};

	if (args->count != 3 || strncmp(args->strings[2], "HTTP/", 5) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(args->strings[0], methods[i]) == 0)
			return 1;
	return 0;
}

void
commands_dispatch(struct nntp_session *s, const char *line)
{
	struct vector args = VECTOR_INIT;
	const struct nntp_cmd *c;

	vector_split_space(&args, line, MAX_WORDS + 1);
	/* Only CHECK and TAKETHIS answer behind TAKETHIS articles still at
	 * the writer; anything else sees their results first. */
	if (peer_in_flight(s) > 0 &&
	    !(args.count == 2 && (strcasecmp(args.strings[0], "TAKETHIS") == 0 ||
	                          strcasecmp(args.strings[0], "CHECK") == 0)))
		peer_drain(s);
	if (args.count == 0) {
		reply(s, "500 Empty command");
		goto out;
	}
	if (is_http_request(&args)) {
		/* SECURITY: cross-protocol requests (a browser or proxy sent to
		 * the news port) end the session without a reply. */
		log_msg(LOG_NOTICE, "HTTP request on the NNTP port; closing");
		conn_flush(&s->c);
		sandbox_exit(0);
	}
	c = find_command(args.strings[0]);
	if (c == NULL) {
		reply(s, "500 Unknown command");
		if (++s->unknown_count >= UNKNOWN_MAX) {
			log_msg(LOG_NOTICE, "too many unknown commands; closing");
			reply(s, "400 Too many unknown commands");
			conn_flush(&s->c);
			sandbox_exit(0);
		}
		goto out;
	}
	if ((int)args.count - 1 < c->min_args || (int)args.count - 1 > c->max_args) {
		reply(s, "501 Syntax: %s%s%s", c->name, c->help[0] ? " " : "", c->help);
		goto out;
	}
	if ((c->flags & NEED_READ) && !s->can_read) {
		reply(s, "%s", denied_reply(s));
		goto out;
	}
	if (c->flags & NEED_READ)
		session_nice(s, opt.reader_nice);
	if (c->flags & POSTING)
		session_nice(s, opt.poster_nice);
	s->line = line;
	c->fn(s, &args);
	s->line = NULL;
out:
	vector_free(&args);
}

void
commands_run(struct nntp_session *s)
{
	session_implicit_tls(s);
	if (!s->can_read && !s->can_post && !s->auth_helps) {
		reply(s, "502 Access denied");
		conn_flush(&s->c);
		return;
	}
	reply(s, "%d Postel NNTP server ready (%s)", s->can_post ? 200 : 201,
	      s->can_post ? "posting ok" : "no posting");
	for (;;) {
		char *line;
		size_t len;
		enum conn_status st = conn_try_line(&s->c, &line, &len);

		/* Input ran dry with answers owed: send what is ready, wait for
		 * the writer or the peer, whichever comes first. */
		if (st == CONN_AGAIN && peer_in_flight(s) > 0 && peer_wait(s) == 0)
			continue;
		if (st == CONN_AGAIN)
			st = conn_getline(&s->c, &line, &len);
		switch (st) {
		case CONN_LINE:
			if (memchr(line, '\0', len) != NULL)
				reply(s, "501 NUL in command line");
			else
				commands_dispatch(s, line);
			break;
		case CONN_TOOLONG:
			reply(s, "501 Line too long");
			break;
		case CONN_TIMEOUT:
			reply(s, "400 Idle timeout, closing connection");
			conn_flush(&s->c);
			return;
		default:
			return;
		}
	}
}

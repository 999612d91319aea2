/* commands: the NNTP command table and loop. Dispatch, argument counts,
 * permissions, HELP and CAPABILITIES all come from the one table. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "log.h"
#include "options.h"
#include "session.h"
#include "vector.h"
#include "xmalloc.h"

#define UNKNOWN_MAX 50

struct nntp_cmd {
	const char *name;
	void (*fn)(struct nntp_session *, struct vector *);
	int min_args, max_args; /* words after the command */
	unsigned flags;
	const char *help;
};

#define NEED_READ 0x01

static void
reply(struct nntp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
reply(struct nntp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buffer_vprintf(&s->c.out, fmt, ap);
	va_end(ap);
	conn_append(&s->c, "\r\n", 2);
}

static void cmd_help(struct nntp_session *s, struct vector *args);

static void
cmd_capabilities(struct nntp_session *s, struct vector *args)
{
	(void)args;
	reply(s, "101 Capability list:");
	reply(s, "VERSION 2");
	reply(s, "IMPLEMENTATION Postel nntpd");
	if (s->can_read)
		reply(s, "READER");
	if (s->can_post)
		reply(s, "POST");
	reply(s, ".");
}

static void
cmd_mode(struct nntp_session *s, struct vector *args)
{
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
	exit(0);
}

static const struct nntp_cmd commands[] = {
	{"CAPABILITIES", cmd_capabilities, 0, 1, 0, "[keyword]"},
	{"DATE", cmd_date, 0, 0, 0, ""},
	{"HELP", cmd_help, 0, 0, 0, ""},
	{"MODE", cmd_mode, 1, 1, 0, "READER"},
	{"QUIT", cmd_quit, 0, 0, 0, ""},
	{NULL, NULL, 0, 0, 0, NULL},
};

static void
cmd_help(struct nntp_session *s, struct vector *args)
{
	(void)args;
	reply(s, "100 Legal commands");
	for (const struct nntp_cmd *c = commands; c->name != NULL; c++)
		reply(s, "  %s%s%s", c->name, c->help[0] ? " " : "", c->help);
	reply(s, ".");
}

static void
dispatch(struct nntp_session *s, const char *line)
{
	struct vector args = VECTOR_INIT;
	const struct nntp_cmd *c = NULL;

	vector_split_space(&args, line, 64);
	if (args.count == 0) {
		reply(s, "500 Empty command");
		goto out;
	}
	for (const struct nntp_cmd *t = commands; t->name != NULL; t++)
		if (strcasecmp(t->name, args.strings[0]) == 0)
			c = t;
	if (c == NULL) {
		reply(s, "500 Unknown command");
		if (++s->unknown_count >= UNKNOWN_MAX) {
			log_msg(LOG_NOTICE, "too many unknown commands; closing");
			reply(s, "400 Too many unknown commands");
			conn_flush(&s->c);
			exit(0);
		}
		goto out;
	}
	if ((int)args.count - 1 < c->min_args || (int)args.count - 1 > c->max_args) {
		reply(s, "501 Syntax: %s %s", c->name, c->help);
		goto out;
	}
	if ((c->flags & NEED_READ) && !s->can_read) {
		reply(s, "502 Permission denied");
		goto out;
	}
	c->fn(s, &args);
out:
	vector_free(&args);
}

void
session_access(struct nntp_session *s)
{
	struct access_result r;

	access_lookup(&opt.access, &s->peer, &r);
	s->can_read = r.can_read;
	s->can_post = r.can_post;
	s->read_groups = r.groups;
	s->post_groups = xstrdup(r.groups);
}

void
commands_run(struct nntp_session *s)
{
	if (!s->can_read && !s->can_post) {
		reply(s, "502 Access denied");
		conn_flush(&s->c);
		return;
	}
	reply(s, "%d Postel NNTP server ready (%s)", s->can_post ? 200 : 201,
	      s->can_post ? "posting ok" : "no posting");
	for (;;) {
		char *line;
		size_t len;

		switch (conn_getline(&s->c, &line, &len)) {
		case CONN_LINE:
			dispatch(s, line);
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

/* control: the writer's control verbs (nntpctl over ctl.sock): group
 * changes and expire, run between requests. */
#include "nntpd/writer/control.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/core/vector.h"
#include "common/core/xmalloc.h"
#include "nntpd/store/expire.h"
#include "nntpd/writer/proto.h"

static const struct vector *expire_rules;
static unsigned long expire_remember_days = 10;

void
writer_set_expire(const struct vector *rules, unsigned long remember_days)
{
	expire_rules = rules;
	expire_remember_days = remember_days;
}

#define CONTROL_MALFORMED "unknown or malformed command"
/* The verb and its arguments; the last word takes the rest of the line
 * (a group's description). */
#define CONTROL_MAX_WORDS 4

/* Group changes answer "done" (nntpctl prints nothing on success). */
static int
said_done(int rc, struct buffer *reply)
{
	if (rc == 0)
		buffer_puts(reply, "done");
	return rc;
}

static int
ctl_newgroup(struct spool *spool, int argc, char **argv, struct buffer *reply)
{
	char flag = argc >= 2 ? argv[1][0] : 'y';

	if (argc >= 2 && argv[1][1] != '\0')
		flag = '?';
	return said_done(
	    spool_newgroup(spool, argv[0], flag, argc == 3 ? argv[2] : "", "nntpctl", reply),
	    reply);
}

static int
ctl_rmgroup(struct spool *spool, int argc, char **argv, struct buffer *reply)
{
	(void)argc;
	return said_done(spool_rmgroup(spool, argv[0], reply), reply);
}

static int
ctl_changegroup(struct spool *spool, int argc, char **argv, struct buffer *reply)
{
	(void)argc;
	if (argv[1][1] != '\0') {
		buffer_puts(reply, CONTROL_MALFORMED);
		return -1;
	}
	return said_done(spool_changegroup(spool, argv[0], argv[1][0], reply), reply);
}

static int
ctl_expire(struct spool *spool, int argc, char **argv, struct buffer *reply)
{
	if (argc == 1 && strcmp(argv[0], "-n") != 0) {
		buffer_puts(reply, CONTROL_MALFORMED);
		return -1;
	}
	/* Between requests: sessions keep reading meanwhile, posts wait. */
	return expire_run(spool, expire_rules, expire_remember_days, time(NULL), argc == 1, reply);
}

static const struct control_verb verbs[] = {
    {"newgroup", 1, 3, ctl_newgroup, "newgroup NAME [y|n|m] [description]"},
    {"rmgroup", 1, 1, ctl_rmgroup, "rmgroup NAME"},
    {"changegroup", 2, 2, ctl_changegroup, "changegroup NAME y|n|m"},
    {"expire", 0, 1, ctl_expire, "expire [-n] (remove articles past their expire= retention)"},
};

const struct control_verb *
control_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

/* Commands from nntpctl: arity is checked here, for every verb. */
int
control_run(struct spool *spool, const char *cmd, size_t len, struct buffer *reply)
{
	struct vector f = VECTOR_INIT;
	char *line = xstrndup(cmd, len);
	const struct control_verb *v;
	int argc, rc = -1;

	vector_split_space(&f, line, CONTROL_MAX_WORDS);
	v = f.count > 0 ? control_lookup(f.strings[0]) : NULL;
	argc = (int)f.count - 1;
	if (v != NULL && argc >= v->min_args && argc <= v->max_args)
		rc = v->run(spool, argc, f.strings + 1, reply);
	else
		buffer_puts(reply, CONTROL_MALFORMED);
	free(line);
	vector_free(&f);
	return rc == 0 ? writer_codes[SUBMIT_CONTROL].ok : writer_codes[SUBMIT_CONTROL].refused;
}

/* control: the writer's control verbs (nntpctl over ctl.sock): group
 * changes, expire, pause and go, reload and status, run between requests. */
#include "nntpd/writer/control.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/core/log.h"
#include "common/core/vector.h"
#include "common/core/xmalloc.h"
#include "nntpd/store/article.h"
#include "nntpd/store/expire.h"
#include "nntpd/writer/ctlmsg.h"
#include "nntpd/writer/proto.h"

static const struct vector *expire_rules;
static unsigned long expire_remember_days = 10;

void
writer_set_expire(const struct vector *rules, unsigned long remember_days)
{
	expire_rules = rules;
	expire_remember_days = remember_days;
}

static const struct control_live *live;
static char *pause_reason; /* NULL: running */
static time_t pause_since;

void
control_set_live(const struct control_live *l)
{
	live = l;
}

const char *
control_paused(void)
{
	return pause_reason;
}

void
control_restore_pause(struct spool *spool)
{
	struct buffer why = BUFFER_INIT;

	if (spool_paused(spool_dirfd(spool), &why) == 1) {
		free(pause_reason);
		pause_reason = xstrdup(buffer_cstr(&why));
		pause_since = time(NULL);
		log_msg(LOG_NOTICE, "writer: paused (kept over a writer restart): %s",
		        pause_reason);
	}
	buffer_free(&why);
}

#define CONTROL_MALFORMED "unknown or malformed command"
#define CONTROL_EXPIRE_RUNNING "an expire is running (nntpctl status shows how far it is)"
#define CONTROL_NOT_LIVE "needs the running nntpd (no writer holds the spool)"

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
	const char *flags = argc >= 2 ? argv[1] : "y";

	return said_done(
	    spool_newgroup(spool, argv[0], flags, argc == 3 ? argv[2] : "", "nntpctl", reply),
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
	return said_done(spool_changegroup(spool, argv[0], argv[1], reply), reply);
}

static int
ctl_cancel(struct spool *spool, int argc, char **argv, struct buffer *reply)
{
	(void)argc;
	return ctlmsg_admin_cancel(spool, argv[0], reply);
}

/* The running writer's expire, worked in slices between batches. */
static struct expire_job *job;
static time_t job_since;

static int
ctl_expire(struct spool *spool, int argc, char **argv, struct buffer *reply)
{
	if (argc == 1 && strcmp(argv[0], "-n") != 0) {
		buffer_puts(reply, CONTROL_MALFORMED);
		return -1;
	}
	/* nntpctl on a spool no writer holds: all at once. */
	if (live == NULL)
		return expire_run(spool, expire_rules, expire_remember_days, time(NULL), argc == 1,
		                  reply);
	if (job != NULL) {
		buffer_puts(reply, CONTROL_EXPIRE_RUNNING);
		return -1;
	}
	job = expire_start(spool, expire_rules, expire_remember_days, time(NULL), argc == 1);
	job_since = time(NULL);
	log_msg(LOG_INFO, "writer: expire%s started", argc == 1 ? " -n" : "");
	return CONTROL_DEFERRED;
}

int
control_busy(void)
{
	return job != NULL;
}

int
control_work(double budget, struct buffer *reply)
{
	int rc;

	if (job == NULL || expire_step(job, expire_rules, budget))
		return 0;
	rc = expire_finish(job, reply);
	job = NULL;
	log_msg(rc < 0 ? LOG_ERR : LOG_INFO, "writer: expire done in %lld s: %s",
	        (long long)(time(NULL) - job_since), buffer_cstr(reply));
	return rc == 0 ? writer_codes[SUBMIT_CONTROL].ok : writer_codes[SUBMIT_CONTROL].refused;
}

/* History and overview anew from the article files. In the running
 * writer it runs between batches, whole: posts and feeds wait for it;
 * sessions keep reading (a group's overview is empty until its turn). */
static int
ctl_rebuild(struct spool *spool, int argc, char **argv, struct buffer *reply)
{
	int rc;

	(void)argc, (void)argv;
	if (job != NULL) {
		buffer_puts(reply, CONTROL_EXPIRE_RUNNING);
		return -1;
	}
	if (live != NULL)
		log_msg(LOG_NOTICE, "writer: rebuild of history and overview started");
	rc = spool_rebuild(spool, reply);
	if (live != NULL)
		log_msg(rc < 0 ? LOG_ERR : LOG_NOTICE, "writer: rebuild %s%s",
		        rc < 0 ? "failed: " : "done", rc < 0 ? buffer_cstr(reply) : "");
	return said_done(rc, reply);
}

/* SECURITY: the reason goes into NNTP reply lines (440, 436, 431): one
 * line of printable text, so it can never end a reply or start another. */
static int
valid_reason(const char *r, struct buffer *reply)
{
	if (strlen(r) > SPOOL_MAX_PAUSE_REASON) {
		buffer_printf(reply, "reason too long (at most %d bytes)", SPOOL_MAX_PAUSE_REASON);
		return 0;
	}
	for (const unsigned char *p = (const unsigned char *)r; *p != '\0'; p++)
		if (*p < 32 || *p == 127) {
			buffer_puts(reply, "the reason must be printable text on one line");
			return 0;
		}
	return 1;
}

static int
ctl_pause(struct spool *spool, int argc, char **argv, struct buffer *reply)
{
	(void)argc;
	if (live == NULL) {
		buffer_puts(reply, "pause " CONTROL_NOT_LIVE);
		return -1;
	}
	if (pause_reason != NULL) {
		buffer_printf(reply, "already paused: %s", pause_reason);
		return -1;
	}
	if (!valid_reason(argv[0], reply))
		return -1;
	/* Recorded first, so sessions answer "try later" from the same
	 * moment the writer refuses. */
	if (spool_set_paused(spool_dirfd(spool), argv[0]) < 0) {
		buffer_printf(reply, "cannot record the pause: %s", strerror(errno));
		return -1;
	}
	pause_reason = xstrdup(argv[0]);
	pause_since = time(NULL);
	log_msg(LOG_NOTICE, "writer: paused: %s", pause_reason);
	buffer_printf(reply, "paused: %s", pause_reason);
	return 0;
}

static int
ctl_go(struct spool *spool, int argc, char **argv, struct buffer *reply)
{
	(void)argc, (void)argv;
	if (live == NULL) {
		buffer_puts(reply, "go " CONTROL_NOT_LIVE);
		return -1;
	}
	if (pause_reason == NULL) {
		buffer_puts(reply, "not paused");
		return -1;
	}
	if (spool_set_paused(spool_dirfd(spool), NULL) < 0) {
		buffer_printf(reply, "cannot remove the pause: %s", strerror(errno));
		return -1;
	}
	log_msg(LOG_NOTICE, "writer: running again (was paused: %s)", pause_reason);
	buffer_printf(reply, "running (was paused: %s)", pause_reason);
	free(pause_reason);
	pause_reason = NULL;
	return 0;
}

static int
ctl_reload(struct spool *spool, int argc, char **argv, struct buffer *reply)
{
	(void)spool, (void)argc, (void)argv;
	if (live == NULL) {
		buffer_puts(reply, "reload " CONTROL_NOT_LIVE);
		return -1;
	}
	return live->reload(reply);
}

static int
ctl_status(struct spool *spool, int argc, char **argv, struct buffer *reply)
{
	(void)spool, (void)argc, (void)argv;
	if (live == NULL) {
		buffer_puts(reply, "status " CONTROL_NOT_LIVE);
		return -1;
	}
	if (pause_reason != NULL) {
		buffer_printf(reply, "writer: paused: %s\npaused since: ", pause_reason);
		article_format_date(pause_since, reply);
		buffer_puts(reply, "\n");
	} else {
		buffer_puts(reply, "writer: running\n");
	}
	live->status(reply);
	if (job != NULL) {
		struct buffer p = BUFFER_INIT;

		buffer_printf(reply, "expire: running for %lld s, %s\n",
		              (long long)(time(NULL) - job_since), expire_progress(job, &p));
		buffer_free(&p);
	}
	buffer_printf(reply, "expire rules: %zu\nhistory_remember: %lu\n",
	              expire_rules != NULL ? expire_rules->count : 0, expire_remember_days);
	return 0;
}

static const struct control_verb verbs[] = {
    {"newgroup", 1, 3, ctl_newgroup, "newgroup NAME [y|n|m|x|j|=GROUP] [description]", 1},
    {"rmgroup", 1, 1, ctl_rmgroup, "rmgroup NAME", 0},
    {"changegroup", 2, 2, ctl_changegroup, "changegroup NAME y|n|m|x|j|=GROUP", 0},
    {"cancel", 1, 1, ctl_cancel,
     "cancel MESSAGE-ID (remove an article from every group; a peer offering it again is "
     "refused)",
     0},
    {"rebuild", 0, 0, ctl_rebuild,
     "rebuild (history and overview anew from the article files; remembered IDs kept)", 0},
    {"expire", 0, 1, ctl_expire, "expire [-n] (remove articles past their expire= retention)", 0},
    {"pause", 1, 1, ctl_pause, "pause REASON (refuse posts and feeds with REASON; reading goes on)",
     1},
    {"go", 0, 0, ctl_go, "go (end a pause)", 0},
    {"reload", 0, 0, ctl_reload, "reload (the writer and feeders take the configuration anew)", 0},
    {"status", 0, 0, ctl_status, "status (paused or running, the writer's configuration)", 0},
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
	struct vector f = VECTOR_INIT, words = VECTOR_INIT;
	char *line = xstrndup(cmd, len);
	const struct control_verb *v;
	int argc, rc = -1;

	/* The verb, then its words: the last takes the rest of the line (a
	 * group's description, a pause's reason). */
	vector_split_space(&f, line, 2);
	v = f.count > 0 ? control_lookup(f.strings[0]) : NULL;
	if (v != NULL && f.count == 2 && v->max_args > 0)
		vector_split_space(&words, f.strings[1], (size_t)v->max_args + (v->rest ? 0 : 1));
	argc = (int)words.count;
	if (v != NULL && (f.count == 1 || v->max_args > 0) && argc >= v->min_args &&
	    argc <= v->max_args)
		rc = v->run(spool, argc, words.strings, reply);
	else
		buffer_puts(reply, CONTROL_MALFORMED);
	free(line);
	vector_free(&f);
	vector_free(&words);
	if (rc == CONTROL_DEFERRED)
		return 0;
	return rc == 0 ? writer_codes[SUBMIT_CONTROL].ok : writer_codes[SUBMIT_CONTROL].refused;
}

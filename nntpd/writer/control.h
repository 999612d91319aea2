/* control: the writer's control verbs, sent by nntpctl over ctl.sock. */
#ifndef NNTPD_WRITER_CONTROL_H
#define NNTPD_WRITER_CONTROL_H

#include <stddef.h>

#include "common/core/buffer.h"
#include "common/core/vector.h"
#include "nntpd/store/spool.h"

/* The expire= rules and history_remember days the control command
 * "expire [-n]" uses (none set: nothing expires, IDs kept 10 days). */
void writer_set_expire(const struct vector *rules, unsigned long remember_days);
/* Run one control command line on spool; the NNTP-style code (200 done,
 * 500 refused) and the text in reply, or 0: the answer comes from
 * control_work when the work it started is done (the running writer's
 * expire). */
int control_run(struct spool *spool, const char *cmd, size_t len, struct buffer *reply);
/* A verb's run returns it for "answered later". */
#define CONTROL_DEFERRED 2
/* Whether started work is left (an expire). */
int control_busy(void);
/* Work on it for about budget seconds: 0 while more is left, else the
 * code of the deferred answer, its text in reply. */
int control_work(double budget, struct buffer *reply);

/* One control verb: how many words may follow it, what runs them (0, or
 * -1 with the reason in reply) and the usage line nntpctl shows. With
 * rest, the last word takes the rest of the line, however many words. */
struct control_verb {
	const char *name;
	int min_args, max_args;
	int (*run)(struct spool *spool, int argc, char **argv, struct buffer *reply);
	const char *usage;
	int rest;
};

/* What only the running writer does (serve.c provides it). Without it
 * (nntpctl on a spool no writer holds) pause, go, reload and status are
 * refused: there is nothing to pause or reload. */
struct control_live {
	/* Have the listener re-read the configuration and take it: 0 with
	 * what changed in reply, or -1 with why not. */
	int (*reload)(struct buffer *reply);
	/* The running configuration, appended to out. */
	void (*status)(struct buffer *out);
};
void control_set_live(const struct control_live *live);

/* The reason while the writer is paused (nntpctl pause), else NULL:
 * then the writer refuses every article with the kind's "try later". */
const char *control_paused(void);
/* At writer start: resume a pause recorded in spool (a writer restarted
 * while paused stays paused; nntpd removes the record when it starts). */
void control_restore_pause(struct spool *spool);

/* The verb called name, or NULL. */
const struct control_verb *control_lookup(const char *name);

#endif

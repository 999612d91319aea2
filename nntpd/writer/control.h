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
 * 500 refused) and the text in reply. */
int control_run(struct spool *spool, const char *cmd, size_t len, struct buffer *reply);

/* One control verb: how many words may follow it, what runs them (0, or
 * -1 with the reason in reply) and the usage line nntpctl shows. */
struct control_verb {
	const char *name;
	int min_args, max_args;
	int (*run)(struct spool *spool, int argc, char **argv, struct buffer *reply);
	const char *usage;
};

/* The verb called name, or NULL. */
const struct control_verb *control_lookup(const char *name);

#endif

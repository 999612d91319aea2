/* expire: per-group retention (expire= rules, like INN's expire.ctl) and
 * the removal of articles past it, run by the writer between requests. */
#ifndef POSTEL_EXPIRE_H
#define POSTEL_EXPIRE_H

#include <stdint.h>
#include <time.h>

#include "common/core/buffer.h"
#include "common/core/vector.h"
#include "nntpd/store/spool.h"

#define EXPIRE_NEVER UINT64_MAX
#define EXPIRE_MAX_DAYS 100000

/* conf check of one expire= line: "WILDMAT DAYS" or "WILDMAT never". */
const char *expire_check_rule(const char *value);

/* Remove every article whose retention has passed in each group it is
 * filed in (a crosspost goes only when all its groups agree), mark its
 * overview records expired, raise low marks, turn its history entry into
 * a remembered one dated now, and drop remembered IDs older than
 * remember_days. dry_run: only report. The report (one line per group
 * touched, then totals) is appended to out. 0, or -1 with out saying why. */
int expire_run(struct spool *s, const struct vector *rules, unsigned long remember_days, time_t now,
               int dry_run, struct buffer *out);

/* Remove the article msgid now (a cancel, nntpctl cancel): its files in
 * every group, its overview records, low marks raised, and its history
 * entry turned into a remembered one dated now, so a peer offering it
 * again is refused. 1 removed, 0 when it is not here (why says so), -1
 * with why on an error. */
int expire_remove_msgid(struct spool *s, const char *msgid, time_t now, struct buffer *why);

#endif

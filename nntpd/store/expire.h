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

/* The same run in slices, so the writer serves requests between them:
 * expire_step works for about budget seconds (at least one overview read)
 * and returns 1 while there is more: the groups, then history's prune and
 * compaction (history_prune_step); expire_finish appends the report to
 * out and frees the job (what expire_run returns).
 * The order of removal (history, files, overview, then the low mark) is
 * the same, so a run killed at any point is finished by the next. Groups
 * may be added or removed between slices (rules: their retention). */
struct expire_job;
struct expire_job *expire_start(struct spool *s, const struct vector *rules,
                                unsigned long remember_days, time_t now, int dry_run);
int expire_step(struct expire_job *j, const struct vector *rules, double budget);
int expire_finish(struct expire_job *j, struct buffer *out);
/* "N articles, N links expired so far, group I of N", into out. */
const char *expire_progress(const struct expire_job *j, struct buffer *out);

/* Remove the article msgid now (a cancel, nntpctl cancel): its files in
 * every group, its overview records, low marks raised, and its history
 * entry turned into a remembered one dated now, so a peer offering it
 * again is refused. 1 removed, 0 when it is not here (why says so), -1
 * with why on an error. */
int expire_remove_msgid(struct spool *s, const char *msgid, time_t now, struct buffer *why);

#endif

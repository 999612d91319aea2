/* daylog: the writer's day log of article outcomes (accepted, refused and
 * why, sent to a moderator), one file per UTC day, read by nntpctl report. */
#ifndef POSTEL_DAYLOG_H
#define POSTEL_DAYLOG_H

#include <stddef.h>
#include <time.h>

#include "common/core/buffer.h"

/* Under the spool root:
 *   daylog/YYYY-MM-DD   the UTC day's log: the line "#postel-daylog 1\n",
 *       then one line per article the writer decided on, nine fields
 *       separated by tabs:
 *       TIME KIND OUTCOME REASON MSGID GROUPS POSTER HOST WHY
 *       TIME  decimal Unix seconds
 *       KIND  post | ihave | takethis
 *       OUTCOME accepted | refused | deferred | moderated
 *       REASON the refusal's reason (the articles_refused_total label), or -
 *       GROUPS the groups filed in (accepted) or named (others), comma
 *              separated, or -
 *       POSTER the authenticated user of a post, else the From address, or -
 *       HOST  the posting host (a post) or the peer (a feed), or -
 *       WHY   the reply's text (may hold spaces)
 *       No field is empty; tabs, control bytes and (but in WHY) spaces
 *       become '_'; each line is one write(2) with O_APPEND, so a line is
 *       whole or absent, but it is not fsync'd: it is statistics, and a
 *       crash may lose the last lines. Files older than the kept days go
 *       when the writer opens a new day's file. The directory is 0700 and
 *       its files 0600: the spool owner's, not the readers' group's. */
#define DAYLOG_DIR "daylog"
#define DAYLOG_MAGIC "#postel-daylog 1\n"
#define DAYLOG_MAX_FIELD 512
#define DAYLOG_MAX_GROUPS 2048
#define DAYLOG_DEFAULT_KEEP 7

enum daylog_field {
	DL_TIME,
	DL_KIND,
	DL_OUTCOME,
	DL_REASON,
	DL_MSGID,
	DL_GROUPS,
	DL_POSTER,
	DL_HOST,
	DL_WHY,
	DL_FIELDS
};

struct daylog_record {
	time_t when;
	const char *f[DL_FIELDS]; /* DL_TIME unused when formatting */
};

/* "daylog/YYYY-MM-DD" for t's UTC day (malloc'd). */
char *daylog_path(time_t t);
/* Parse "YYYY-MM-DD" to the Unix time of that UTC day's start; 0 or -1. */
int daylog_parse_date(const char *s, time_t *out);
/* Append r as one line to out (fields cleaned and bounded). */
void daylog_format(const struct daylog_record *r, struct buffer *out);
/* Split one line (without its '\n', modified in place) into r; 0, or -1
 * when it is not a whole valid record. */
int daylog_parse(char *line, struct daylog_record *r);

/* Writer side. Keep days' files (0: no day log); the default is
 * DAYLOG_DEFAULT_KEEP. */
void daylog_set_keep(unsigned days);
/* Append r (r->when decides the day) under spoolfd. A failure is logged
 * (once a day) and otherwise ignored: nothing waits on the day log. */
void daylog_append(int spoolfd, const struct daylog_record *r);
/* Close the current day's file (tests; the writer keeps it open). */
void daylog_close(void);

#endif

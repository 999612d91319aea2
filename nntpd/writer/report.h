/* report: the writer's side of nntpctl report: each article's outcome
 * goes into the spool's day log (nntpd/store/daylog.h). */
#ifndef NNTPD_WRITER_REPORT_H
#define NNTPD_WRITER_REPORT_H

#include <time.h>

#include "nntpd/store/article.h"
#include "nntpd/writer/proto.h"

/* One decided article: kind and the code it got, the refusal's series
 * (nntpd/metrics.h) when refused, the article as parsed (possibly no
 * headers), the connection's rights, its ID, where it was filed (the Xref
 * value, "" when not stored) and the reply's text. Never fails. */
void report_article(int spoolfd, enum submit_kind kind, int code, unsigned refused,
                    const struct article *a, const struct writer_rights *r, const char *msgid,
                    const char *xref, const char *why, time_t now);

#endif

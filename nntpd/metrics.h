/* metrics: nntpd's series after the common ones (common/core/metrics.h):
 * articles by outcome and reason and the writer's batches and commits
 * (reported by the writer), feed backlog, last success and connections
 * given up for want of verified TLS per peer (each feeder its own).
 * Neutral: the listener keeps them. */
#ifndef POSTEL_NNTPD_METRICS_H
#define POSTEL_NNTPD_METRICS_H

#include "common/core/metrics.h"

enum {
	M_NNTP_ACCEPTED = M_COMMON_COUNT,
	M_NNTP_REFUSED_RIGHTS,
	M_NNTP_REFUSED_TOO_LARGE,
	M_NNTP_REFUSED_MALFORMED,
	M_NNTP_REFUSED_DUPLICATE,
	M_NNTP_REFUSED_LOOP,
	M_NNTP_REFUSED_GROUPS,
	M_NNTP_REFUSED_STORAGE,
	M_NNTP_REFUSED_RATE,
	M_NNTP_REFUSED_TOO_OLD,
	M_NNTP_REFUSED_FILTER,
	M_NNTP_BATCH_SIZE,
	M_NNTP_COMMIT_SECONDS,
	M_NNTP_FEED_BACKLOG,
	M_NNTP_FEED_LAST_SUCCESS,
	M_NNTP_FEED_TLS_REFUSED,
	M_NNTP_END
};
extern const struct metric_def nntpd_metric_defs[M_NNTP_END - M_COMMON_COUNT];

#endif

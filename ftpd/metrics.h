/* metrics: ftpd's series after the common ones (common/core/metrics.h):
 * transfers by kind and outcome. Neutral: the listener keeps them, a
 * worker reports its own transfers through its monitor. */
#ifndef POSTEL_FTPD_METRICS_H
#define POSTEL_FTPD_METRICS_H

#include "common/core/metrics.h"

enum {
	M_FTP_DOWNLOAD_COMPLETE = M_COMMON_COUNT,
	M_FTP_DOWNLOAD_INCOMPLETE,
	M_FTP_UPLOAD_COMPLETE,
	M_FTP_UPLOAD_INCOMPLETE,
	M_FTP_END
};
extern const struct metric_def ftpd_metric_defs[M_FTP_END - M_COMMON_COUNT];

#endif

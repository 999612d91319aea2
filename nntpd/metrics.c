/* metrics: nntpd's own series, exported as postel_nntpd_NAME. */
#include "nntpd/metrics.h"

#define REFUSED "Articles the writer refused (posts and feeds), by reason."
#define R(reason)                                                                                  \
	{                                                                                          \
		"articles_refused_total", "reason=\"" reason "\"", REFUSED, METRIC_COUNTER,        \
		    METRIC_BY_WRITER, 0, 0, {0}, 1                                                 \
	}

const struct metric_def nntpd_metric_defs[M_NNTP_END - M_COMMON_COUNT] = {
    {"articles_accepted_total",
     "",
     "Articles the writer stored (posts and feeds).",
     METRIC_COUNTER,
     METRIC_BY_WRITER,
     0,
     0,
     {0},
     1},
    R("rights"),
    R("too_large"),
    R("malformed"),
    R("duplicate"),
    R("loop"),
    R("groups"),
    R("storage"),
    R("rate"),
    R("too_old"),
    R("filter"),
    /* Group commit: the articles one commit made durable. */
    {"writer_batch_size",
     "",
     "Articles per spool commit.",
     METRIC_HISTOGRAM,
     METRIC_BY_WRITER,
     0,
     8,
     {1, 2, 4, 8, 16, 32, 64, 128},
     1},
    /* Reported in microseconds, exported in seconds. */
    {"writer_commit_seconds",
     "",
     "Time to commit a batch of articles to the spool (syncs included).",
     METRIC_HISTOGRAM,
     METRIC_BY_WRITER,
     0,
     12,
     {100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 500000, 1000000},
     1e-6},
    {"feed_backlog_articles",
     "",
     "Articles queued for a feed peer and not yet answered.",
     METRIC_GAUGE,
     METRIC_BY_FEEDER,
     1,
     0,
     {0},
     1},
    {"feed_last_success_timestamp_seconds",
     "",
     "When a feed peer last answered a batch (Unix time; 0: never since start).",
     METRIC_GAUGE,
     METRIC_BY_FEEDER,
     1,
     0,
     {0},
     1},
    {"feed_tls_refused_total",
     "",
     "Connections to a tls feed peer given up before sending anything: STARTTLS refused, or "
     "the handshake or the certificate's verification failed.",
     METRIC_COUNTER,
     METRIC_BY_FEEDER,
     1,
     0,
     {0},
     1},
};

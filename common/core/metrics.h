/* metrics: the counter registry both daemons keep in their listener, the
 * fixed-size record their sessions, writer and feeders report with, and the
 * Prometheus text file (node_exporter's textfile collector) written from it. */
#ifndef POSTEL_METRICS_H
#define POSTEL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/buffer.h"

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

/* Who may report a series (a bit set): the listener counts some itself;
 * a session's monitor reports what it decided (logins); its worker only
 * its own transfers and refusals, through the monitor; the writer and the
 * feeders theirs. */
#define METRIC_BY_LISTENER 1u
#define METRIC_BY_MONITOR 2u
#define METRIC_BY_WORKER 4u
#define METRIC_BY_WRITER 8u
#define METRIC_BY_FEEDER 16u

/* What a record does to its series. */
enum metric_op { METRIC_ADD = 1, METRIC_SET, METRIC_OBSERVE };

#define METRIC_MAX_BUCKETS 16
#define METRIC_MAX_PEERS 64

/* One series: name (without the daemon's prefix), its fixed labels ("" or
 * `reason="bounce"`), help, type, who may report it. per_peer: one series
 * per feed peer, labelled peer="NAME" after the fixed labels. A histogram
 * has nbuckets upper bounds (ascending) in the reported unit; scale turns
 * that unit into the exported one (1e-6: microseconds into seconds). */
struct metric_def {
	const char *name, *labels, *help;
	enum metric_type type;
	unsigned by;
	int per_peer;
	size_t nbuckets;
	double buckets[METRIC_MAX_BUCKETS];
	double scale;
};

/* The series both daemons have, first in each daemon's table, in this
 * order (metrics_common_defs). */
enum {
	M_SESSIONS_OPEN,
	M_SESSIONS_TOTAL,
	M_LOGINS_OK,
	M_LOGINS_REFUSED,
	M_REFUSED_MAX_CLIENTS,
	M_REFUSED_MAX_PER_IP,
	M_REFUSED_BACKOFF,
	M_REFUSED_PROXY,
	M_REFUSED_BOUNCE,
	M_REFUSED_TLS,
	M_BYTES_IN,
	M_BYTES_OUT,
	M_COMMON_COUNT
};
extern const struct metric_def metrics_common_defs[M_COMMON_COUNT];

/* The wire form: 16 bytes, host order (both ends are one machine), one
 * write each, so records on a pipe never interleave. */
#define METRIC_MAGIC 0x504d5231u /* "PMR1" */
struct metric_rec {
	uint32_t magic;
	uint16_t series;
	uint8_t op;
	uint8_t peer; /* per_peer series: the peer's index; else 0 */
	uint64_t value;
};

struct metric_val {
	double value;                        /* counter, gauge; histogram: sum */
	uint64_t count;                      /* histogram: observations */
	uint64_t bucket[METRIC_MAX_BUCKETS]; /* histogram: per bucket, not cumulative */
};

struct metrics {
	const char *prefix;            /* "postel_ftpd_" */
	const struct metric_def *defs; /* the daemon's, after the common ones */
	size_t n;                      /* all series */
	struct metric_val *vals;       /* n * METRIC_MAX_PEERS for per-peer, else one each */
	const char *peer[METRIC_MAX_PEERS];
	size_t npeers;
};

/* A registry of the common series followed by the daemon's n in defs
 * (series M_COMMON_COUNT + i is defs[i]). */
void metrics_init(struct metrics *m, const char *prefix, const struct metric_def *defs, size_t n);
/* Name the feed peers (per_peer series), at most METRIC_MAX_PEERS. */
void metrics_set_peers(struct metrics *m, const char *const *names, size_t n);
/* Apply one record from a source allowed to report by (a METRIC_BY_ set).
 * SECURITY: the series must exist, be one by may report, and take op; a
 * per-peer one needs a named peer. 0, or -1 (nothing changed). */
int metrics_apply(struct metrics *m, const struct metric_rec *r, unsigned by);
/* Whether a record is well formed for a source allowed by (as
 * metrics_apply, without applying it). */
int metrics_valid(const struct metrics *m, const struct metric_rec *r, unsigned by);
/* The value of a plain series (tests, the listener's gauges). */
double metrics_get(const struct metrics *m, unsigned series, unsigned peer);
void metrics_set(struct metrics *m, unsigned series, unsigned peer, double v);
void metrics_add(struct metrics *m, unsigned series, unsigned peer, double v);
/* The Prometheus text form (HELP and TYPE once per name) into out. */
void metrics_format(const struct metrics *m, struct buffer *out);
/* Write it to path as path.tmp then rename (never half a file for a
 * reader), mode 0644. 0, or -1 with the reason in err. */
int metrics_write_file(const struct metrics *m, const char *path, struct buffer *err);
/* Fill a record. */
void metrics_rec(struct metric_rec *r, unsigned series, enum metric_op op, uint64_t value);

/* The reporting side, in a child the listener gave a channel (see
 * listener_source_open): fd is its write end (-1: none, reports go
 * nowhere). A record that cannot leave at once is dropped: counting never
 * blocks a session or the writer. */
void metrics_report_fd(int fd);
void metrics_report(unsigned series, enum metric_op op, uint64_t value);
void metrics_report_peer(unsigned series, unsigned peer, enum metric_op op, uint64_t value);
void metrics_report_rec(const struct metric_rec *r);
/* A worker's records go to its monitor instead: send gets up to
 * METRIC_HELD_MAX records at once (PS_METRIC). */
void metrics_report_via(void (*send)(const void *data, size_t len));
/* Hold records up to ms (0, the default: each leaves at once): counts of
 * one series add up, a gauge keeps its last value, and all leave together
 * when the oldest is ms old, METRIC_HELD_MAX are held, or on a flush. A
 * process that holds calls metrics_report_due before it blocks and
 * metrics_report_flush before it ends (sandbox_exit does). */
#define METRIC_HELD_MAX 64 /* 1 KiB: one pipe write below PIPE_BUF, never torn */
#define METRIC_HOLD_MS 1000 /* what session workers and the writer hold for */
void metrics_report_hold(unsigned ms);
void metrics_report_flush(void);
/* Send what is held if it is due; the timeout (ms, < 0: none) for a wait
 * about to start, shortened to when the held records fall due. */
int metrics_report_due(int timeout_ms);
/* In a new child: drop what the parent held (the parent sends it). */
void metrics_report_forget(void);
/* A session's monitor: the records its worker sent (PS_METRIC, one to
 * METRIC_HELD_MAX), each checked against the registry this process made
 * (metrics_init; the listener's, inherited), forwarded in one write. 0,
 * or -1: malformed, or one a worker may not report (the monitor ends the
 * session). */
int metrics_report_worker(const void *data, size_t len);
/* SECURITY: before a worker runs: it gets no channel to the listener. */
void metrics_report_close(void);

#endif

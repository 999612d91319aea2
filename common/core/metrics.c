/* metrics: the registry (one value per series, per peer where asked), the
 * checks every reported record passes, and the Prometheus text file. */
#include "common/core/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/xmalloc.h"

#define SESSION (METRIC_BY_MONITOR | METRIC_BY_WORKER)

const struct metric_def metrics_common_defs[M_COMMON_COUNT] = {
    [M_SESSIONS_OPEN] =
        {"sessions_open", "", "Sessions open now.", METRIC_GAUGE, METRIC_BY_LISTENER, 0, 0, {0}, 1},
    [M_SESSIONS_TOTAL] = {"sessions_total",
                          "",
                          "Sessions started.",
                          METRIC_COUNTER,
                          METRIC_BY_LISTENER,
                          0,
                          0,
                          {0},
                          1},
    [M_LOGINS_OK] = {"logins_total",
                     "outcome=\"ok\"",
                     "Logins, by outcome.",
                     METRIC_COUNTER,
                     METRIC_BY_MONITOR,
                     0,
                     0,
                     {0},
                     1},
    [M_LOGINS_REFUSED] = {"logins_total",
                          "outcome=\"refused\"",
                          "Logins, by outcome.",
                          METRIC_COUNTER,
                          METRIC_BY_MONITOR,
                          0,
                          0,
                          {0},
                          1},
    [M_REFUSED_MAX_CLIENTS] = {"refusals_total",
                               "reason=\"max_clients\"",
                               "Connections and requests refused, by reason.",
                               METRIC_COUNTER,
                               METRIC_BY_LISTENER,
                               0,
                               0,
                               {0},
                               1},
    [M_REFUSED_MAX_PER_IP] = {"refusals_total",
                              "reason=\"max_per_ip\"",
                              "Connections and requests refused, by reason.",
                              METRIC_COUNTER,
                              METRIC_BY_LISTENER,
                              0,
                              0,
                              {0},
                              1},
    [M_REFUSED_BACKOFF] = {"refusals_total",
                           "reason=\"backoff\"",
                           "Connections and requests refused, by reason.",
                           METRIC_COUNTER,
                           METRIC_BY_LISTENER,
                           0,
                           0,
                           {0},
                           1},
    [M_REFUSED_PROXY] = {"refusals_total",
                         "reason=\"proxy\"",
                         "Connections and requests refused, by reason.",
                         METRIC_COUNTER,
                         METRIC_BY_LISTENER,
                         0,
                         0,
                         {0},
                         1},
    [M_REFUSED_BOUNCE] = {"refusals_total",
                          "reason=\"bounce\"",
                          "Connections and requests refused, by reason.",
                          METRIC_COUNTER,
                          SESSION,
                          0,
                          0,
                          {0},
                          1},
    [M_REFUSED_TLS] = {"refusals_total",
                       "reason=\"tls_policy\"",
                       "Connections and requests refused, by reason.",
                       METRIC_COUNTER,
                       METRIC_BY_WORKER,
                       0,
                       0,
                       {0},
                       1},
    [M_BYTES_IN] = {"bytes_total",
                    "direction=\"in\"",
                    "Payload bytes from clients (uploads, posted and fed articles).",
                    METRIC_COUNTER,
                    METRIC_BY_WORKER,
                    0,
                    0,
                    {0},
                    1},
    [M_BYTES_OUT] = {"bytes_total",
                     "direction=\"out\"",
                     "Payload bytes to clients (downloads, articles read).",
                     METRIC_COUNTER,
                     METRIC_BY_WORKER,
                     0,
                     0,
                     {0},
                     1},
};

/* Series i: a common one, or the daemon's. */
/* The registry this process made, which metrics_report_worker checks against. */
static const struct metrics *checked;

static const struct metric_def *
def(const struct metrics *m, unsigned i)
{
	return i < M_COMMON_COUNT ? &metrics_common_defs[i] : &m->defs[i - M_COMMON_COUNT];
}

static struct metric_val *
val(const struct metrics *m, unsigned series, unsigned peer)
{
	return &m->vals[(size_t)series * METRIC_MAX_PEERS + peer];
}

void
metrics_init(struct metrics *m, const char *prefix, const struct metric_def *defs, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->prefix = prefix;
	m->defs = defs;
	m->n = M_COMMON_COUNT + n;
	m->vals = xcalloc(m->n * METRIC_MAX_PEERS, sizeof(*m->vals));
	checked = m;
}

void
metrics_set_peers(struct metrics *m, const char *const *names, size_t n)
{
	m->npeers = n < METRIC_MAX_PEERS ? n : METRIC_MAX_PEERS;
	for (size_t i = 0; i < m->npeers; i++)
		m->peer[i] = names[i];
}

void
metrics_rec(struct metric_rec *r, unsigned series, enum metric_op op, uint64_t value)
{
	memset(r, 0, sizeof(*r));
	r->magic = METRIC_MAGIC;
	r->series = (uint16_t)series;
	r->op = (uint8_t)op;
	r->value = value;
}

int
metrics_valid(const struct metrics *m, const struct metric_rec *r, unsigned by)
{
	const struct metric_def *d;

	if (r->magic != METRIC_MAGIC || r->series >= m->n)
		return 0;
	d = def(m, r->series);
	if ((d->by & by) == 0)
		return 0;
	if (d->per_peer ? r->peer >= m->npeers : r->peer != 0)
		return 0;
	switch (d->type) {
	case METRIC_COUNTER:
		return r->op == METRIC_ADD;
	case METRIC_GAUGE:
		return r->op == METRIC_SET || r->op == METRIC_ADD;
	case METRIC_HISTOGRAM:
		return r->op == METRIC_OBSERVE;
	}
	return 0;
}

int
metrics_apply(struct metrics *m, const struct metric_rec *r, unsigned by)
{
	const struct metric_def *d;
	struct metric_val *v;

	if (!metrics_valid(m, r, by))
		return -1;
	d = def(m, r->series);
	v = val(m, r->series, r->peer);
	if (r->op == METRIC_SET)
		v->value = (double)r->value;
	else if (r->op == METRIC_ADD)
		v->value += (double)r->value;
	else {
		size_t b = 0;

		while (b < d->nbuckets && (double)r->value > d->buckets[b])
			b++;
		if (b < d->nbuckets)
			v->bucket[b]++;
		v->count++;
		v->value += (double)r->value;
	}
	return 0;
}

double
metrics_get(const struct metrics *m, unsigned series, unsigned peer)
{
	return series < m->n && peer < METRIC_MAX_PEERS ? val(m, series, peer)->value : 0;
}

void
metrics_set(struct metrics *m, unsigned series, unsigned peer, double v)
{
	if (series < m->n && peer < METRIC_MAX_PEERS)
		val(m, series, peer)->value = v;
}

void
metrics_add(struct metrics *m, unsigned series, unsigned peer, double v)
{
	if (series < m->n && peer < METRIC_MAX_PEERS)
		val(m, series, peer)->value += v;
}

/* "{fixed,peer="NAME",extra}" or nothing when all three are empty. */
static void
put_labels(struct buffer *out, const char *fixed, const char *peer, const char *extra)
{
	const char *sep = "";

	if (fixed[0] == '\0' && peer == NULL && extra == NULL)
		return;
	buffer_puts(out, "{");
	if (fixed[0] != '\0') {
		buffer_puts(out, fixed);
		sep = ",";
	}
	if (peer != NULL) {
		buffer_printf(out, "%speer=\"", sep);
		for (const char *p = peer; *p; p++) {
			if (*p == '\\' || *p == '"')
				buffer_printf(out, "\\%c", *p);
			else if (*p == '\n')
				buffer_puts(out, "\\n");
			else
				buffer_append(out, p, 1);
		}
		buffer_puts(out, "\"");
		sep = ",";
	}
	if (extra != NULL)
		buffer_printf(out, "%s%s", sep, extra);
	buffer_puts(out, "}");
}

static void
put_histogram(const struct metrics *m, const struct metric_def *d, const struct metric_val *v,
              const char *peer, struct buffer *out)
{
	char le[64];
	uint64_t cum = 0;

	for (size_t b = 0; b < d->nbuckets; b++) {
		cum += v->bucket[b];
		snprintf(le, sizeof(le), "le=\"%.17g\"", d->buckets[b] * d->scale);
		buffer_printf(out, "%s%s_bucket", m->prefix, d->name);
		put_labels(out, d->labels, peer, le);
		buffer_printf(out, " %llu\n", (unsigned long long)cum);
	}
	buffer_printf(out, "%s%s_bucket", m->prefix, d->name);
	put_labels(out, d->labels, peer, "le=\"+Inf\"");
	buffer_printf(out, " %llu\n", (unsigned long long)v->count);
	buffer_printf(out, "%s%s_sum", m->prefix, d->name);
	put_labels(out, d->labels, peer, NULL);
	buffer_printf(out, " %.17g\n", v->value * d->scale);
	buffer_printf(out, "%s%s_count", m->prefix, d->name);
	put_labels(out, d->labels, peer, NULL);
	buffer_printf(out, " %llu\n", (unsigned long long)v->count);
}

static void
put_series(const struct metrics *m, unsigned i, unsigned p, struct buffer *out)
{
	const struct metric_def *d = def(m, i);
	const char *peer = d->per_peer ? m->peer[p] : NULL;
	const struct metric_val *v = val(m, i, p);

	if (d->type == METRIC_HISTOGRAM) {
		put_histogram(m, d, v, peer, out);
		return;
	}
	buffer_printf(out, "%s%s", m->prefix, d->name);
	put_labels(out, d->labels, peer, NULL);
	buffer_printf(out, " %.17g\n", v->value * d->scale);
}

void
metrics_format(const struct metrics *m, struct buffer *out)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};

	for (unsigned i = 0; i < m->n; i++) {
		const struct metric_def *d = def(m, i);

		/* Series of one name are neighbours in the table: one HELP and
		 * TYPE for them all. */
		if (i == 0 || strcmp(def(m, i - 1)->name, d->name) != 0)
			buffer_printf(out, "# HELP %s%s %s\n# TYPE %s%s %s\n", m->prefix, d->name,
			              d->help, m->prefix, d->name, types[d->type]);
		if (!d->per_peer)
			put_series(m, i, 0, out);
		for (unsigned p = 0; d->per_peer && p < m->npeers; p++)
			put_series(m, i, p, out);
	}
}

int
metrics_write_file(const struct metrics *m, const char *path, struct buffer *err)
{
	struct buffer text = BUFFER_INIT, tmp = BUFFER_INIT;
	int fd, rc = -1;

	metrics_format(m, &text);
	buffer_printf(&tmp, "%s.tmp", path);
	/* SECURITY: a fresh file, never through a link someone planted. */
	unlink(buffer_cstr(&tmp));
	fd = open(buffer_cstr(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		buffer_printf(err, "metrics_file %s: %s", buffer_cstr(&tmp), strerror(errno));
	else if (fchmod(fd, 0644) < 0 ||
	         write(fd, buffer_head(&text), text.len) != (ssize_t)text.len)
		buffer_printf(err, "metrics_file %s: %s", buffer_cstr(&tmp), strerror(errno));
	else {
		int closed = close(fd);

		fd = -1;
		if (closed < 0 || rename(buffer_cstr(&tmp), path) < 0)
			buffer_printf(err, "metrics_file %s: %s", path, strerror(errno));
		else
			rc = 0;
	}
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		unlink(buffer_cstr(&tmp));
	}
	buffer_free(&text);
	buffer_free(&tmp);
	return rc;
}

/* The reporting side. With holding on, records wait in held[] (a count
 * folded into the held count of its series, a gauge into its held value)
 * and leave together: one write (or one PS_METRIC) instead of one per
 * article, and one wakeup of the monitor and the listener. */
static int report_fd = -1;
static void (*report_send)(const void *data, size_t len);
static unsigned hold_ms;
static struct metric_rec held[METRIC_HELD_MAX];
static size_t nheld;
static double held_since; /* ms, CLOCK_MONOTONIC_COARSE: no syscall */

/* Records out to the monitor (report_send) or on the listener's pipe. */
static void
report_out(const void *data, size_t len)
{
	if (report_send != NULL)
		report_send(data, len);
	else if (report_fd >= 0 && write(report_fd, data, len) != (ssize_t)len && errno != EAGAIN)
		log_msg(LOG_ERR, "metrics: report lost: %s", strerror(errno));
}

static double
coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int
metrics_report_worker(const void *data, size_t len)
{
	struct metric_rec r[METRIC_HELD_MAX];

	if (len == 0 || len % sizeof(r[0]) != 0 || len > sizeof(r) || checked == NULL)
		return -1;
	memcpy(r, data, len);
	/* SECURITY: a worker reports only its own session's transfers,
	 * bytes and refusals, never a login or a number the listener keeps;
	 * one record it may not send refuses them all. */
	for (size_t i = 0; i < len / sizeof(r[0]); i++)
		if (!metrics_valid(checked, &r[i], METRIC_BY_WORKER))
			return -1;
	/* Already one message per held batch: straight on, in one write. */
	report_out(r, len);
	return 0;
}

void
metrics_report_fd(int fd)
{
	report_fd = fd;
	report_send = NULL;
}

void
metrics_report_via(void (*send)(const void *data, size_t len))
{
	report_send = send;
}

void
metrics_report_hold(unsigned ms)
{
	metrics_report_flush();
	hold_ms = ms;
}

void
metrics_report_flush(void)
{
	size_t len = nheld * sizeof(held[0]);

	if (nheld == 0)
		return;
	nheld = 0;
	report_out(held, len);
}

int
metrics_report_due(int timeout_ms)
{
	double left;

	if (nheld == 0)
		return timeout_ms;
	left = held_since + hold_ms - coarse_ms();
	if (left <= 0) {
		metrics_report_flush();
		return timeout_ms;
	}
	return timeout_ms < 0 || left < timeout_ms ? (int)left + 1 : timeout_ms;
}

void
metrics_report_rec(const struct metric_rec *r)
{
	size_t i;

	if (report_fd < 0 && report_send == NULL)
		return;
	if (hold_ms == 0) {
		report_out(r, sizeof(*r));
		return;
	}
	for (i = 0; i < nheld; i++)
		if (held[i].series == r->series && held[i].peer == r->peer && held[i].op == r->op &&
		    r->op != METRIC_OBSERVE)
			break;
	if (i < nheld && r->op == METRIC_ADD)
		held[i].value += r->value;
	else if (i < nheld)
		held[i].value = r->value; /* a gauge: the last value is the value */
	else {
		if (nheld == METRIC_HELD_MAX)
			metrics_report_flush();
		if (nheld == 0)
			held_since = coarse_ms();
		held[nheld++] = *r;
	}
	(void)metrics_report_due(0);
}

void
metrics_report_peer(unsigned series, unsigned peer, enum metric_op op, uint64_t value)
{
	struct metric_rec r;

	metrics_rec(&r, series, op, value);
	r.peer = (uint8_t)peer;
	metrics_report_rec(&r);
}

void
metrics_report(unsigned series, enum metric_op op, uint64_t value)
{
	metrics_report_peer(series, 0, op, value);
}

void
metrics_report_forget(void)
{
	nheld = 0;
}

void
metrics_report_close(void)
{
	nheld = 0;
	if (report_fd >= 0)
		close(report_fd);
	report_fd = -1;
}

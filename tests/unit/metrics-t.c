/* metrics-t: the registry's checks on every reported record (who may
 * report what, which op, which peer), histogram buckets, the Prometheus
 * text and file it writes, and the reporter that holds records. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "common/core/metrics.h"
#include "tap.h"

enum { M_HIST = M_COMMON_COUNT, M_PEER_GAUGE, M_END };

static const struct metric_def defs[M_END - M_COMMON_COUNT] = {
    {"commit_seconds",
     "",
     "Commit time.",
     METRIC_HISTOGRAM,
     METRIC_BY_WRITER,
     0,
     3,
     {100, 1000, 10000},
     1e-6},
    {"backlog", "", "Backlog.", METRIC_GAUGE, METRIC_BY_FEEDER, 1, 0, {0}, 1},
};

static struct metric_rec
rec(unsigned series, enum metric_op op, uint64_t v, unsigned peer)
{
	struct metric_rec r;

	metrics_rec(&r, series, op, v);
	r.peer = (uint8_t)peer;
	return r;
}

static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p != NULL && *p;
	     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

/* What the reporter sent: each call's records. */
static struct metric_rec sent[256];
static size_t nsent, sends;

static void
capture(const void *data, size_t len)
{
	memcpy(sent + nsent, data, len);
	nsent += len / sizeof(sent[0]);
	sends++;
}

static void
test_hold(void)
{
	int t;

	metrics_report_via(capture);
	metrics_report(M_BYTES_OUT, METRIC_ADD, 5);
	ok(sends == 1 && nsent == 1 && sent[0].value == 5, "not holding: each record at once");
	nsent = sends = 0;
	metrics_report_hold(60000);
	metrics_report(M_BYTES_OUT, METRIC_ADD, 5);
	metrics_report(M_BYTES_IN, METRIC_ADD, 1);
	metrics_report(M_BYTES_OUT, METRIC_ADD, 7);
	metrics_report_peer(M_PEER_GAUGE, 1, METRIC_SET, 3);
	metrics_report_peer(M_PEER_GAUGE, 1, METRIC_SET, 9);
	metrics_report_peer(M_PEER_GAUGE, 0, METRIC_SET, 4);
	metrics_report(M_HIST, METRIC_OBSERVE, 10);
	metrics_report(M_HIST, METRIC_OBSERVE, 20);
	ok(sends == 0, "holding: nothing sent before they fall due");
	t = metrics_report_due(-1);
	ok(t > 59000 && t <= 60001, "a wait without a timeout is cut to when they fall due (%d)", t);
	ok(metrics_report_due(500) == 500, "a shorter timeout stays");
	metrics_report_flush();
	ok(sends == 1 && nsent == 6, "a flush sends all in one (%zu records)", nsent);
	ok(sent[0].series == M_BYTES_OUT && sent[0].value == 12 && sent[1].value == 1,
	   "counts of one series add up");
	ok(sent[2].peer == 1 && sent[2].value == 9 && sent[3].peer == 0 && sent[3].value == 4,
	   "a gauge keeps its last value, per peer");
	ok(sent[4].op == METRIC_OBSERVE && sent[4].value == 10 && sent[5].value == 20,
	   "each observation is its own record");
	ok(metrics_report_due(-1) == -1, "nothing held: no timeout");
	nsent = sends = 0;
	for (unsigned i = 0; i < METRIC_HELD_MAX + 1; i++)
		metrics_report(M_HIST, METRIC_OBSERVE, i);
	ok(sends == 1 && nsent == METRIC_HELD_MAX, "a full hold leaves at once, one write");
	metrics_report_hold(0);
	ok(sends == 2 && nsent == METRIC_HELD_MAX + 1, "turning holding off sends what is held");
	nsent = sends = 0;
	metrics_report_hold(1);
	metrics_report(M_BYTES_OUT, METRIC_ADD, 1);
	usleep(30000);
	ok(metrics_report_due(1000) == 1000 && sends == 1, "a due hold leaves on the next check");
	metrics_report_hold(0);
	metrics_report_fd(-1);
}

int
main(void)
{
	static const char *const peers[] = {"a.example", "b\"x"};
	struct metrics m;
	struct metric_rec r;
	struct buffer text = BUFFER_INIT, err = BUFFER_INIT;
	char dir[] = "/tmp/metrics-t.XXXXXX", path[64];
	struct stat st;

	metrics_init(&m, "p_", defs, M_END - M_COMMON_COUNT);
	metrics_set_peers(&m, peers, 2);

	r = rec(M_BYTES_OUT, METRIC_ADD, 5, 0);
	ok(metrics_apply(&m, &r, METRIC_BY_WORKER) == 0, "a worker adds to its bytes");
	ok(metrics_apply(&m, &r, METRIC_BY_WORKER) == 0 && metrics_get(&m, M_BYTES_OUT, 0) == 10,
	   "counters add up");
	r = rec(M_LOGINS_OK, METRIC_ADD, 1, 0);
	ok(metrics_apply(&m, &r, METRIC_BY_WORKER) < 0, "a worker may not count a login");
	ok(metrics_apply(&m, &r, METRIC_BY_MONITOR) == 0, "its monitor may");
	r = rec(M_SESSIONS_TOTAL, METRIC_ADD, 1, 0);
	ok(metrics_apply(&m, &r, METRIC_BY_MONITOR | METRIC_BY_WORKER) < 0,
	   "a session may not touch what the listener counts");
	r = rec(M_BYTES_OUT, METRIC_SET, 0, 0);
	ok(metrics_apply(&m, &r, METRIC_BY_WORKER) < 0 && metrics_get(&m, M_BYTES_OUT, 0) == 10,
	   "a counter cannot be set back");
	r = rec(M_END, METRIC_ADD, 1, 0);
	ok(metrics_apply(&m, &r, ~0u) < 0, "no series past the table");
	r = rec(M_BYTES_OUT, METRIC_ADD, 1, 0);
	r.magic ^= 1;
	ok(metrics_apply(&m, &r, METRIC_BY_WORKER) < 0, "a record without the magic is refused");
	r = rec(M_BYTES_OUT, METRIC_ADD, 1, 1);
	ok(metrics_apply(&m, &r, METRIC_BY_WORKER) < 0, "a plain series takes no peer");
	r = rec(M_PEER_GAUGE, METRIC_SET, 7, 1);
	ok(metrics_apply(&m, &r, METRIC_BY_FEEDER) == 0 && metrics_get(&m, M_PEER_GAUGE, 1) == 7,
	   "a feeder sets its peer's gauge");
	r = rec(M_PEER_GAUGE, METRIC_SET, 7, 2);
	ok(metrics_apply(&m, &r, METRIC_BY_FEEDER) < 0, "no peer past the named ones");
	r = rec(M_HIST, METRIC_ADD, 7, 0);
	ok(metrics_apply(&m, &r, METRIC_BY_WRITER) < 0, "a histogram only observes");
	r = rec(M_HIST, METRIC_OBSERVE, 50, 0);
	metrics_apply(&m, &r, METRIC_BY_WRITER);
	r = rec(M_HIST, METRIC_OBSERVE, 5000, 0);
	metrics_apply(&m, &r, METRIC_BY_WRITER);
	r = rec(M_HIST, METRIC_OBSERVE, 50000, 0);
	ok(metrics_apply(&m, &r, METRIC_BY_WRITER) == 0, "the writer observes");

	metrics_format(&m, &text);
	{
		const char *t = buffer_cstr(&text), *first = strstr(t, "# TYPE p_refusals_total ");

		ok(has_line(t, "# TYPE p_refusals_total counter") && first != NULL &&
		       strstr(first + 1, "# TYPE p_refusals_total ") == NULL &&
		       has_line(
		           t,
		           "# HELP p_refusals_total Connections and requests refused, by reason."),
		   "one HELP and one TYPE line for the six refusals_total series");
	}
	ok(has_line(buffer_cstr(&text), "p_bytes_total{direction=\"out\"} 10"),
	   "a labelled counter");
	ok(has_line(buffer_cstr(&text), "p_commit_seconds_bucket{le=\"0.001\"} 1") &&
	       has_line(buffer_cstr(&text), "p_commit_seconds_bucket{le=\"0.01\"} 2") &&
	       has_line(buffer_cstr(&text), "p_commit_seconds_bucket{le=\"+Inf\"} 3") &&
	       has_line(buffer_cstr(&text), "p_commit_seconds_count 3"),
	   "histogram buckets are cumulative, in the exported unit");
	{
		const char *sum = strstr(buffer_cstr(&text), "p_commit_seconds_sum ");
		double v = sum != NULL ? strtod(sum + strlen("p_commit_seconds_sum "), NULL) : 0;

		ok(v > 0.05504999 && v < 0.05505001, "histogram sum in seconds (%.9f)", v);
	}
	ok(has_line(buffer_cstr(&text), "p_backlog{peer=\"b\\\"x\"} 7") &&
	       has_line(buffer_cstr(&text), "p_backlog{peer=\"a.example\"} 0"),
	   "one series per peer, the name escaped");

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/x.prom", dir);
	umask(077);
	ok(metrics_write_file(&m, path, &err) == 0 && stat(path, &st) == 0 &&
	       (st.st_mode & 0777) == 0644 && (size_t)st.st_size == text.len,
	   "the file is written whole, mode 0644 whatever the umask (%s)", buffer_cstr(&err));
	snprintf(path, sizeof(path), "%s/x.prom.tmp", dir);
	ok(access(path, F_OK) < 0, "no temporary left behind");
	unlink(path);
	snprintf(path, sizeof(path), "%s/x.prom", dir);
	unlink(path);
	rmdir(dir);
	buffer_free(&text);
	buffer_free(&err);
	free(m.vals);
	test_hold();
	return tap_done();
}

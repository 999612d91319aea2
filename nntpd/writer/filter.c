/* filter: the writer's end of the article filter: greeting, one request
 * and one strictly parsed answer per article, all under filter_timeout. */
#include "nntpd/writer/filter.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/core/log.h"

static struct {
	int configured;
	unsigned long timeout; /* seconds */
	int closed;
	int to, from; /* -1: none (down, or none configured) */
	unsigned long gen;
	int bodies;
	void (*kill_request)(unsigned long gen);
} flt = {0, 5, 0, -1, -1, 0, 0, NULL};

static int64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void
close_pipes(void)
{
	if (flt.to >= 0)
		close(flt.to);
	if (flt.from >= 0)
		close(flt.from);
	flt.to = flt.from = -1;
}

/* The filter broke its side: drop it, have the listener kill it (it may
 * hang and cannot see our close) and start the next one. */
static void
filter_failed(const char *why)
{
	log_msg(LOG_ERR,
	        "writer: filter %lu: %s; it is killed and restarted (filter_failure=%s "
	        "meanwhile)",
	        flt.gen, why, flt.closed ? "closed" : "open");
	close_pipes();
	if (flt.kill_request != NULL)
		flt.kill_request(flt.gen);
}

/* Wait for fd (events) until deadline; 1 ready, 0 timed out, -1 error. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		struct pollfd p = {fd, events, 0};
		int n;

		if (left <= 0)
			return 0;
		n = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n > 0)
			return 1;
	}
}

/* Write all of p or fail: 0, or -1 with what went wrong in *why. */
static int
write_all(const char *p, size_t n, int64_t deadline, const char **why)
{
	while (n > 0) {
		ssize_t k = write(flt.to, p, n);

		if (k > 0) {
			p += k;
			n -= (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno != EAGAIN) {
			*why = errno == EPIPE ? "it ended (broken pipe)" : "write failed";
			return -1;
		}
		int r = wait_fd(flt.to, POLLOUT, deadline);

		if (r <= 0) {
			*why = r == 0 ? "it read no article within filter_timeout" : "poll failed";
			return -1;
		}
	}
	return 0;
}

/* One line from the filter, nothing after it: 0 with the line (no
 * newline, NUL-terminated) in line, or -1 with why. */
static int
read_line(char *line, int64_t deadline, const char **why)
{
	size_t len = 0;

	for (;;) {
		int r = wait_fd(flt.from, POLLIN, deadline);
		ssize_t k;
		char *nl;

		if (r <= 0) {
			*why = r == 0 ? "no answer within filter_timeout" : "poll failed";
			return -1;
		}
		k = read(flt.from, line + len, FILTER_MAX_LINE - len);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0) {
			*why = k == 0 ? "it ended (end of its output)" : "read failed";
			return -1;
		}
		len += (size_t)k;
		nl = memchr(line, '\n', len);
		/* SECURITY: exactly one bounded line per question; a longer
		 * one, or a second one, means the two ends are out of step. */
		if (nl != NULL && nl != line + len - 1) {
			*why = "it sent more than one line";
			return -1;
		}
		if (nl != NULL) {
			*nl = '\0';
			return 0;
		}
		if (len == FILTER_MAX_LINE) {
			*why = "its line was too long";
			return -1;
		}
	}
}

void
filter_policy(unsigned long timeout, int closed)
{
	flt.timeout = timeout > 0 ? timeout : 5;
	flt.closed = closed;
}

void
filter_expect(int configured)
{
	flt.configured = configured;
}

void
filter_set_killer(void (*kill_request)(unsigned long gen))
{
	flt.kill_request = kill_request;
}

void
filter_adopt(unsigned long gen, int to, int from)
{
	char line[FILTER_MAX_LINE + 1];
	const char *why = NULL;

	close_pipes();
	flt.gen = gen;
	flt.configured = to >= 0 && from >= 0;
	if (!flt.configured) {
		if (to >= 0)
			close(to);
		if (from >= 0)
			close(from);
		log_msg(LOG_INFO, "writer: no article filter");
		return;
	}
	flt.to = to;
	flt.from = from;
	fcntl(to, F_SETFL, O_NONBLOCK);
	fcntl(from, F_SETFL, O_NONBLOCK);
	if (read_line(line, now_ms() + (int64_t)flt.timeout * 1000, &why) < 0) {
		filter_failed(why);
		return;
	}
	if (strcmp(line, FILTER_GREETING "headers") == 0)
		flt.bodies = 0;
	else if (strcmp(line, FILTER_GREETING "bodies") == 0)
		flt.bodies = 1;
	else {
		filter_failed("its greeting is not \"" FILTER_GREETING "headers|bodies\"");
		return;
	}
	log_msg(LOG_INFO, "writer: filter %lu ready (%s)", gen, flt.bodies ? "bodies" : "headers");
}

/* The answer line: accept, or reject with a printable reason. */
static enum filter_verdict
parse_answer(const char *line, struct buffer *why, const char **bad)
{
	if (strcmp(line, "accept") == 0)
		return FILTER_ACCEPT;
	if (strncmp(line, "reject ", 7) != 0 || line[7] == '\0') {
		*bad = "its answer is neither \"accept\" nor \"reject REASON\"";
		return FILTER_DOWN;
	}
	for (const char *p = line + 7; *p != '\0'; p++)
		if ((unsigned char)*p < 32 || (unsigned char)*p == 127) {
			*bad = "its reason holds a control character";
			return FILTER_DOWN;
		}
	buffer_puts(why, line + 7);
	return FILTER_REJECT;
}

/* filter_failure decides for an article the filter could not judge. */
static enum filter_verdict
down_verdict(struct buffer *why)
{
	if (!flt.closed)
		return FILTER_ACCEPT;
	buffer_puts(why, "Article filter unavailable, try again later");
	return FILTER_DOWN;
}

enum filter_verdict
filter_check(const char *kind, const char *msgid, const char *host, const char *text, size_t hlen,
             size_t blen, struct buffer *why)
{
	char line[FILTER_MAX_LINE + 1];
	struct buffer req = BUFFER_INIT;
	const char *bad = NULL;
	int64_t deadline = now_ms() + (int64_t)flt.timeout * 1000;
	enum filter_verdict v;

	if (!flt.configured)
		return FILTER_ACCEPT;
	if (flt.to < 0)
		return down_verdict(why);
	buffer_printf(&req, "article %s %s %s %zu %zu\n", kind, msgid,
	              host != NULL && *host != '\0' ? host : "-", hlen, blen);
	if (write_all(buffer_head(&req), req.len, deadline, &bad) < 0 ||
	    write_all(text, hlen, deadline, &bad) < 0 ||
	    (flt.bodies && write_all(text + hlen, blen, deadline, &bad) < 0) ||
	    read_line(line, deadline, &bad) < 0) {
		buffer_free(&req);
		filter_failed(bad);
		return down_verdict(why);
	}
	buffer_free(&req);
	v = parse_answer(line, why, &bad);
	if (bad != NULL) {
		filter_failed(bad);
		return down_verdict(why);
	}
	return v;
}

/* benchlib: what the load generators share: clock, connect, a buffered
 * line reader over plain or TLS sockets, latency percentiles, run control.
 * Header-only, because the Makefile builds each bench program from one .c file. */
#ifndef POSTEL_BENCHLIB_H
#define POSTEL_BENCHLIB_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 8192

/* Quick-ACK client: TCP_QUICKACK set at connect and again after every read
 * (the kernel clears it), so no reply waits on this end's delayed ACK. */
static int bench_quickack;

static inline double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* One connection: fd, optional TLS, and a read buffer. */
struct conn {
	int fd;
	SSL *ssl;
	char buf[65536];
	size_t start, end;
};

/* Connect to host:port from an ephemeral port. nodelay: what a real client
 * of this protocol does (curl: yes; news readers and feeders: no). */
static inline int
tcp_connect(const char *host, int port, int nodelay)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, host, &sa.sin_addr);
	if (nodelay)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bench_quickack)
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline void
conn_init(struct conn *c, int fd)
{
	c->fd = fd;
	c->ssl = NULL;
	c->start = c->end = 0;
}

static inline void
conn_close(struct conn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static inline ssize_t
conn_read(struct conn *c, void *p, size_t n)
{
	if (c->ssl != NULL) {
		int r = SSL_read(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);

		return r > 0 ? r : (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1);
	}
	for (;;) {
		ssize_t r = read(c->fd, p, n);

		if (r > 0 && bench_quickack) {
			int one = 1;

			setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		}
		if (r >= 0 || errno != EINTR)
			return r;
	}
}

static inline int
conn_write(struct conn *c, const void *p, size_t n)
{
	const char *q = p;

	while (n > 0) {
		ssize_t w;

		if (c->ssl != NULL) {
			int r = SSL_write(c->ssl, q, n > INT32_MAX ? INT32_MAX : (int)n);

			w = r > 0 ? r : -1;
		} else {
			w = write(c->fd, q, n);
			if (w < 0 && errno == EINTR)
				continue;
		}
		if (w <= 0)
			return -1;
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

static inline int
conn_printf(struct conn *c, const char *fmt, ...)
{
	char line[LINE_MAX_BYTES];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	return conn_write(c, line, (size_t)n);
}

/* One line without its CRLF into out (NUL-terminated); length, or -1 on
 * EOF or error. */
static inline ssize_t
conn_line(struct conn *c, char *out, size_t outsz)
{
	size_t len = 0;

	for (;;) {
		while (c->start < c->end) {
			char ch = c->buf[c->start++];

			if (ch == '\n') {
				if (len > 0 && out[len - 1] == '\r')
					len--;
				out[len] = '\0';
				return (ssize_t)len;
			}
			if (len + 1 < outsz)
				out[len++] = ch;
		}
		ssize_t r = conn_read(c, c->buf, sizeof(c->buf));

		if (r <= 0)
			return -1;
		c->start = 0;
		c->end = (size_t)r;
	}
}

/* Skip a dot-terminated multi-line block; number of lines before the
 * ".", -1 on error. Scans the buffer with memchr so the client stays cheap. */
static inline long
conn_skip_block(struct conn *c)
{
	long lines = 0;
	size_t cur = 0; /* length of the current line so far */
	char pre[2] = {0, 0};

	for (;;) {
		while (c->start < c->end) {
			char *p = c->buf + c->start;
			size_t n = c->end - c->start;
			char *nl = memchr(p, '\n', n);
			size_t seg = nl != NULL ? (size_t)(nl - p) : n;

			for (size_t i = 0; i < seg && cur + i < 2; i++)
				pre[cur + i] = p[i];
			cur += seg;
			if (nl == NULL) {
				c->start = c->end;
				break;
			}
			c->start += seg + 1;
			if ((cur == 1 && pre[0] == '.') ||
			    (cur == 2 && pre[0] == '.' && pre[1] == '\r'))
				return lines;
			lines++;
			cur = 0;
		}
		ssize_t r = conn_read(c, c->buf, sizeof(c->buf));

		if (r <= 0)
			return -1;
		c->start = 0;
		c->end = (size_t)r;
	}
}

/* Latency samples per worker, merged at the end. */
struct lat {
	double *v;
	size_t n, alloc;
};

static inline void
lat_add(struct lat *l, double x)
{
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 4096;
		l->v = realloc(l->v, l->alloc * sizeof(*l->v));
		if (l->v == NULL)
			die("out of memory");
	}
	l->v[l->n++] = x;
}

static inline int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static inline void
lat_merge(struct lat *into, const struct lat *from)
{
	for (size_t i = 0; i < from->n; i++)
		lat_add(into, from->v[i]);
}

/* The q-quantile in milliseconds (samples are seconds). */
static inline double
lat_q(struct lat *l, double q)
{
	if (l->n == 0)
		return 0;
	qsort(l->v, l->n, sizeof(*l->v), dbl_cmp);
	size_t i = (size_t)(q * (double)(l->n - 1) + 0.5);

	return l->v[i] * 1000.0;
}

/* A run ends at a wall-clock deadline that every worker reads. */
static volatile int stop_flag;
static double deadline;

static inline int
running(void)
{
	return !stop_flag && now_s() < deadline;
}

/* Hold: wait until stdin closes (the harness measures memory meanwhile). */
static inline void
hold_until_stdin_closes(void)
{
	char b[64];

	printf("ready\n");
	fflush(stdout);
	while (read(0, b, sizeof(b)) > 0)
		;
}

#endif

/* netio: the line reader never splits an overlong line into two commands:
 * past the limit it discards through the next LF and reports CONN_TOOLONG.
 * Compression sits between the buffers and the socket (or TLS). */
#include "common/io/netio.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/core/metrics.h"
#include "common/core/pace.h"
#include "common/core/xmalloc.h"

#define NETIO_READ 16384
/* Plaintext one fill may inflate: a few compressed bytes must not be able
 * to fill memory before the line reader gets to limit them. */
#define NETIO_INFLATE_MAX 65536

struct conn_zlib {
	z_stream in, out;
	struct buffer raw;  /* compressed input not yet inflated */
	struct buffer wire; /* deflated output on its way out */
	int more;           /* inflate may have output without new input */
};

static void (*status_report)(void);
static volatile sig_atomic_t status_wanted;

static void
on_status_signal(int sig)
{
	(void)sig;
	status_wanted = 1;
}

void
netio_status_signal(void (*report)(void))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_status_signal;
	sigaction(SIGUSR1, &sa, NULL);
	status_report = report;
}

void
netio_status_if_asked(void)
{
	if (status_wanted && status_report != NULL) {
		status_wanted = 0;
		status_report();
	}
}

void
conn_init(struct conn *c, int fd, size_t max_line, int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->max_line = max_line;
	c->timeout_ms = timeout_ms;
	buffer_init(&c->in);
	buffer_init(&c->out);
}

void
conn_free(struct conn *c)
{
	buffer_free(&c->in);
	buffer_free(&c->out);
	if (c->z != NULL) {
		inflateEnd(&c->z->in);
		deflateEnd(&c->z->out);
		buffer_free(&c->z->raw);
		buffer_free(&c->z->wire);
		free(c->z);
		c->z = NULL;
	}
}

int
conn_is_plain(const struct conn *c)
{
	return c->ssl == NULL && c->z == NULL;
}

int
conn_compress(struct conn *c)
{
	struct conn_zlib *z;

	if (c->z != NULL)
		return -1;
	z = xcalloc(1, sizeof(*z));
	/* Raw deflate (windowBits -15): no zlib header or checksum. */
	if (deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK) {
		free(z);
		return -1;
	}
	if (inflateInit2(&z->in, -15) != Z_OK) {
		deflateEnd(&z->out);
		free(z);
		return -1;
	}
	buffer_init(&z->raw);
	buffer_init(&z->wire);
	/* Whatever followed the command line is already compressed. */
	buffer_consume(&c->in, c->consumed);
	c->consumed = 0;
	buffer_append(&z->raw, buffer_head(&c->in), c->in.len);
	buffer_clear(&c->in);
	z->more = z->raw.len > 0;
	c->z = z;
	return 0;
}

static int
raw_write(struct conn *c, const void *p, size_t n)
{
	if (c->ssl != NULL)
		return tls_write(c->ssl, p, n) == (ssize_t)n ? 0 : -1;
	return write_all(c->fd, p, n);
}

/* Deflate the output buffer with a sync flush, so the peer can decode
 * every byte of this reply now, and write it. */
static int
deflate_out(struct conn *c)
{
	struct conn_zlib *z = c->z;
	const char *p = buffer_head(&c->out);
	size_t left = c->out.len;
	int rc = 0;

	while (rc == 0 && left > 0) {
		size_t n = left > (1U << 30) ? (1U << 30) : left;

		z->out.next_in = (Bytef *)p;
		z->out.avail_in = (uInt)n;
		do {
			z->out.next_out = (Bytef *)buffer_reserve(&z->wire, NETIO_READ);
			z->out.avail_out = NETIO_READ;
			int flush = n == left ? Z_SYNC_FLUSH : Z_NO_FLUSH;

			if (deflate(&z->out, flush) == Z_STREAM_ERROR)
				return -1;
			buffer_commit(&z->wire, NETIO_READ - z->out.avail_out);
		} while (z->out.avail_out == 0 || z->out.avail_in > 0);
		p += n;
		left -= n;
		rc = raw_write(c, buffer_head(&z->wire), z->wire.len);
		buffer_clear(&z->wire);
	}
	return rc;
}

int
conn_flush(struct conn *c)
{
	int rc = 0;

	if (c->out.len == 0)
		return 0;
	if (c->z != NULL)
		rc = deflate_out(c);
	else
		rc = raw_write(c, buffer_head(&c->out), c->out.len);
	buffer_clear(&c->out);
	return rc;
}

void
conn_append(struct conn *c, const void *p, size_t n)
{
	buffer_append(&c->out, p, n);
}

void
conn_printf(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buffer_vprintf(&c->out, fmt, ap);
	va_end(ap);
}

static void
conn_drop_input(struct conn *c)
{
	buffer_clear(&c->in);
	c->consumed = 0;
	c->discarding = 0;
}

enum conn_status
conn_try_line(struct conn *c, char **line, size_t *len)
{
	char *p, *nl;
	size_t n;

	buffer_consume(&c->in, c->consumed);
	c->consumed = 0;
	p = buffer_head(&c->in);
	nl = c->in.len ? memchr(p, '\n', c->in.len) : NULL;
	if (nl == NULL) {
		/* SECURITY: past the limit, keep nothing: the rest of this
		 * line must never be read as a command of its own. */
		if (c->in.len > c->max_line + 1) {
			c->discarding = 1;
			buffer_clear(&c->in);
		}
		return CONN_AGAIN;
	}
	n = (size_t)(nl - p);
	c->consumed = n + 1;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (c->discarding || n > c->max_line) {
		c->discarding = 0;
		return CONN_TOOLONG;
	}
	p[n] = '\0';
	*line = p;
	*len = n;
	return CONN_LINE;
}

/* One read from the socket (or TLS) into b, waiting at most timeout_ms. */
static enum conn_status
read_some(struct conn *c, struct buffer *b, int timeout_ms)
{
	ssize_t n;

	if (c->ssl == NULL || !tls_pending(c->ssl)) {
		struct pollfd pf = {.fd = c->fd, .events = POLLIN};
		double end = timeout_ms > 0 ? mono_seconds() + timeout_ms / 1e3 : 0;
		int rc, left = timeout_ms > 0 ? timeout_ms : -1, wait;

		for (;;) {
			/* Held counts (metrics_report_hold) leave while the
			 * session waits, at the latest when they fall due. */
			wait = metrics_report_due(left);
			rc = poll(&pf, 1, wait);
			if (rc < 0 && errno == EINTR)
				netio_status_if_asked();
			else if (rc != 0 || wait == left)
				break;
			if (end > 0 && (left = (int)((end - mono_seconds()) * 1e3)) <= 0)
				break;
		}
		if (rc == 0)
			return CONN_TIMEOUT;
		if (rc < 0)
			return CONN_ERROR;
	}
	for (;;) {
		char *tail = buffer_reserve(b, NETIO_READ);

		if (c->ssl != NULL)
			n = tls_read(c->ssl, tail, NETIO_READ);
		else
			n = read(c->fd, tail, NETIO_READ);
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (n == 0)
		return CONN_EOF;
	if (n < 0)
		return CONN_ERROR;
	buffer_commit(b, (size_t)n);
	return CONN_LINE;
}

/* Inflate what is buffered (reading more first if nothing is), at most
 * NETIO_INFLATE_MAX bytes of plaintext into the input buffer. */
static enum conn_status
inflate_some(struct conn *c, int timeout_ms)
{
	struct conn_zlib *z = c->z;
	enum conn_status st;
	int rc;

	if (!z->more && (st = read_some(c, &z->raw, timeout_ms)) != CONN_LINE)
		return st;
	z->in.next_in = (Bytef *)buffer_head(&z->raw);
	z->in.avail_in = (uInt)(z->raw.len > (1U << 30) ? (1U << 30) : z->raw.len);
	z->in.next_out = (Bytef *)buffer_reserve(&c->in, NETIO_INFLATE_MAX);
	z->in.avail_out = NETIO_INFLATE_MAX;
	rc = inflate(&z->in, Z_SYNC_FLUSH);
	buffer_consume(&z->raw, (size_t)((char *)z->in.next_in - buffer_head(&z->raw)));
	buffer_commit(&c->in, NETIO_INFLATE_MAX - z->in.avail_out);
	if (rc == Z_STREAM_END) /* the peer ended its stream: nothing more */
		return CONN_EOF;
	if (rc != Z_OK && rc != Z_BUF_ERROR) {
		errno = EPROTO;
		return CONN_ERROR;
	}
	z->more = z->raw.len > 0 || z->in.avail_out == 0;
	return CONN_LINE;
}

enum conn_status
conn_fill(struct conn *c, int timeout_ms)
{
	buffer_consume(&c->in, c->consumed);
	c->consumed = 0;
	if (c->z != NULL)
		return inflate_some(c, timeout_ms);
	return read_some(c, &c->in, timeout_ms);
}

enum conn_status
conn_getline(struct conn *c, char **line, size_t *len)
{
	for (;;) {
		enum conn_status st = conn_try_line(c, line, len);

		if (st != CONN_AGAIN)
			return st;
		if (conn_flush(c) < 0)
			return CONN_ERROR;
		st = conn_fill(c, c->timeout_ms);
		if (st != CONN_LINE)
			return st;
	}
}

int
conn_start_tls(struct conn *c, SSL_CTX *ctx, int timeout_ms, const unsigned char *sid,
               unsigned sid_len)
{
	if (conn_flush(c) < 0)
		return -1;
	/* SECURITY: whatever the client pipelined in clear after the command
	 * is dropped, never run as if it had come through TLS. */
	conn_drop_input(c);
	c->ssl = tls_accept(ctx, c->fd, timeout_ms, sid, sid_len);
	return c->ssl != NULL ? 0 : -1;
}
